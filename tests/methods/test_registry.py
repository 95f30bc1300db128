"""The method registry: its lazy index, kernel kinds, names and aliases."""

from __future__ import annotations

import pytest

from mrkit.errors import InputError, UnknownMethodError
from mrkit.methods import DEFAULT_ORDER, INDEX, REGISTRY, available, default_methods, get_method


def test_index_names_every_method_and_its_module() -> None:
    names = available()
    assert set(INDEX) == set(names)
    for name in names:
        assert REGISTRY[name].func.__module__ == f"mrkit.methods.{INDEX[name]}"


def test_default_methods_are_twosamplemrs_and_flagged() -> None:
    assert default_methods() == list(DEFAULT_ORDER)
    flagged = {m.name for m in REGISTRY.values() if m.default}
    assert flagged <= set(DEFAULT_ORDER)


def test_kernel_kinds() -> None:
    available()
    kinds = {name: spec.kernel for name, spec in REGISTRY.items()}
    assert {n for n, k in kinds.items() if k == "segment"} == {
        "wald_ratio",
        "ivw",
        "ivw_fe",
        "ivw_mre",
        "egger",
    }
    assert {n for n, k in kinds.items() if k == "rows"} == {
        "simple_median",
        "weighted_median",
        "penalised_weighted_median",
        "simple_mode",
        "weighted_mode",
        "penalised_mode",
        "simple_mode_nome",
        "weighted_mode_nome",
    }
    assert get_method("wald_ratio").max_snps == 1


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("mr_ivw", "ivw"),
        ("mr_egger_regression", "egger"),
        ("mr_weighted_median", "weighted_median"),
        ("mr_weighted_mode", "weighted_mode"),
        ("mr_simple_mode", "simple_mode"),
        ("mr_wald_ratio", "wald_ratio"),
        ("MR-Egger", "egger"),
        ("mr.raps", "raps"),
    ],
)
def test_twosamplemr_names(alias: str, name: str) -> None:
    assert get_method(alias).name == name


def test_unknown_name_suggests() -> None:
    with pytest.raises(UnknownMethodError, match=r"did you mean `weighted_median`"):
        get_method("weigthed_median")


def test_unknown_option_lists_valid_ones() -> None:
    spec = get_method("ivw")
    with pytest.raises(InputError, match=r"unknown option `modle` .*did you mean `model`.*alpha"):
        spec([0.1, 0.2], [0.01, 0.01], [0.02, 0.05], [0.01, 0.01], modle="fixed")
