"""Binds the differentiable functions to ``Tensor`` as methods and operators."""

from __future__ import annotations

from . import functional as Fn
from .ops import binary, elementwise, linalg, shape
from .tensor import Tensor


def _method(fn):
    def m(self, *args, **kwargs):
        return fn(self, *args, **kwargs)

    m.__name__ = fn.__name__
    m.__doc__ = fn.__doc__
    return m


_METHODS = [
    "exp", "log", "log1p", "sqrt", "rsqrt", "abs", "sign", "sin", "cos", "tanh", "sigmoid",
    "relu", "leaky_relu", "gelu", "silu", "elu", "softplus", "clamp", "clip", "pow", "square",
    "erf", "sum", "mean", "var", "std", "max", "min", "amax", "amin", "prod", "logsumexp",
    "softmax", "log_softmax", "argmax", "argmin", "cumsum", "matmul", "flatten", "squeeze",
    "unsqueeze", "transpose", "permute", "expand", "expand_as", "broadcast_to", "flip", "split",
    "chunk", "unbind", "maximum", "minimum", "t", "dot", "neg", "reciprocal", "clamp_min",
    "clamp_max", "masked_fill", "index_select", "gather", "outer",
]
for _name in _METHODS:
    setattr(Tensor, _name, _method(getattr(Fn, _name)))


def _reshape(self, *size):
    return shape.reshape(self, *size)


Tensor.reshape = _reshape
Tensor.view = _reshape
Tensor.view_as = lambda self, other: shape.reshape(self, other.shape)
Tensor.reshape_as = Tensor.view_as
Tensor.type_as = lambda self, other: self.to(other.dtype)
Tensor.nelement = Tensor.numel
Tensor.ndimension = Tensor.dim


def _new(fill):
    def make(self, size, dtype=None, requires_grad=False):
        from . import creation

        size = (size,) if isinstance(size, int) else tuple(size)
        return creation.full(size, fill, dtype=dtype or self.dtype, requires_grad=requires_grad)

    return make


Tensor.new_zeros = _new(0)
Tensor.new_ones = _new(1)
Tensor.new_full = lambda self, size, fill_value, dtype=None, requires_grad=False: _new(
    fill_value)(self, size, dtype, requires_grad)
Tensor.new_tensor = lambda self, data, dtype=None, requires_grad=False: Tensor(
    data, dtype=dtype or self.dtype, requires_grad=requires_grad)
Tensor.__getitem__ = shape.getitem
Tensor.__neg__ = elementwise.neg
Tensor.__abs__ = elementwise.abs
Tensor.__pos__ = lambda self: self
Tensor.__add__ = binary.add
Tensor.__radd__ = lambda self, o: binary.add(o, self)
Tensor.__sub__ = binary.sub
Tensor.__rsub__ = binary.rsub
Tensor.__mul__ = binary.mul
Tensor.__rmul__ = lambda self, o: binary.mul(o, self)
Tensor.__truediv__ = binary.div
Tensor.__rtruediv__ = binary.rdiv
Tensor.__pow__ = elementwise.pow
Tensor.__rpow__ = lambda self, o: binary.pow_tensor(o, self)
Tensor.__floordiv__ = binary.floor_divide
Tensor.__rfloordiv__ = binary.rfloordiv
Tensor.__mod__ = binary.remainder
Tensor.__rmod__ = binary.rremainder
Tensor.__matmul__ = linalg.matmul
Tensor.__rmatmul__ = lambda self, o: linalg.matmul(o, self)
Tensor.add = lambda self, o, alpha=1: binary.add(self, o, alpha)
Tensor.sub = lambda self, o, alpha=1: binary.sub(self, o, alpha)
Tensor.mul = binary.mul
Tensor.div = binary.div
Tensor.where = lambda self, cond, other: binary.where(cond, self, other)
