"""``einsum``: Einstein summation, forward by ``np.einsum``, gradients as einsums.

The gradient of one operand is the einsum of the upstream gradient with the other operands,
written to that operand's subscripts: for ``ij,jk->ik`` the first operand's is ``ik,jk->ij``.
Two cases need more than that, and ``einsum`` removes them before the primitive sees the
equation: an ellipsis becomes letters, and a subscript repeated in one operand (``ii->i``, a
diagonal) becomes a ``diagonal`` of it first, whose own rule scatters the gradient back. A
subscript that only one operand has and the output lacks (``ij->i`` sums j away) gets the
gradient broadcast along it.
"""

from __future__ import annotations

import string

import numpy as np

from .. import _validate as check
from ..autograd.graph import OpError
from ..tensor import Tensor
from ._util import promote_dtypes
from .op import Op

_LETTERS = string.ascii_letters


class Einsum(Op):
    """Einstein summation over operands: ``einsum("ij,jk->ik", a, b)`` is ``a @ b``.

    PyTorch's equation syntax: letters, an ellipsis ``...`` for broadcast dims, ``->`` and the
    output subscripts (without it, the letters that appear once, in alphabetical order). The
    operands may be given one by one or as a list. Differentiable in every operand.

    Example:
        >>> import chainrule as cr
        >>> a, b = cr.ones(2, 3), cr.ones(3, 4)
        >>> cr.einsum("ij,jk->ik", a, b).shape, cr.einsum("ii", cr.eye(3)).item()
        ((2, 4), 3.0)
    """

    kind = "linalg"
    fresh_grads = True
    formula = "d einsum(A, B)/dA = einsum(G, B) written to A's subscripts"

    def call(equation: str, *operands) -> Tensor:
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
        if not isinstance(equation, str):
            raise TypeError(f"einsum(): the equation must be a str, got {type(equation).__name__}")
        if not operands:
            raise OpError("einsum(): needs at least one operand")
        xs = _common_dtype([check.numeric(t, "einsum", f"operands[{i}]")
                            for i, t in enumerate(operands)])
        subs, result = _parse(equation, [x.shape for x in xs])
        xs, subs = _take_diagonals(xs, subs)
        _check_sizes(subs, result, xs)
        return Einsum.record(*xs, subs=tuple(subs), result=result)

    def forward(*xs, subs, result):
        out = np.asarray(np.einsum(f"{','.join(subs)}->{result}", *xs, optimize=len(xs) > 2))
        return _own(out, xs)

    def backward(F, g, out, *xs, subs, result):
        grads = []
        for k, x in enumerate(xs):
            others = [i for i in range(len(xs)) if i != k]
            have = set(result).union(*(subs[i] for i in others))
            kept = "".join(c for c in subs[k] if c in have)  # the rest are summed in x alone
            eq = ",".join([result] + [subs[i] for i in others]) + "->" + kept
            gk = F.einsum(eq, g, *[xs[i] for i in others])
            if kept != subs[k]:
                gk = F.reshape(gk, tuple(x.shape[j] if c in have else 1
                                         for j, c in enumerate(subs[k])))
            full = np.broadcast_shapes(tuple(gk.shape), tuple(x.shape))
            if tuple(gk.shape) != full:  # sizes 1 in the gradient: broadcast over x's dims
                gk = F.broadcast_to(gk, full) * 1
            grads.append(gk if F.differentiable else _own(gk, (g,) + xs + tuple(grads)))
        return tuple(grads)


def _own(a: np.ndarray, others) -> np.ndarray:
    """``a``, copied if it is a view of one of ``others``: ``np.einsum`` returns views for
    equations that only move axes (``ij->ji``, ``i->i``), and a result must own its memory."""
    if any(isinstance(o, np.ndarray) and np.may_share_memory(a, o) for o in others):
        return a.copy()
    return a


def _common_dtype(xs):
    first = xs[0]._data.dtype
    if all(x._data.dtype == first for x in xs):
        return xs
    common = first
    for x in xs[1:]:
        common = promote_dtypes(common, x._data.dtype)
    return [x if x._data.dtype == common else x.to(common) for x in xs]


def _parse(equation: str, shapes) -> tuple:
    """Input subscripts (one str per operand) and output subscripts, ellipses made letters."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    specs = lhs.split(",")
    if len(specs) != len(shapes):
        raise OpError(f"einsum(): the equation {equation!r} has {len(specs)} operand(s) but "
                      f"{len(shapes)} were given")
    for part in specs + ([rhs] if arrow else []):
        bad = set(part.replace("...", "")) - set(_LETTERS)
        if bad or part.count("...") > 1:
            raise OpError(f"einsum(): invalid subscripts {part!r} in {equation!r} (letters and "
                          "at most one '...' per operand)")
    free = [c for c in _LETTERS if c not in eq]
    n_ell = 0
    for spec, shape in zip(specs, shapes):
        named = len(spec.replace("...", ""))
        if "..." in spec:
            n_ell = max(n_ell, len(shape) - named)
        if ("..." not in spec and named != len(shape)) or len(shape) < named:
            raise OpError(f"einsum(): subscripts {spec!r} do not fit an operand of shape "
                          f"{tuple(shape)}")
    ell = "".join(free[:n_ell])
    subs = []
    for spec, shape in zip(specs, shapes):
        if "..." in spec:
            k = len(shape) - len(spec.replace("...", ""))
            spec = spec.replace("...", ell[n_ell - k:] if k else "")
        subs.append(spec)
    if arrow:
        if "..." not in rhs and n_ell and any("..." in s for s in specs):
            out = rhs  # broadcast dims summed away (PyTorch allows it)
        else:
            out = rhs.replace("...", ell)
        seen = "".join(subs)
        for c in out:
            if c not in seen:
                raise OpError(f"einsum(): output subscript {c!r} does not appear in the "
                              f"equation {equation!r} for any input operand")
        if len(set(out)) != len(out):
            raise OpError(f"einsum(): output subscripts {rhs!r} repeat a letter")
    else:
        counts = {c: "".join(subs).count(c) for c in set("".join(subs))}
        out = ell + "".join(sorted((c for c in counts if counts[c] == 1 and c not in ell),
                                   key=_LETTERS.index))
    return subs, out


def _take_diagonals(xs, subs):
    """Operands with a repeated subscript replaced by their diagonal (differentiably)."""
    from .matrix import diagonal

    xs, subs = list(xs), list(subs)
    for k in range(len(xs)):
        spec = subs[k]
        while len(set(spec)) != len(spec):
            c = next(c for c in spec if spec.count(c) > 1)
            i = spec.index(c)
            j = spec.index(c, i + 1)
            if xs[k].shape[i] != xs[k].shape[j]:
                raise OpError(f"einsum(): subscript {c!r} is repeated in operand {k} on dims of "
                              f"sizes {xs[k].shape[i]} and {xs[k].shape[j]}")
            xs[k] = diagonal(xs[k], 0, i, j)  # the diagonal becomes the last dim
            spec = "".join(s for n, s in enumerate(spec) if n not in (i, j)) + c
        subs[k] = spec
    return xs, subs


def _check_sizes(subs, result, xs) -> None:
    size: dict = {}
    for k, (spec, x) in enumerate(zip(subs, xs)):
        for c, n in zip(spec, x.shape):
            seen = size.get(c, 1)
            if n != seen and 1 not in (n, seen):
                raise OpError(f"einsum(): subscript {c!r} has size {n} in operand {k} "
                              f"(shape {x.shape}), which does not broadcast with size {seen}")
            size[c] = max(seen, n) if 1 in (n, seen) else n


einsum = Einsum.call
