"""The namespaces a backward rule is written against (installed into the engine at import).

``NP`` computes gradients as plain arrays (the fast, usual case). ``TENSOR`` computes them with
differentiable chainrule operations, so that the gradient itself has a graph
(``create_graph=True``). Both expose the same small vocabulary with NumPy argument names.
"""

from __future__ import annotations

from math import prod as _prod

import numpy as np

_SMALL = 4096  # elements: below this, NP.broadcast_to copies instead of making a view


class NP:
    """Gradients as plain arrays.

    Rules run once per node per step, so on small arrays NumPy's Python-level wrappers
    (``np.sum``, ``np.swapaxes``, ``np.broadcast_to``) cost more than the arithmetic; the
    functions below go straight to the C entry points where the result is the same.
    """

    differentiable = False
    # True only in ``NP_OWNED``: the upstream gradient ``g`` is the engine's alone (no other
    # array, tensor or rule refers to it), so a rule may write its result into ``g``.
    owns_g = False
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    sign = staticmethod(np.sign)
    where = staticmethod(np.where)
    reshape = staticmethod(np.reshape)
    transpose = staticmethod(np.transpose)
    expand_dims = staticmethod(np.expand_dims)
    flip = staticmethod(np.flip)
    cumsum = staticmethod(np.cumsum)
    cumprod = staticmethod(np.cumprod)
    concatenate = staticmethod(np.concatenate)
    matmul = staticmethod(np.matmul)
    einsum = staticmethod(np.einsum)
    mm = staticmethod(np.dot)  # 2-D operands only: the same GEMM as matmul, called faster
    abs = staticmethod(np.abs)

    @staticmethod
    def sum(x, axis=None, keepdims=False):
        # What np.sum calls for arrays; positional arguments are the cheapest call.
        return np.add.reduce(x, axis, None, None, True) if keepdims else np.add.reduce(x, axis)

    @staticmethod
    def mT(x):
        return x.swapaxes(-1, -2)

    @staticmethod
    def broadcast_to(x, shape):
        """``x`` broadcast to ``shape``: a read-only view, or a small filled array.

        ``np.broadcast_to`` builds its view in Python (microseconds); below a few thousand
        elements filling a fresh array is cheaper, and the caller cannot tell the difference.
        """
        shape = tuple(shape)
        have = getattr(x, "shape", None)  # arrays and NumPy scalars; Python numbers have none
        if have == shape:
            return x
        if have is not None and _prod(shape) <= _SMALL:
            out = np.empty(shape, x.dtype)
            out[...] = x
            return out
        return np.broadcast_to(x, shape)

    @staticmethod
    def sigmoid(x):
        from .elementwise import _sigmoid

        return _sigmoid(x)

    @staticmethod
    def erf(x):
        from .elementwise import _erf

        return _erf(x)

    @staticmethod
    def softmax(x, axis):
        from .reduce import _softmax

        return _softmax(x, axis)

    @staticmethod
    def clone(x):
        return x.copy()

    @staticmethod
    def pad(x, pad_width):
        return np.pad(x, pad_width)

    @staticmethod
    def index_add(shape, index, g):
        """Zeros of ``shape`` with ``g`` scattered-added at ``index`` (repeats accumulate)."""
        from .shape import _index_add

        return _index_add(shape, index, g)

    @staticmethod
    def getitem(x, index):
        return x[index]


class NP_OWNED(NP):  # noqa: N801 - a namespace, named like NP
    """``NP`` for a rule whose upstream gradient array it may overwrite (see ``owns_g``)."""

    owns_g = True


class _TensorBackend:
    """Filled lazily from ``chainrule.functional`` (it imports the ops, which import this)."""

    differentiable = True
    owns_g = False

    def __getattr__(self, name):
        from . import shape as S
        from .op import lookup

        def fn(public):
            return lookup(public).function

        table = {
            "exp": fn("exp"), "log": fn("log"), "sin": fn("sin"), "cos": fn("cos"),
            "sign": fn("sign"), "abs": fn("abs"), "sigmoid": fn("sigmoid"), "erf": fn("erf"),
            "matmul": fn("matmul"), "mm": fn("matmul"), "where": fn("where"),
            "clone": fn("clone"), "einsum": fn("einsum"),
            "sum": lambda x, axis=None, keepdims=False: fn("sum")(x, dim=axis, keepdim=keepdims),
            "reshape": lambda x, shape: fn("reshape")(x, shape),
            "broadcast_to": lambda x, shape: fn("broadcast_to")(x, shape),
            "transpose": lambda x, axes: fn("permute")(x, axes),
            "expand_dims": lambda x, axis: S.expand_dims(x, axis),
            "flip": lambda x, axis: fn("flip")(x, axis),
            "cumsum": lambda x, axis: fn("cumsum")(x, axis),
            "cumprod": lambda x, axis: fn("cumprod")(x, axis),
            "concatenate": lambda xs, axis=0: fn("cat")(xs, axis),
            "mT": lambda x: fn("transpose")(x, -1, -2),
            "softmax": lambda x, axis: fn("softmax")(x, axis),
            "pad": lambda x, pad_width: S.pad_np(x, pad_width),
            "index_add": lambda shape, index, g: S.index_add(shape, index, g),
            "getitem": lambda x, index: x[index],
        }
        for k, v in table.items():
            setattr(self, k, v)
        if name not in table:  # hasattr() and introspection expect AttributeError
            raise AttributeError(f"the differentiable backend has no {name!r}")
        return table[name]


TENSOR = _TensorBackend()


def _install() -> None:
    from ..autograd.engine import install_backends

    install_backends(NP, NP_OWNED, TENSOR)


_install()
