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

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mrkit.errors import UnknownMethodError
from mrkit.results import MRResult

Estimator = Callable[..., MRResult]


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
    """

    name: str
    func: Estimator
    label: str
    min_snps: int
    default: bool = False
    reference: str = ""
    stochastic: bool = False

    def __call__(self, bx: Any, sx: Any, by: Any, sy: Any, **options: Any) -> MRResult:
        """Run the estimator, passing only the options its signature accepts."""
        params = inspect.signature(self.func).parameters
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            options = {k: v for k, v in options.items() if k in params}
        return self.func(bx, sx, by, sy, **options)


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
) -> Callable[[Estimator], Estimator]:
    """Decorator adding an estimator to :data:`REGISTRY` under ``name``."""

    def deco(func: Estimator) -> Estimator:
        if name in REGISTRY and REGISTRY[name].func is not func:
            msg = f"method `{name}` is registered twice"
            raise RuntimeError(msg)
        REGISTRY[name] = MethodSpec(name, func, label, min_snps, default, reference, stochastic)
        return func

    return deco


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
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
    _load_all()
    names = [n for n in DEFAULT_ORDER if n in REGISTRY]
    return names + [m.name for m in REGISTRY.values() if m.default and m.name not in names]


def get_method(name: str) -> MethodSpec:
    """Look up a method; unknown names raise with the list of known ones."""
    _load_all()
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        msg = f"unknown method `{name}`; known methods: {known}"
        raise UnknownMethodError(msg) from None


def resolve(methods: str | Iterable[str] | None) -> list[str]:
    """Turn ``"all"``, ``"default"``, ``"a,b"`` or a list into validated method names."""
    _load_all()
    if methods is None or methods == "default":
        return default_methods()
    if methods == "all":
        return [m.name for m in REGISTRY.values() if m.min_snps >= 1 and _in_all(m)]
    names = [s.strip() for s in methods.split(",")] if isinstance(methods, str) else list(methods)
    return [get_method(n).name for n in names if n]


def _in_all(spec: MethodSpec) -> bool:
    """Methods in ``"all"``: every univariable method that needs only the four vectors.

    The ``*_correl`` methods need an LD matrix (``rho``) and are run only when
    named explicitly with one.
    """
    return not spec.name.startswith("mvmr") and not spec.name.endswith("_correl")


__all__ = [
    "REGISTRY",
    "MethodSpec",
    "available",
    "default_methods",
    "get_method",
    "register",
    "resolve",
]
