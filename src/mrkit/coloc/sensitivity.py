"""How the coloc posteriors move with the prior ``p12`` (coloc's ``sensitivity()``) and its plot.

Only the summary (``nsnps`` and PP.H0..H4) and the priors of a result are needed: the
Bayes factors of the five hypotheses are fixed, so a new ``p12`` only reweighs them by
the ratio of the new and old hypothesis priors.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mrkit.errors import InputError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["hypothesis_priors", "parse_rule", "plot_sensitivity", "sensitivity"]

PP_COLUMNS = tuple(f"pp_h{h}" for h in range(5))


def hypothesis_priors(nsnps: float, p1: float, p2: float, p12: ArrayLike) -> NDArray[np.float64]:
    r"""Prior probability of H0..H4 for each ``p12`` (coloc's ``prior.snp2hyp``).

    With :math:`Q` SNPs: :math:`H_1 = Q p_1`, :math:`H_2 = Q p_2`,
    :math:`H_3 = Q(Q-1) p_1 p_2`, :math:`H_4 = Q p_{12}`, :math:`H_0 = 1 - \sum`.
    Returns an array of shape ``(len(p12), 5)``.
    """
    p = np.atleast_1d(np.asarray(p12, dtype=float))
    h = np.empty((p.size, 5))
    h[:, 1] = nsnps * p1
    h[:, 2] = nsnps * p2
    h[:, 3] = nsnps * (nsnps - 1) * p1 * p2
    h[:, 4] = nsnps * p
    h[:, 0] = 1.0 - h[:, 1:].sum(axis=1)
    return h


# ------------------------------------------------------------------------------ rules
_ALLOWED = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.Compare,
    ast.Gt,
    ast.GtE,
    ast.Lt,
    ast.LtE,
    ast.Eq,
    ast.NotEq,
    ast.Name,
    ast.Load,
    ast.Constant,
)


def parse_rule(rule: str) -> Callable[[Mapping[str, Any]], NDArray[np.bool_]]:
    """A decision rule such as ``"H4 > 0.9 & H4/H3 > 3"`` as a function of PP.H0..H4.

    The rule is coloc's R expression: names ``H0``..``H4``, numbers, ``+ - * / ^``,
    comparisons, ``&``/``&&``, ``|``/``||`` and ``!`` (R precedence: comparisons bind
    tighter than ``&`` and ``|``). The returned function takes a mapping ``H0..H4 ->
    arrays`` and returns a boolean array.
    """
    if not rule or not rule.strip():
        raise InputError(
            "give a decision rule such as 'H4 > 0.5' (the PP of H4 you accept as colocalisation)"
        )
    text = rule.replace("&&", "&").replace("||", "|")
    text = re.sub(r"!(?!=)", " not ", text)
    text = text.replace("&", " and ").replace("|", " or ").replace("^", "**")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise InputError(
            f"cannot read the rule {rule!r}; write e.g. 'H4 > 0.9 & H4/H3 > 3'"
        ) from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise InputError(
                f"the rule {rule!r} may use only H0..H4, numbers and + - * / ^ < > & |"
            )
        if isinstance(node, ast.Name) and node.id not in {f"H{h}" for h in range(5)}:
            raise InputError(f"the rule {rule!r} names {node.id!r}; use H0, H1, H2, H3 or H4")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise InputError(f"the rule {rule!r} holds a non-number {node.value!r}")

    def ev(node: ast.AST, env: Mapping[str, Any]) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body, env)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return np.asarray(env[node.id], dtype=float)
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand, env)
            if isinstance(node.op, ast.Not):
                return np.logical_not(v)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BoolOp):
            vals = [ev(v, env) for v in node.values]
            fn = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            out = vals[0]
            for v in vals[1:]:
                out = fn(out, v)
            return out
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left, env), ev(node.right, env)
            ops: dict[type, Callable[[Any, Any], Any]] = {
                ast.Add: np.add,
                ast.Sub: np.subtract,
                ast.Mult: np.multiply,
                ast.Div: np.divide,
                ast.Pow: np.power,
            }
            with np.errstate(divide="ignore", invalid="ignore"):
                return ops[type(node.op)](a, b)
        if isinstance(node, ast.Compare):
            left = ev(node.left, env)
            out = None
            cmp: dict[type, Callable[[Any, Any], Any]] = {
                ast.Gt: np.greater,
                ast.GtE: np.greater_equal,
                ast.Lt: np.less,
                ast.LtE: np.less_equal,
                ast.Eq: np.equal,
                ast.NotEq: np.not_equal,
            }
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = ev(comp, env)
                r = cmp[type(op)](left, right)
                out = r if out is None else np.logical_and(out, r)
                left = right
            return out
        raise InputError(f"cannot evaluate the rule {rule!r}")  # pragma: no cover

    def check(pp: Mapping[str, Any]) -> NDArray[np.bool_]:
        return np.asarray(ev(tree, pp), dtype=bool)

    return check


# ------------------------------------------------------------------------ sensitivity
def _summary_row(obj: Any, row: int) -> tuple[float, NDArray[np.float64]]:
    """``nsnps`` and PP.H0..H4 of a coloc result (abf, or one row of a multi-row summary)."""
    summ = obj.summary if hasattr(obj, "summary") else obj
    if hasattr(summ, "iloc"):  # a DataFrame with one row per pair of signals
        if not 1 <= row <= len(summ):
            raise InputError(f"`row` must be between 1 and {len(summ)}, got {row}")
        rec = summ.iloc[row - 1]
        return float(rec["nsnps"]), np.array([float(rec[c]) for c in PP_COLUMNS])
    if isinstance(summ, Mapping):
        return float(summ["nsnps"]), np.array([float(summ[c]) for c in PP_COLUMNS])
    raise InputError("expected a coloc result (with `summary` and `priors`)")


def sensitivity(
    obj: Any,
    rule: str,
    *,
    row: int = 1,
    npoints: int = 100,
    p1: float | None = None,
    p2: float | None = None,
    p12: float | None = None,
) -> pd.DataFrame:
    r"""Posterior probabilities of H0..H4 over a grid of ``p12``, and whether ``rule`` passes.

    The grid has ``npoints`` values equally spaced in :math:`\log_{10}` from
    :math:`p_1 p_2` to :math:`\min(p_1, p_2)` (coloc writes ``min(p1, p1)``, the same
    whenever :math:`p_1 \le p_2`; coloc fails otherwise). With :math:`\pi_h(p_{12})`
    from :func:`hypothesis_priors`, the new posteriors are (coloc's ``prior.adjust``)

    .. math:: PP_h' \propto PP_h\,\pi_h(p_{12}') / \pi_h(p_{12}).

    Parameters
    ----------
    obj
        A :class:`~mrkit.coloc.abf.ColocABF`, or a result whose ``summary`` is a table
        with ``nsnps, pp_h0..pp_h4`` (e.g. coloc.susie), with ``priors``.
    rule
        Decision rule, e.g. ``"H4 > 0.5"`` (see :func:`parse_rule`).
    row
        1-based row of a multi-row summary.
    npoints
        Grid size (coloc's default 100).
    p1, p2, p12
        The priors of ``obj`` when it does not carry them.

    Returns
    -------
    pandas.DataFrame
        ``pp_h0..pp_h4, p12, pass``, then the hypothesis priors ``prior_h0..prior_h4``;
        ``attrs`` holds ``p12`` (the value used for ``obj``), ``rule`` and ``pass`` (the
        rule on ``obj`` itself).
    """
    import pandas as pd

    check = parse_rule(rule)
    nsnps, pp = _summary_row(obj, row)
    pri = dict(getattr(obj, "priors", None) or {})
    q1 = p1 if p1 is not None else pri.get("p1")
    q2 = p2 if p2 is not None else pri.get("p2")
    q12 = p12 if p12 is not None else pri.get("p12")
    if q1 is None or q2 is None or q12 is None:
        raise InputError("sensitivity needs the priors p1, p2 and p12 of the result")
    if npoints < 2:
        raise InputError(f"`npoints` must be at least 2, got {npoints}")
    grid = 10.0 ** np.linspace(np.log10(q1 * q2), np.log10(min(q1, q2)), npoints)
    new = hypothesis_priors(nsnps, q1, q2, grid)
    old = hypothesis_priors(nsnps, q1, q2, q12)
    post = pp[None, :] * new / old
    post /= post.sum(axis=1, keepdims=True)
    env = {f"H{h}": post[:, h] for h in range(5)}
    out = pd.DataFrame({c: post[:, h] for h, c in enumerate(PP_COLUMNS)})
    out["p12"] = grid
    out["pass"] = np.broadcast_to(check(env), (npoints,))
    for h in range(5):
        out[f"prior_h{h}"] = new[:, h]
    out.attrs.update(
        p12=float(q12),
        rule=rule,
        passes=bool(check({f"H{h}": pp[h] for h in range(5)})),
    )
    return out


def plot_sensitivity(table: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Prior and posterior probabilities of H0..H4 against ``p12`` (coloc's sensitivity plot).

    ``table`` is :func:`sensitivity`'s output. The region of ``p12`` where the rule
    passes is shaded green and the ``p12`` of the result is a dashed line; as in coloc,
    the prior panel is scaled to H1..H4 (H0, near 1, runs off its top). Returns a
    :class:`matplotlib.figure.Figure` (no pyplot state is touched).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.8), layout="constrained")
    axes = fig.subplots(1, 2)
    colours = ["#bbbbbb", "#3b528b", "#21918c", "#5ec962", "#fde725"]
    p12 = table["p12"].to_numpy()
    passed = table["pass"].to_numpy(dtype=bool)
    rule = table.attrs.get("rule", "")
    for ax, prefix, name in zip(axes, ("prior_h", "pp_h"), ("Prior", "Posterior"), strict=True):
        for h in range(5):
            col = f"{prefix}{h}"
            if col not in table.columns:
                continue
            ax.plot(p12, table[col], marker="o", ms=3, lw=1, color=colours[h], label=f"H{h}")
        ax.set_xscale("log")
        ax.set_xlabel("p12")
        ax.set_ylabel("probability")
        ax.set_title(f"{name} probabilities", loc="left")
        if passed.any():
            w = np.flatnonzero(passed)
            ax.axvspan(p12[w.min()], p12[w.max()], color="green", alpha=0.1, ec="green")
        if "p12" in table.attrs:
            ax.axvline(table.attrs["p12"], ls="--", color="grey")
        ax.grid(axis="y", color="#dddddd")
    priors = [f"prior_h{h}" for h in range(1, 5) if f"prior_h{h}" in table.columns]
    if priors:  # as coloc: the prior panel is scaled to H1..H4 (H0 runs off the top)
        axes[0].set_ylim(0, 1.1 * float(table[priors].to_numpy().max()))
    axes[1].set_ylim(0, 1.02)
    axes[0].legend(loc="center left", frameon=True)
    sub = f"shaded: {rule}" if rule else None
    if title or sub:
        fig.suptitle(" - ".join(t for t in (title, sub) if t), x=0.01, ha="left", fontsize=10)
    return fig
