"""Reproducible by default: every random method has a fixed default seed, recorded."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REFERENCE, ref_arrays, requires_shared
from mrkit.methods import REGISTRY, available, get_method

pytestmark = requires_shared


def test_every_stochastic_method_has_a_fixed_default_seed():
    available()
    for name, spec in REGISTRY.items():
        if spec.stochastic:
            seed = spec.options.get("seed")
            assert isinstance(seed, int), f"{name}: default seed {seed!r}"


@pytest.mark.parametrize("method", ["egger_bootstrap", "presso"])
def test_one_pair_functions_repeat_without_a_seed(method):
    a = ref_arrays("mr_ldlc_chd")
    spec = get_method(method)
    opts = {"n_distributions": 200} if method == "presso" else {"nboot": 200}
    r1, r2 = spec(*a, **opts), spec(*a, **opts)
    assert r1.to_record() == r2.to_record()
    assert r1.extras["seed"] == spec.options["seed"]


def test_mrkit_mr_twice_without_seed_is_byte_identical(tmp_path):
    """`mrkit mr TABLE --methods ...` (no --seed) twice, in two processes: same bytes,
    and the seed used is in the JSON's parameters and the random methods' rows."""
    table = REFERENCE / "data" / "mr_ldlc_chd.csv"
    methods = "weighted_median,simple_mode,weighted_mode,egger_bootstrap,presso"
    outs = []
    for i in range(2):
        out = tmp_path / f"run{i}.json"
        argv = [sys.executable, "-m", "mrkit", "mr", str(table), "--methods", methods]
        argv += ["--nboot", "200", "--set", "presso.n_distributions=200", "--json", str(out)]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    d = json.loads(outs[0])
    assert d["parameters"]["seed"] == 1
    rows = {r["method"]: r for r in d["estimates"]}
    for m in ("weighted_median", "egger_bootstrap", "presso"):
        assert rows[m]["seed"] == 1
