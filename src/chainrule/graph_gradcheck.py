"""``gradcheck_graph``: finite-difference check of every node of a recorded graph, one at a time.

``cr.gradcheck`` checks a whole function: when it fails you learn *that* a gradient is wrong,
not *which* rule. ``gradcheck_graph`` walks the graph a loss was recorded with (the same nodes
``run_backward`` visits) and re-checks each node on its own recorded inputs, in float64:

1. cast the node's floating inputs to float64 and replay ``op.forward`` with the node's attrs
   (for a custom ``Function``, ``fn.forward`` with a fresh ``ctx``);
2. run ``op.backward`` on a random upstream vector ``v``: one vector-Jacobian product ``v^T J``;
3. compare each checked entry with the central difference of ``x -> sum(v * forward(x))``.

At a kink (``relu`` or ``abs`` at exactly 0, ties of ``max``) the two one-sided differences
disagree; there any value between them (a subgradient) is accepted, so correct rules do not fail
at non-differentiable points. Large inputs are checked on a random sample of entries plus one
random direction over the whole input, which catches an error anywhere in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .autograd.engine import sum_to, toposort
from .autograd.function import FunctionCtx, _Custom
from .autograd.grad_mode import no_grad
from .ops.backends import NP

if TYPE_CHECKING:
    from .tensor import Tensor


@dataclass
class OpCheck:
    """The verdict on one node: ``status`` is ``"pass"``, ``"fail"`` or ``"skip"``."""

    index: int  # position in forward (recording) order
    op: str
    label: str  # op(input descriptions), with parameter names when known
    status: str
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    worst_input: int | None = None  # position of the input with the largest error
    worst_entry: tuple | None = None
    analytic: float | None = None  # the rule's value at the worst entry
    numeric: float | None = None  # the finite difference there
    entries: int = 0  # how many entries were compared
    kinks: int = 0  # entries at non-differentiable points (a subgradient was accepted)
    where: str | None = None  # source line, when the forward ran under detect_anomaly
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["worst_entry"] = None if self.worst_entry is None else list(self.worst_entry)
        return d


@dataclass
class GraphCheckReport:
    """Per-op results of ``gradcheck_graph``; ``ok`` is False when any backward rule disagrees.

    Example:
        >>> import chainrule as cr
        >>> x = cr.randn(4, requires_grad=True)
        >>> report = cr.gradcheck_graph((x.tanh() * x).sum())
        >>> report.ok, [c.op for c in report.checks]
        (True, ['tanh', 'mul', 'sum'])
    """

    checks: list[OpCheck] = field(default_factory=list)
    atol: float = 1e-5
    rtol: float = 1e-3

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def failed(self) -> list[OpCheck]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def skipped(self) -> list[OpCheck]:
        return [c for c in self.checks if c.status == "skip"]

    def failed_ops(self) -> list[str]:
        """Names of the ops whose backward disagrees (each name once, in graph order)."""
        return list(dict.fromkeys(c.op for c in self.failed))

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "atol": self.atol, "rtol": self.rtol,
                "failed_ops": self.failed_ops(), "checks": [c.to_dict() for c in self.checks]}

    def render(self, only_failed: bool = False) -> str:
        rows = [c for c in self.checks if c.status == "fail"] if only_failed else self.checks
        lines = [f"gradcheck_graph: {len(self.checks)} ops, {len(self.failed)} failed, "
                 f"{len(self.skipped)} skipped (atol={self.atol:g}, rtol={self.rtol:g})"]
        for c in rows:
            mark = {"pass": "ok  ", "fail": "FAIL", "skip": "skip"}[c.status]
            line = f"  [{mark}] #{c.index:<3} {c.label}"
            if c.status != "skip":
                line += f"  max abs err {c.max_abs_error:.2e}, rel {c.max_rel_error:.2e}"
            if c.kinks:
                line += f" ({c.kinks} kink entries)"
            lines.append(line)
            if c.status == "fail":
                at = ("along a random direction" if c.worst_entry is None
                      else f"at {c.worst_entry}")
                lines.append(f"         input {c.worst_input} {at}: backward gives "
                             f"{c.analytic:.6g}, finite differences {c.numeric:.6g}")
            if c.detail and c.status != "pass":
                lines.append(f"         {c.detail}")
            if c.where and c.status == "fail":
                lines.append(f"         created at {c.where}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()

    def raise_if_failed(self) -> None:
        """Raise ``GradcheckError`` listing the failing ops (does nothing when all pass)."""
        if self.failed:
            from .gradcheck import GradcheckError

            raise GradcheckError(
                f"gradcheck_graph: the backward of {', '.join(self.failed_ops())} disagrees with "
                "finite differences\n" + self.render(only_failed=True))


def _f64_attr(v):
    """A floating dtype attribute (``Cast``'s target) becomes float64, so the replay stays exact."""
    if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
        if np.dtype(v).kind == "f":
            return np.dtype(np.float64)
    return v


class _Replay:
    """Forward and vector-Jacobian product of one node, on float64 arrays."""

    def __init__(self, node) -> None:
        self.op = node.op
        attrs = dict(node.attrs or {})
        self.custom = isinstance(self.op, type) and issubclass(self.op, _Custom)
        if self.custom:
            self.fn = attrs["fn"]
            self.positions = attrs["positions"]
            self.consts = attrs.get("consts") or (None,) * attrs["nargs"]
            self.attrs = attrs
        else:
            self.attrs = {k: _f64_attr(v) for k, v in attrs.items()}

    def forward(self, arrays):
        """Output array and whatever backward needs besides it (saved values or the ctx)."""
        if self.custom:
            from .tensor import _wrap

            args = list(self.consts)
            for pos, a in zip(self.positions, arrays):
                args[pos] = _wrap(a)
            ctx = FunctionCtx()
            ctx.needs_input_grad = tuple(p in self.positions for p in range(len(args)))
            with no_grad():
                out = self.fn.forward(ctx, *args)
            return np.asarray(out._data), ctx
        res = self.op.forward(*arrays, **self.attrs)
        if self.op.saves:
            return np.asarray(res[0]), res[1]
        return np.asarray(res), None

    def vjp(self, v, out, extra, arrays):
        if self.custom:
            attrs = dict(self.attrs, ctx=extra)
        elif extra is not None:
            attrs = dict(self.attrs, saved=extra)
        else:
            attrs = self.attrs
        with no_grad():
            return self.op.backward(NP, v, out, *arrays, **attrs)


def _label(node, names: dict[int, str]) -> str:
    parts = []
    for t in node.inputs:
        name = names.get(id(t)) or t.name
        shape = "x".join(str(s) for s in t.shape) or "scalar"
        parts.append(f"{name}[{shape}]" if name else f"[{shape}]")
    return f"{node.op.name}({', '.join(parts)})"


def _param_names(params) -> dict[int, str]:
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = params.named_parameters()
    items = params.items() if isinstance(params, dict) else params
    return {id(t): name for name, t in items}


def gradcheck_graph(loss: Tensor, atol: float = 1e-5, rtol: float = 1e-3, eps: float = 1e-6,
                    max_entries: int = 256, params: Any = None, raise_exception: bool = False,
                    seed: int = 0) -> GraphCheckReport:
    """Check every backward rule in the graph of ``loss`` against finite differences.

    Each node is re-run in float64 on its own recorded inputs, so a wrong rule is named even
    deep inside a model (and the ops around it, whose rules are right, pass). Call it on a
    freshly computed loss, before ``backward()`` (or after ``backward(retain_graph=True)``).

    Args:
        loss: a tensor with a graph (any shape).
        atol, rtol: an entry passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.
        eps: the finite-difference step (in float64).
        max_entries: inputs larger than this are checked on that many random entries plus one
            random direction over all their entries.
        params: a Module or ``{name: tensor}`` used to name parameters in the report.
        raise_exception: raise ``GradcheckError`` naming the failing ops instead of returning.
        seed: seeds the upstream vectors and the sampled entries.

    Example:
        >>> import chainrule as cr
        >>> class BadSquare(cr.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     def backward(ctx, g):
        ...         (x,) = ctx.saved_tensors
        ...         return g * x  # should be 2 * g * x
        >>> x = cr.randn(3, requires_grad=True)
        >>> cr.gradcheck_graph(BadSquare.apply(x).exp().sum()).failed_ops()
        ['BadSquare']
    """
    root = getattr(loss, "_node", None)
    if root is None:
        raise ValueError("gradcheck_graph: this tensor has no graph (it is a leaf, or was made "
                         "under no_grad); compute it from tensors with requires_grad=True")
    try:
        order = toposort([root])
    except RuntimeError as e:
        raise RuntimeError(
            "gradcheck_graph needs the recorded inputs of every node, but backward() already "
            "freed them: call gradcheck_graph before backward(), or pass retain_graph=True to "
            "it") from e
    rng = np.random.default_rng(seed)
    names = _param_names(params)
    report = GraphCheckReport(atol=atol, rtol=rtol)
    nodes = sorted(order, key=lambda n: n.seq)
    for k, node in enumerate(nodes):
        report.checks.append(_check_node(k, node, names, atol, rtol, eps, max_entries, rng))
    if raise_exception:
        report.raise_if_failed()
    return report


def _check_node(index, node, names, atol, rtol, eps, max_entries, rng) -> OpCheck:
    from .autograd.anomaly import format_where

    check = OpCheck(index=index, op=node.op.name, label=_label(node, names), status="skip",
                    where=format_where(node.where) if node.where else None)
    if any(t._version != v for t, v in zip(node.inputs, node.versions)):
        check.detail = "an input was modified in place after the forward"
        return check
    arrays = [t._data.astype(np.float64) if t._data.dtype.kind == "f" else t._data
              for t in node.inputs]
    targets = [i for i, t in enumerate(node.inputs)
               if t.requires_grad and t._data.dtype.kind == "f"]
    replay = _Replay(node)
    try:
        out, extra = replay.forward(arrays)
        again, _ = replay.forward(arrays)
    except Exception as e:  # an op we cannot replay is reported, never silently passed
        check.detail = f"cannot replay the forward: {type(e).__name__}: {e}"
        return check
    if out.dtype.kind != "f":
        check.detail = f"non-floating output ({out.dtype})"
        return check
    if not np.array_equal(out, again, equal_nan=True):
        check.detail = "the forward is not deterministic (random op): finite differences are moot"
        return check
    if not np.isfinite(out).all():
        check.detail = "non-finite forward output"
        return check
    v = rng.standard_normal(out.shape)
    grads = replay.vjp(v, out, extra, [a.copy() if a.dtype.kind == "f" else a for a in arrays])
    if not isinstance(grads, (tuple, list)):
        grads = (grads,)

    def fwd(i, xi):
        args = list(arrays)
        args[i] = xi
        return replay.forward(args)[0]

    check.status = "pass"
    worst = [0.0]  # largest error/tolerance ratio so far: picks the entry shown in the report
    for i in targets:
        x = arrays[i]
        g = grads[i] if i < len(grads) else None
        a = np.zeros(x.shape) if g is None else np.asarray(
            sum_to(np.asarray(g, dtype=np.float64), x.shape, NP) if np.shape(g) != x.shape
            else g, dtype=np.float64)
        _compare(check, i, x, a, fwd, out, v, atol, rtol, eps, max_entries, rng, worst)
    return check


def _compare(check, i, x, a, fwd, out, v, atol, rtol, eps, max_entries, rng, worst) -> None:
    """Entry-wise (and, for large inputs, directional) comparison of one input's gradient."""
    flat = x.reshape(-1)
    n = flat.size
    idx = np.arange(n) if n <= max_entries else rng.choice(n, max_entries, replace=False)
    a_flat = a.reshape(-1)
    # (analytic value, direction, flat entry) per probe; the directional probe has entry None
    probes = []
    for j in idx:
        d = np.zeros(n)
        d[j] = 1.0
        probes.append((a_flat[j], d, int(j)))
    if n > max_entries:
        u = rng.standard_normal(n)
        probes.append((float(a_flat @ u), u, None))
    for analytic, d, entry in probes:
        d = d.reshape(x.shape)
        plus = fwd(i, x + eps * d)
        minus = fwd(i, x - eps * d)
        # differences of outputs first, then the projection: less cancellation error
        right = float(np.sum(v * (plus - out))) / eps
        left = float(np.sum(v * (out - minus))) / eps
        numeric = 0.5 * (right + left)
        scale = 1.0 if entry is not None else math.sqrt(n)
        tol = atol * scale + rtol * abs(numeric)
        if abs(right - left) > tol:
            # one-sided derivatives differ: a kink, where any subgradient is correct. Along a
            # random direction several kinks add up and no interval bounds the sum: inconclusive.
            check.kinks += 1
            if entry is None:
                continue
            lo, hi = min(left, right), max(left, right)
            err = max(lo - analytic, analytic - hi, 0.0)
        else:
            err = abs(analytic - numeric)
        check.entries += 1
        check.max_abs_error = max(check.max_abs_error, err)
        check.max_rel_error = max(check.max_rel_error, err / (abs(numeric) + atol))
        ratio = err / tol
        if check.worst_input is None or ratio > worst[0]:
            worst[0] = ratio
            check.worst_input = i
            check.worst_entry = (None if entry is None else
                                 tuple(int(e) for e in np.unravel_index(entry, x.shape)))
            check.analytic, check.numeric = float(analytic), numeric
        if err > tol:
            check.status = "fail"
