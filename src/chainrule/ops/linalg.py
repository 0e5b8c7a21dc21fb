"""Matrix products: ``matmul`` and the fused dense-layer primitive ``linear``."""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from .._blas import matmul_add_
from ..autograd.graph import OpError
from ..tensor import Tensor, _wrap
from ._util import like_one
from .op import Op, public

# Outputs of at least this many entries get the bias through the GEMM (below, the ctypes call
# costs more than the pass it saves).
_BIAS_IN_GEMM = 65536


class Matmul(Op):
    """Matrix product with PyTorch's rules for 1-D operands and batch broadcasting.

    Example:
        >>> import chainrule as cr
        >>> (cr.ones(2, 3) @ cr.ones(3, 4)).shape
        (2, 4)
    """

    kind, method, promote, symbol = "linalg", True, "common", "@"
    fresh_grads = True
    formula = "d(AB)/dA = G B^T, d(AB)/dB = A^T G"
    latex = (r"\frac{\partial L}{\partial A} = G B^{\top},\ "
             r"\frac{\partial L}{\partial B} = A^{\top} G")
    def call(input, other):  # noqa: A002
        a, b = input, other
        if type(a) is not Tensor or type(b) is not Tensor or a._data.dtype is not b._data.dtype \
                or a._data.dtype.kind != "f":
            a, b = check.same_dtype_operands("matmul", ("input", "other"), a, b)
        if a.ndim == 0 or b.ndim == 0:
            raise OpError(
                f"matmul(): both operands need at least 1 dim, got {a.shape} and {b.shape}")
        ka = a.shape[-1]
        kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if ka != kb:
            raise OpError(f"matmul(): shapes {a.shape} and {b.shape} do not align "
                          f"({ka} != {kb} in the contracted dim)")
        if a.ndim == 1 or b.ndim == 1:
            from .shape import reshape

            a2 = reshape(a, (1, ka)) if a.ndim == 1 else a
            b2 = reshape(b, (kb, 1)) if b.ndim == 1 else b
            out = Matmul.record(a2, b2)
            shape = out.shape
            if a.ndim == 1:
                shape = shape[:-2] + shape[-1:]
            if b.ndim == 1:
                shape = shape[:-1]
            return reshape(out, shape)
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise OpError(
                f"matmul(): batch dims of {a.shape} and {b.shape} do not broadcast") from None
        return Matmul.record(a, b)

    forward = np.matmul
    pass_needs_input_grad = True  # x @ W with x the data: skip the product nobody reads

    def backward(F, g, out, a, b, needs_input_grad=(True, True)):
        return (F.matmul(g, F.mT(b)) if needs_input_grad[0] else None,
                F.matmul(F.mT(a), g) if needs_input_grad[1] else None)


class Linear(Op):
    """``x @ weight.T + bias`` as one node (a dense layer's forward).

    Example:
        >>> import chainrule as cr
        >>> cr.linear(cr.ones(4, 3), cr.ones(2, 3), cr.zeros(2)).shape
        (4, 2)
    """

    kind = "linalg"
    formula = "y = x W^T + b:  dL/dx = G W, dL/dW = G^T x, dL/db = sum over batch of G"
    latex = (r"\frac{\partial L}{\partial x} = G W,\ \frac{\partial L}{\partial W} = G^{\top} x,"
             r"\ \frac{\partial L}{\partial b} = \textstyle\sum_n G_n")

    # The input is often the data batch: skipping its gradient saves one of the three GEMMs.
    pass_needs_input_grad = True
    fresh_grads = True

    def call(input, weight, bias=None):  # noqa: A002
        x, w, b = input, weight, bias
        if type(x) is not Tensor or type(w) is not Tensor or x._data.dtype is not w._data.dtype \
                or x._data.dtype.kind != "f" or b is not None and (
                    type(b) is not Tensor or b._data.dtype is not x._data.dtype):
            x, w, b = check.same_dtype_operands("linear", ("input", "weight", "bias"), x, w, b)
        xs, ws = x._data.shape, w._data.shape  # the arrays' shapes: no property calls on this path
        if len(ws) != 2 or not xs or xs[-1] != ws[1]:
            raise OpError(
                f"linear(): input of shape {x.shape} does not fit weight of shape {w.shape} "
                f"(expected input [..., {w.shape[1] if w.ndim == 2 else '?'}])")
        if b is None:
            return Linear.record(x, w)
        if b._data.shape != ws[:1]:
            # PyTorch adds any bias that broadcasts to the output (a scalar, (1, out), ...)
            out_shape = xs[:-1] + ws[:1]
            try:
                np.broadcast_shapes(b._data.shape, out_shape)
            except ValueError:
                raise OpError(f"linear(): bias of shape {b.shape} does not broadcast to the "
                              f"output's shape {out_shape}") from None
            from .binary import add

            return add(Linear.record(x, w), b)
        return Linear.record(x, w, b)

    def forward(x, w, b=None):
        if not w.size or not x.size:  # no features in or out, or no rows: no GEMM to run
            y = np.zeros(x.shape[:-1] + w.shape[:1], np.result_type(x, w))
            return y if b is None else y + b
        if x.size == 1 and w.size == 1 and x.ndim == 2 and _same_dtype(x, w, b):
            return like_one(x, x.item() * w.item() + (0.0 if b is None else b.item()))
        if b is not None and x.ndim >= 2 and x.dtype is w.dtype is b.dtype and \
                x.size // max(x.shape[-1], 1) * w.shape[0] >= _BIAS_IN_GEMM:
            # The output starts as the bias and BLAS adds the product into it (beta = 1): one
            # pass over the output less than a product followed by ``y += b``.
            y = np.empty(x.shape[:-1] + w.shape[:1], x.dtype)
            y2 = y.reshape(-1, w.shape[0])
            y2[...] = b
            if matmul_add_(y2, x.reshape(-1, x.shape[-1]), w.T):
                return y
        # np.dot is np.matmul for 2-D operands (the same GEMM) with half the call overhead.
        if x.ndim == 2:
            y = np.dot(x, w.T)
        elif x.ndim > 2:
            # One GEMM over all leading dims: np.matmul would run one GEMM per leading index,
            # streaming the whole weight each time (35x for a (35, 20, H) sequence batch).
            y = np.dot(x.reshape(-1, x.shape[-1]), w.T).reshape(x.shape[:-1] + w.shape[:1])
        else:
            y = np.matmul(x, w.T)
        if b is not None:
            y += b  # in place: the bias add needs no second (batch, out) array
        return y

    def backward(F, g, out, x, w, b=None, needs_input_grad=(True, True, True)):
        if not g.size or not x.size:  # an empty product: zero gradients (no reshape of -1)
            zeros = [np.zeros(t.shape, t.dtype) for t in (x, w) + ((b,) if b is not None
                                                                   else ())]
            return tuple(_wrap(z) if F.differentiable else z for z in zeros)
        if g.size == 1 and x.size == 1 and g.ndim == 2 and not F.differentiable and \
                _same_dtype(x, w, b):
            gv = g.item()  # a 1-1 layer on one sample: three products of Python floats
            gx = like_one(x, gv * w.item()) if needs_input_grad[0] else None
            gw = like_one(w, gv * x.item()) if needs_input_grad[1] else None
            if b is None:
                return gx, gw
            return gx, gw, like_one(b, gv) if needs_input_grad[2] else None
        mm = F.mm if g.ndim == 2 else F.matmul
        if not needs_input_grad[0]:
            gx = None
        elif g.ndim == 2 and not F.differentiable and x.flags.f_contiguous and \
                not x.flags.c_contiguous:
            # x is a transposed view (a flattened batch-innermost image): the gradient is made
            # in the same layout, so the layers below need no transposing copy of it.
            gx = np.dot(w.T, g.T).T
        elif g.ndim > 2 and not F.differentiable:
            gx = np.dot(g.reshape(-1, g.shape[-1]), w).reshape(g.shape[:-1] + w.shape[1:])
        else:
            gx = mm(g, w)
        if not needs_input_grad[1]:
            gw = None
        elif g.ndim == 2:
            gw = mm(g.T, x)
        elif g.ndim == 1:
            gw = F.reshape(g, (-1, 1)) * F.reshape(x, (1, -1))
        else:
            g2 = F.reshape(g, (-1, g.shape[-1]))
            gw = F.mm(g2.T, F.reshape(x, (-1, x.shape[-1])))
        if b is None:
            return gx, gw
        if not needs_input_grad[2]:
            return gx, gw, None
        if g.ndim == 2:
            return gx, gw, F.sum(g, axis=0)
        if g.ndim > 1:
            return gx, gw, F.sum(g, axis=tuple(range(g.ndim - 1)))
        return gx, gw, g if F.differentiable else g.copy()  # a new array: fresh_grads


def _same_dtype(x, w, b) -> bool:
    return x.dtype is w.dtype and (b is None or b.dtype is x.dtype)


@public(method=True, kind="linalg")
def dot(a, b) -> Tensor:
    """Inner product of two 1-D tensors of the same length.

    Example:
        >>> import chainrule as cr
        >>> cr.dot(cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0])).item()
        11.0
    """
    a, b = check.same_dtype_operands("dot", ("input", "tensor"), a, b)
    if a.ndim != 1 or b.ndim != 1:
        raise OpError(f"dot(): expects two 1-D tensors, got {a.shape} and {b.shape}")
    if a.shape != b.shape:
        raise OpError(f"dot(): the tensors must have the same length, got {a.shape[0]} and "
                      f"{b.shape[0]}")
    return matmul(a, b)


@public(method=True, kind="linalg")
def mm(input, mat2) -> Tensor:  # noqa: A002
    """Matrix product of two 2-D tensors (``matmul`` also takes batches and vectors).

    Example:
        >>> import chainrule as cr
        >>> cr.mm(cr.ones(2, 3), cr.ones(3, 4)).shape
        (2, 4)
    """
    a, b = check.same_dtype_operands("mm", ("input", "mat2"), input, mat2)
    if a.ndim != 2 or b.ndim != 2:
        raise OpError(f"mm(): input and mat2 must be 2-D matrices, got {a.shape} and {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise OpError(f"mm(): input of shape {a.shape} and mat2 of shape {b.shape} cannot be "
                      f"multiplied ({a.shape[1]} != {b.shape[0]})")
    return matmul(a, b)


matmul, linear = Matmul.call, Linear.call
