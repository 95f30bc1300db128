"""The estimators, one module per family, and the registry that names them.

Every estimator is a pure function ``f(bx, sx, by, sy, *, alpha=0.05, ...) ->
MRResult`` registered with :func:`register`; callers and study files name
methods by their canonical snake_case name::

    >>> from mrkit.methods import get_method
    >>> get_method("ivw").label
    'Inverse variance weighted'

The modules of this package are imported on first use of the registry, so a
new estimator module only needs to call :func:`register`.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import json
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mrkit.errors import InputError, UnknownMethodError
from mrkit.results import MRResult

Estimator = Callable[..., MRResult]
#: How :func:`mrkit.estimate.analyse` runs a method over many pairs: ``segment``
#: (closed form, segment sums over all pairs at once), ``rows`` (compiled
#: bootstrap rows over all draws of all pairs) or ``pair`` (the function per pair,
#: on threads).
Kernel = Literal["segment", "rows", "pair"]
#: Settings of a whole run, given to every method that takes them.
RUN_WIDE = ("alpha", "seed", "nboot")
#: Arguments every estimator takes positionally; never options.
_DATA_ARGS = ("bx", "sx", "by", "sy")


@dataclass(frozen=True)
class MethodSpec:
    """A registered estimator.

    Attributes
    ----------
    name
        Canonical snake_case name (``ivw``, ``weighted_median``, ...).
    func
        The estimator function.
    label
        Human-readable name as TwoSampleMR prints it (``Inverse variance weighted``).
    min_snps
        Fewest variants the method accepts.
    default
        Part of ``methods="default"`` (TwoSampleMR's ``mr()`` defaults).
    reference
        DOI or citation of the method.
    stochastic
        Uses random draws (accepts ``seed`` and usually ``nboot``).
    kernel
        How the engine runs it over many pairs (see :data:`Kernel`).
    max_snps
        Most variants the method accepts (``wald_ratio``: exactly one), or None.
    aliases
        Other names users may call it by (TwoSampleMR's ``mr_ivw``, ...).
    """

    name: str
    func: Estimator
    label: str
    min_snps: int
    default: bool = False
    reference: str = ""
    stochastic: bool = False
    kernel: Kernel = "pair"
    max_snps: int | None = None
    aliases: tuple[str, ...] = field(default=())

    @property
    def options(self) -> dict[str, Any]:
        """The keyword options of the estimator and their defaults."""
        return {
            k: p.default
            for k, p in inspect.signature(self.func).parameters.items()
            if k not in _DATA_ARGS and p.kind is inspect.Parameter.KEYWORD_ONLY
        }

    def check_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """``options`` if every name is an option of this method; else raise listing them."""
        valid = self.options
        unknown = [k for k in options if k not in valid]
        if unknown:
            hint = difflib.get_close_matches(unknown[0], list(valid), n=1)
            did = f" (did you mean `{hint[0]}`?)" if hint else ""
            msg = (
                f"unknown option `{unknown[0]}` for method `{self.name}`{did}; "
                f"its options: {', '.join(valid) or 'none'}"
            )
            raise InputError(msg)
        return dict(options)

    def accepted(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """The subset of ``options`` this method takes (for run-wide ``alpha``, ``seed``, ...)."""
        valid = self.options
        return {k: v for k, v in options.items() if k in valid}

    def __call__(self, bx: Any, sx: Any, by: Any, sy: Any, **options: Any) -> MRResult:
        """Run the estimator.

        The run-wide settings ``alpha``, ``seed`` and ``nboot`` are passed only to
        methods that take them; any other option the method does not have raises
        :class:`~mrkit.errors.InputError` listing its options.
        """
        wide = {k: options.pop(k) for k in RUN_WIDE if k in options}
        return self.func(bx, sx, by, sy, **self.accepted(wide), **self.check_options(options))


REGISTRY: dict[str, MethodSpec] = {}
_loaded = False


def register(
    name: str,
    *,
    label: str,
    min_snps: int,
    default: bool = False,
    reference: str = "",
    stochastic: bool = False,
    kernel: Kernel = "pair",
    max_snps: int | None = None,
    aliases: tuple[str, ...] = (),
) -> Callable[[Estimator], Estimator]:
    """Decorator adding an estimator to :data:`REGISTRY` under ``name``."""

    def deco(func: Estimator) -> Estimator:
        if name in REGISTRY and REGISTRY[name].func is not func:
            msg = f"method `{name}` is registered twice"
            raise RuntimeError(msg)
        REGISTRY[name] = MethodSpec(
            name,
            func,
            label,
            min_snps,
            default,
            reference,
            stochastic,
            kernel,
            max_snps,
            tuple(aliases),
        )
        return func

    return deco


#: Where each method is registered, so that naming a method imports only its module
#: (``tests/methods/test_registry.py`` checks this index against the registry).
INDEX: dict[str, str] = {
    "wald_ratio": "ivw", "ivw": "ivw", "ivw_fe": "ivw", "ivw_mre": "ivw",
    "egger": "egger", "egger_bootstrap": "egger_boot",
    "simple_median": "median", "weighted_median": "median",
    "penalised_weighted_median": "median",
    "simple_mode": "mode", "weighted_mode": "mode", "penalised_mode": "mode",
    "simple_mode_nome": "mode", "weighted_mode_nome": "mode",
    "ivw_radial": "radial", "egger_radial": "radial", "raps": "raps", "presso": "presso",
    "conmix": "conmix", "lasso": "lasso", "maxlik": "maxlik", "divw": "divw", "sign": "sign",
    "ivw_correl": "correlated", "egger_correl": "correlated", "maxlik_correl": "correlated",
    "ivw_robust": "robust", "ivw_penalized": "robust",
    "egger_robust": "robust", "egger_penalized": "robust",
    "cml_ma_bic": "cml", "cml_ma_dp": "cml", "pivw": "pivw", "grip": "grip", "uwr": "uwr",
}  # fmt: skip


def _load(module: str) -> None:
    importlib.import_module(f"{__name__}.{module}")


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            _load(info.name)
    _loaded = True


def available() -> list[str]:
    """Names of all registered methods, in registration order."""
    _load_all()
    return list(REGISTRY)


#: TwoSampleMR's ``mr()`` order of its default methods.
DEFAULT_ORDER: tuple[str, ...] = (
    "wald_ratio",
    "egger",
    "weighted_median",
    "ivw",
    "simple_mode",
    "weighted_mode",
)


def default_methods() -> list[str]:
    """TwoSampleMR's ``mr()`` default set, by canonical name, in its order."""
    for name in DEFAULT_ORDER:
        _load(INDEX[name])
    return list(DEFAULT_ORDER)


def _alias_table() -> dict[str, str]:
    """Every accepted spelling (name, alias; lower case, ``-``/``.`` as ``_``) -> name."""
    table: dict[str, str] = {}
    for spec in REGISTRY.values():
        for n in (spec.name, *spec.aliases):
            table[_key(n)] = spec.name
    return table


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(".", "_")


def get_method(name: str) -> MethodSpec:
    """Look up a method by name or alias (TwoSampleMR's ``mr_ivw``, ...).

    An unknown name raises :class:`~mrkit.errors.UnknownMethodError` with the
    closest known names ("did you mean") and the list of known ones.
    """
    if name in INDEX:
        _load(INDEX[name])
    if name in REGISTRY:
        return REGISTRY[name]
    _load_all()
    table = _alias_table()
    key = _key(name)
    if key in table:
        return REGISTRY[table[key]]
    close = difflib.get_close_matches(key, list(table), n=3, cutoff=0.6)
    hint = sorted({table[c] for c in close})
    did = f" (did you mean {' or '.join(f'`{h}`' for h in hint)}?)" if hint else ""
    known = ", ".join(sorted(REGISTRY))
    msg = f"unknown method `{name}`{did}; known methods: {known}"
    raise UnknownMethodError(msg)


def resolve(methods: str | Iterable[str] | None) -> list[str]:
    """Turn ``"all"``, ``"default"``, ``"a,b"`` or a list into validated method names."""
    if methods is None or methods == "default":
        return default_methods()
    if methods == "all":
        _load_all()
        return [m.name for m in REGISTRY.values() if m.min_snps >= 1 and _in_all(m)]
    names = [s.strip() for s in methods.split(",")] if isinstance(methods, str) else list(methods)
    out: list[str] = []
    for n in names:
        if n and (canon := get_method(n).name) not in out:
            out.append(canon)
    return out


def _in_all(spec: MethodSpec) -> bool:
    """Methods in ``"all"``: every univariable method that needs only the four vectors.

    The ``*_correl`` methods need an LD matrix (``rho``) and are run only when
    named explicitly with one.
    """
    return not spec.name.startswith("mvmr") and not spec.name.endswith("_correl")


def method_options(
    names: list[str], options: Mapping[str, Mapping[str, Any]] | None
) -> dict[str, dict[str, Any]]:
    """Validated per-method options, keyed by canonical name.

    ``options`` maps a method's name (or alias) to its options; a method not in
    ``names``, or an option the method does not have, raises
    :class:`~mrkit.errors.InputError` listing the valid ones.
    """
    out: dict[str, dict[str, Any]] = {n: {} for n in names}
    for key, opts in (options or {}).items():
        spec = get_method(key)
        if spec.name not in out:
            msg = (
                f"options given for `{spec.name}`, which is not among the methods run "
                f"({', '.join(names)}); add it to the methods"
            )
            raise InputError(msg)
        out[spec.name].update(spec.check_options(dict(opts)))
    return out


def parse_setting(text: str) -> tuple[str, str, Any]:
    """``METHOD.OPTION=VALUE`` (``mrkit mr --set``) -> (method, option, value).

    The value is read as JSON when it parses (``10000``, ``true``, ``"x"``,
    ``[1, 2]``), else kept as text (``model=fixed``).
    """
    head, eq, value = text.partition("=")
    method, dot, option = head.strip().partition(".")
    if not (eq and dot and method and option):
        msg = f"--set {text!r}: expected METHOD.OPTION=VALUE, e.g. presso.n_distributions=10000"
        raise InputError(msg)
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value.strip()
    return method, option.strip(), parsed


__all__ = [
    "REGISTRY",
    "Kernel",
    "MethodSpec",
    "available",
    "default_methods",
    "get_method",
    "method_options",
    "parse_setting",
    "register",
    "resolve",
]
