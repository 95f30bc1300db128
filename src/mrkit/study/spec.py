"""The study file: a TOML description of a whole MR study, validated with pydantic.

Every key is checked: unknown keys and bad values are errors that name the key
(``analysis.correction: must be one of bonferroni, holm, fdr_bh``). Relative paths
are resolved against the study file's folder. ``[analysis.options.METHOD]``
tables are checked against the method's own options
(:func:`mrkit.methods.method_options`) and stored under the method's canonical
name. See ``docs/study-file.md``.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from mrkit.errors import InputError, MrkitError, StudyError, UnknownMethodError
from mrkit.estimate import Pairs, analyse
from mrkit.methods import get_method, method_options, resolve
from mrkit.study.spec_checks import check_id, check_pairs, no_repeats


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


class StudySection(_Strict):
    """``[study]``: name, where things live, and the seed of every random step."""

    name: str = "mrkit study"
    store: str = "mrkit.duckdb"
    panel: str | None = None
    output: str = "results"
    seed: int = Field(default=1, ge=0, le=2**63 - 1)
    # what software cannot know, for the report's STROBE-MR checklist (see docs/report.md)
    population: str | None = None
    overlap: float | str | dict[str, float | str] | None = None
    preregistration: str | None = None
    funding: str | None = None
    data_availability: str | None = None

    @field_validator("overlap")
    @classmethod
    def _overlap(cls, overlap: Any) -> Any:
        values = overlap.values() if isinstance(overlap, dict) else [overlap]
        for v in values:
            if isinstance(v, str) and v not in ("none", "unknown"):
                msg = '`overlap`: a number (participants or fraction), "none" or "unknown"'
                raise ValueError(msg)
            if isinstance(v, float | int) and v < 0:
                msg = "must not be negative"
                raise ValueError(msg)
        return overlap


class GwasEntry(_Strict):
    """``[[gwas]]``: one GWAS, from a file (imported) or already in the store."""

    id: str
    file: str | None = None
    trait: str | None = None
    units: str | None = None
    n: float | None = Field(default=None, gt=0)
    ncase: float | None = Field(default=None, gt=0)
    ncontrol: float | None = Field(default=None, gt=0)
    prevalence: float | None = Field(default=None, gt=0, lt=1)
    build: Literal["GRCh37", "GRCh38"] | None = None
    population: str | None = None
    format: str = "auto"
    bad_rows: Literal["error", "skip"] = "error"  # "skip": see `mrkit import --bad-rows`

    _id = field_validator("id")(check_id)

    @model_validator(mode="after")
    def _cases(self) -> GwasEntry:
        if (self.ncase is None) != (self.ncontrol is None):
            msg = "give both `ncase` and `ncontrol` for a binary trait"
            raise ValueError(msg)
        return self

    @property
    def binary(self) -> bool:
        """A case/control trait (log-odds effects)."""
        return self.ncase is not None or (self.units or "").lower() in {"log-odds", "logodds"}


Region = tuple[str, int, int]
_REGION = re.compile(r"\s*(?:chr)?([0-9]+|X|Y|XY|MT|M)\s*:\s*([\d,_]+)\s*-\s*([\d,_]+)\s*", re.I)


def parse_region(text: str, key: str) -> Region:
    """``"CHR:START-END"`` (bp, inclusive; ``chr`` prefix and ``,``/``_`` allowed) -> parts.

    ``key`` names the study-file key in the error (``instruments.region``).

    >>> parse_region("chr19:11,100,000-11,250,000", "region")
    ('19', 11100000, 11250000)
    """
    m = _REGION.fullmatch(str(text))
    if m is None:
        msg = f'`{key}`: {text!r} is not CHR:START-END (e.g. "19:11100000-11250000")'
        raise ValueError(msg)
    start, end = (int(m.group(k).replace(",", "").replace("_", "")) for k in (2, 3))
    if end < start:
        msg = f"`{key}`: {text!r} ends before it starts"
        raise ValueError(msg)
    chrom = m.group(1).upper()
    return ("MT" if chrom == "M" else chrom), start, end


class InstrumentsSection(_Strict):
    """``[instruments]``: selection of each exposure's instruments.

    ``region`` (or ``gene`` with ``chrom``, ``gene_start``, ``gene_end``) makes
    a cis-MR study: only variants in that region are instruments.
    """

    p: float = Field(default=5e-8, gt=0, le=1)
    clump: bool = True
    r2: float = Field(default=0.001, gt=0, le=1)
    kb: float = Field(default=10000, gt=0)
    min_f: float | None = Field(default=10.0, ge=0)
    exclude_mhc: bool = False
    steiger: bool = False
    # candidates missing from the LD panel: dropped ("not in LD panel") as plink and TwoSampleMR
    keep_missing_from_panel: bool = Field(default=False, strict=True)
    region: str | None = None
    gene: str | None = None
    chrom: str | int | None = None
    gene_start: int | None = Field(default=None, ge=0)
    gene_end: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _region(self) -> InstrumentsSection:
        if self.region is not None:
            parse_region(self.region, "region")
            extra = [k for k in ("gene", "chrom", "gene_start", "gene_end") if getattr(self, k)]
            if extra:
                msg = f"give `region` or `gene` with its coordinates, not both (`{extra[0]}`)"
                raise ValueError(msg)
        coords = ("chrom", "gene_start", "gene_end")
        given = [k for k in coords if getattr(self, k) is not None]
        if self.gene is not None or given:
            lacking = [k for k in ("gene", *coords) if getattr(self, k) is None]
            if lacking:
                msg = (
                    f"`gene` needs `chrom`, `gene_start` and `gene_end` (no gene database is "
                    f"used); `{lacking[0]}` is missing"
                )
                raise ValueError(msg)
            parse_region(f"{self.chrom}:{self.gene_start}-{self.gene_end}", "gene_end")
        return self

    @property
    def bounds(self) -> Region | None:
        """``(chromosome, start, end)`` of a cis-MR study, else None."""
        if self.region is not None:
            return parse_region(self.region, "region")
        if self.gene is not None:
            return parse_region(f"{self.chrom}:{self.gene_start}-{self.gene_end}", "gene")
        return None


class HarmoniseSection(_Strict):
    """``[harmonise]``: TwoSampleMR action and LD proxies."""

    action: Literal[1, 2, 3] = 2
    proxies: bool = True
    proxy_r2: float = Field(default=0.8, gt=0, le=1)
    proxy_kb: float = Field(default=250, gt=0)


Sensitivity = Literal[
    "heterogeneity", "pleiotropy", "leave_one_out", "single_snp", "steiger", "presso"
]
#: ``analysis.sensitivity`` when the study file does not set it.
DEFAULT_SENSITIVITY: tuple[Sensitivity, ...] = (
    "heterogeneity",
    "pleiotropy",
    "leave_one_out",
    "single_snp",
    "steiger",
)


class AnalysisSection(_Strict):
    """``[analysis]``: which pairs, which methods, and the multiple-testing correction."""

    exposures: list[str] = Field(min_length=1)
    outcomes: list[str] = Field(min_length=1)
    bidirectional: bool = False
    methods: list[str] = Field(
        default_factory=lambda: ["ivw", "egger", "weighted_median", "weighted_mode"]
    )
    primary: str = "ivw"
    sensitivity: list[Sensitivity] = Field(default_factory=lambda: list(DEFAULT_SENSITIVITY))
    presso_correct: bool = False
    correction: Literal["bonferroni", "holm", "fdr_bh", "none"] = "bonferroni"
    alpha: float = Field(default=0.05, gt=0, lt=1)
    family: Literal["direction", "all"] = "direction"
    correction_over: Literal["planned", "analysed"] = "planned"
    nboot: int = Field(default=1000, ge=10, le=10_000_000)
    options: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _primary_listed(self) -> AnalysisSection:
        if self.primary not in self.methods:
            msg = f"`primary` method {self.primary!r} must also be in `methods`"
            raise ValueError(msg)
        return self


class EngineSection(_Strict):
    """``[engine]``: where pairs run (see :mod:`mrkit.study.engine`)."""

    kind: Literal["local", "dask"] = "local"
    workers: int | None = Field(default=None, ge=1, le=4096)
    address: str | None = None


FigureFormat = Literal["png", "svg", "pdf"]
#: The report's figures: SVG (vector, what the page shows); PNG at 300 dpi and PDF on
#: request (rasterising every pair's six figures at 300 dpi triples the report's time).
DEFAULT_FIGURE_FORMATS: tuple[FigureFormat, ...] = ("svg",)


class ReportSection(_Strict):
    """``[report]``: how much per-pair detail the report carries (see ``docs/study-file.md``)."""

    pair_figures: Literal["auto", "all", "significant", "none"] = "auto"
    max_pairs: int = Field(default=50, ge=0)
    figure_formats: list[FigureFormat] = Field(
        default_factory=lambda: list(DEFAULT_FIGURE_FORMATS), min_length=1
    )


class ColocSection(_Strict):
    """``[coloc]``: colocalise every exposure-outcome pair (see ``docs/study-file.md``).

    ``regions`` given, or else the region of each kept instrument ± ``window_kb``
    (overlapping windows merged). ``p12`` defaults to coloc's: 1e-5 for
    ``abf``, 5e-6 for ``susie``.
    """

    regions: list[str] = Field(default_factory=list)
    window_kb: float = Field(default=500, gt=0)
    method: Literal["abf", "susie"] = "abf"
    p1: float = Field(default=1e-4, gt=0, lt=1)
    p2: float = Field(default=1e-4, gt=0, lt=1)
    p12: float | None = Field(default=None, gt=0, lt=1)
    plots: bool = True

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        for i, text in enumerate(value):
            parse_region(text, f"regions[{i}]")
        return value

    @property
    def bounds(self) -> list[Region]:
        """The ``regions`` as ``(chromosome, start, end)``."""
        return [parse_region(t, "regions") for t in self.regions]

    @property
    def prior_p12(self) -> float:
        """``p12``, or the method's default."""
        if self.p12 is not None:
            return self.p12
        return 1e-5 if self.method == "abf" else 5e-6


class Study(_Strict):
    """A validated study file."""

    study: StudySection = Field(default_factory=StudySection)
    gwas: list[GwasEntry] = Field(min_length=1)
    instruments: InstrumentsSection = Field(default_factory=InstrumentsSection)
    harmonise: HarmoniseSection = Field(default_factory=HarmoniseSection)
    analysis: AnalysisSection
    engine: EngineSection = Field(default_factory=EngineSection)
    report: ReportSection = Field(default_factory=ReportSection)
    coloc: ColocSection | None = None

    @model_validator(mode="after")
    def _unique_ids(self) -> Study:
        seen: set[str] = set()
        for i, g in enumerate(self.gwas):
            if g.id in seen:
                msg = f"gwas[{i}].id: {g.id!r} is listed twice (ids name one GWAS each)"
                raise ValueError(msg)
            seen.add(g.id)
        return self

    def gwas_by_id(self) -> dict[str, GwasEntry]:
        """``{id: entry}`` in file order."""
        return {g.id: g for g in self.gwas}

    def expand(self, patterns: list[str], key: str) -> list[str]:
        """Ids matching glob ``patterns``; a pattern matching nothing is an error."""
        ids = [g.id for g in self.gwas]
        out: list[str] = []
        for pat in patterns:
            hits = [i for i in ids if fnmatch.fnmatchcase(i, pat)]
            if not hits:
                msg = f"analysis.{key}: {pat!r} matches no [[gwas]] id (ids: {', '.join(ids)})"
                raise StudyError(msg)
            out += [h for h in hits if h not in out]
        return out

    def pairs(self) -> list[tuple[str, str, str]]:
        """``(exposure, outcome, direction)`` for every analysed pair.

        ``direction`` is ``"forward"`` or, with ``bidirectional = true``,
        ``"reverse"`` for the swapped pairs. A trait is never paired with itself.
        """
        exps = self.expand(self.analysis.exposures, "exposures")
        outs = self.expand(self.analysis.outcomes, "outcomes")
        fwd = [(e, o, "forward") for e in exps for o in outs if e != o]
        if not fwd:
            msg = "analysis: exposures and outcomes give no pair (a trait is never its own outcome)"
            raise StudyError(msg)
        check_pairs([(e, o) for e, o, _ in fwd], self.analysis.bidirectional)
        rev = [(o, e, "reverse") for e, o, _ in fwd] if self.analysis.bidirectional else []
        return fwd + rev


def load_study(path: str | Path) -> tuple[Study, Path]:
    """Read and validate a study file; returns the study and its folder.

    Raises :class:`~mrkit.errors.StudyError` naming the key for every mistake,
    including unknown method names, missing GWAS files and patterns that match
    nothing.
    """
    p = Path(path)
    if not p.is_file():
        msg = f"{p}: study file not found"
        raise StudyError(msg)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{p}: not valid TOML ({exc})"
        raise StudyError(msg) from None
    try:
        study = Study.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(
                f"[{x}]" if isinstance(x, int) else str(x) for x in err["loc"]
            ).replace(".[", "[")
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            lines.append(f"{where}: {msg}" if where else msg)
        msg = f"{p}: " + "; ".join(lines)
        raise StudyError(msg) from None
    base = p.resolve().parent
    return _check_semantics(study, base, p), base


def _check_semantics(study: Study, base: Path, path: Path) -> Study:
    for m in study.analysis.methods:
        try:
            get_method(m)
        except UnknownMethodError as exc:
            msg = f"{path}: analysis.methods: {exc}"
            raise StudyError(msg) from None
    a = study.analysis
    no_repeats([get_method(m).name for m in a.methods], "analysis.methods", path)
    for key in ("exposures", "outcomes", "sensitivity"):
        no_repeats(getattr(a, key), f"analysis.{key}", path)
    no_repeats(study.report.figure_formats, "report.figure_formats", path)
    if study.coloc is not None:
        no_repeats(study.coloc.regions, "coloc.regions", path)
    for i, g in enumerate(study.gwas):
        if g.file is not None and not (base / g.file).is_file():
            msg = f"{path}: gwas[{i}].file: {g.file!r} not found (id {g.id!r})"
            raise StudyError(msg)
    try:
        study.pairs()  # patterns must match
    except StudyError as exc:
        raise StudyError(f"{path}: {exc}") from None
    if study.instruments.clump and study.study.panel is None:
        msg = f"{path}: instruments.clump = true needs study.panel (a PLINK reference prefix)"
        raise StudyError(msg)
    if study.harmonise.proxies and study.study.panel is None:
        msg = f"{path}: harmonise.proxies = true needs study.panel (a PLINK reference prefix)"
        raise StudyError(msg)
    correl = [m for m in study.analysis.methods if get_method(m).name.endswith("_correl")]
    if correl and study.study.panel is None:
        msg = f"{path}: analysis.methods: `{correl[0]}` needs study.panel (the LD of the variants)"
        raise StudyError(msg)
    if study.coloc is not None and study.coloc.method == "susie" and study.study.panel is None:
        msg = f'{path}: coloc.method = "susie" needs study.panel (a PLINK reference prefix)'
        raise StudyError(msg)
    if study.engine.address and study.engine.kind != "dask":
        msg = f'{path}: engine.address is only used with engine.kind = "dask"'
        raise StudyError(msg)
    options = check_options(study.analysis, path)
    return study.model_copy(
        update={"analysis": study.analysis.model_copy(update={"options": options})}
    )


# -- [analysis.options.METHOD] -------------------------------------------------------------
_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "true or false"),
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
)


def _type_error(default: Any, value: Any) -> str | None:
    """Why ``value`` cannot stand for an option whose default is ``default`` (or None)."""
    for kind, words in _KINDS:
        if isinstance(default, kind):
            ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
            if kind is float:
                ok = isinstance(value, int | float) and not isinstance(value, bool)
            return None if ok else f"expected {words}, got {value!r}"
    return None  # no default to compare with (None): the method checks it


def check_options(analysis: AnalysisSection, path: Path | str) -> dict[str, dict[str, Any]]:
    """The ``[analysis.options.METHOD]`` tables, validated, by canonical method name.

    A table may name any method of ``analysis.methods`` (or ``presso`` when it
    is in ``analysis.sensitivity``: the options then reach the MR-PRESSO
    filter too). Option names come from the method's signature; values must
    have the type of its default; values the method itself rejects (an
    unknown ``model``, ...) are found by running it once on a small made-up
    pair. Every error names the study file and the key.
    """
    names = resolve(analysis.methods)
    allowed = [*names, *(["presso"] if "presso" in analysis.sensitivity else [])]
    out: dict[str, dict[str, Any]] = {}
    for key, opts in analysis.options.items():
        where = f"{path}: analysis.options.{key}"
        try:
            spec = get_method(key)
        except UnknownMethodError as exc:
            raise StudyError(f"{where}: {exc}") from None
        if spec.name in out:
            msg = f"{where}: `{spec.name}` already has an options table (names and aliases)"
            raise StudyError(msg)
        if spec.name not in allowed:
            msg = (
                f"{where}: options for `{spec.name}`, which the study does not run; "
                f"add it to analysis.methods ({', '.join(names)})"
            )
            raise StudyError(msg)
        try:
            method_options([spec.name], {spec.name: opts})
        except InputError as exc:
            bad = next(k for k in opts if k not in spec.options)
            raise StudyError(f"{where}.{bad}: {exc}") from None
        for name, value in opts.items():
            if (why := _type_error(spec.options[name], value)) is not None:
                default = spec.options[name]
                msg = f"{where}.{name}: {why} (`{spec.name}` option, default {default!r})"
                raise StudyError(msg)
        _try_options(spec.name, opts, where)
        out[spec.name] = dict(opts)
    return out


def _try_options(name: str, opts: dict[str, Any], where: str) -> None:
    """Run ``name`` with ``opts`` on a small made-up pair: values it rejects are errors."""
    rng = np.random.default_rng(0)
    bx = rng.uniform(0.05, 0.2, 12)
    by = 0.3 * bx + rng.normal(0, 0.01, 12)
    j = 1 if get_method(name).max_snps == 1 else 12
    probe = Pairs.from_arrays(bx[:j], np.full(j, 0.01), by[:j], np.full(j, 0.01))
    try:
        analyse(probe, [name], options={name: opts}, diagnostics=False, nboot=10, threads=1)
    except (MrkitError, TypeError, ValueError) as exc:
        raise StudyError(f"{where}: {exc}") from None
