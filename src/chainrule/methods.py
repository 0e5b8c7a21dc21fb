"""Every ``Tensor`` method that runs an op, bound in one place.

Three groups: the registry's methods (every op or ``@public`` function declared ``method=True``,
now and whenever one is defined later), the operators (``+``, ``@``, ``x[i]``...), and the
conversions (``to``, ``float``, ``contiguous``...). ``tensor.py`` itself holds only what a tensor
is: its array, its gradient bookkeeping and its in-place writes.
"""

from __future__ import annotations

from . import dtypes
from .ops import binary, bind_methods_to, compare, elementwise, linalg, rounding, scatter, shape
from .tensor import Tensor

bind_methods_to(Tensor)

# ---- operators ------------------------------------------------------------------------------
Tensor.__getitem__ = shape.getitem
Tensor.__setitem__ = shape.setitem
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
Tensor.__mod__ = rounding.remainder
Tensor.__rmod__ = rounding.rremainder
Tensor.__eq__ = compare.operator(compare.eq)
Tensor.__ne__ = compare.operator(compare.ne)
Tensor.__lt__ = compare.operator(compare.lt)
Tensor.__le__ = compare.operator(compare.le)
Tensor.__gt__ = compare.operator(compare.gt)
Tensor.__ge__ = compare.operator(compare.ge)
Tensor.__matmul__ = linalg.matmul
Tensor.__rmatmul__ = lambda self, o: linalg.matmul(o, self)
Tensor.where = lambda self, condition, other: binary.where(condition, self, other)
Tensor.view_as = lambda self, other: shape.reshape(self, other.shape)
Tensor.reshape_as = Tensor.view_as
Tensor.nelement = Tensor.numel
Tensor.ndimension = Tensor.dim
Tensor.T = property(lambda self: shape.permute(self, tuple(range(self.ndim - 1, -1, -1))),
                    doc="The tensor with its axes reversed.")
Tensor.mT = property(lambda self: shape.transpose(self, -1, -2),
                     doc="The last two axes swapped (a batch of matrices transposed).")


# ---- conversions ----------------------------------------------------------------------------
_DEVICES = ("cpu",)


def _device_of(arg) -> str | None:
    """The device a ``to()`` argument names, or None when it names none."""
    name = getattr(arg, "type", arg) if not isinstance(arg, str) else arg
    if not isinstance(name, str):
        return None
    base = name.split(":", 1)[0]
    if base in _DEVICES or base in ("cuda", "mps", "xpu", "meta", "hip", "xla", "vulkan"):
        return name
    return None


def _check_device(device: str, where: str) -> None:
    if device.split(":", 1)[0] not in _DEVICES:
        raise RuntimeError(
            f"{where}: device {device!r} is not available. chainrule computes on the CPU with "
            "NumPy arrays and has no other device in this version; keep tensors on 'cpu' (the "
            "default) or leave the device out.")


def to(self, *args, **kwargs) -> Tensor:
    """This tensor converted to a dtype and/or device, PyTorch's call forms.

    ``x.to(dtype)``, ``x.to(device)``, ``x.to(device, dtype)``, ``x.to(other)`` (other's dtype)
    and the keywords ``dtype=`` / ``device=``. Returns ``self`` when nothing changes;
    differentiable between floating-point dtypes. The only device is ``'cpu'``.

    Example:
        >>> import chainrule as cr
        >>> cr.tensor([1.5]).to("cpu", cr.float64).dtype
        dtype('float64')
    """
    dtype, device = kwargs.pop("dtype", None), kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"to(): unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg._data.dtype
        elif _device_of(arg) is not None:
            device = _device_of(arg)
        elif arg is not None:
            dtype = arg
    if device is not None:
        _check_device(str(getattr(device, "type", device)), "to()")
    if dtype is None:
        return self
    return elementwise.cast(self, dtype)


def _converter(dtype):
    def convert(self) -> Tensor:
        return elementwise.cast(self, dtype)

    convert.__doc__ = f"This tensor converted to {dtypes.as_dtype(dtype)}."
    return convert


def _cuda(self, device=None, non_blocking: bool = False) -> Tensor:
    _check_device("cuda" if device is None else f"cuda:{device}", "cuda()")
    return self  # pragma: no cover - unreachable


def contiguous(self) -> Tensor:
    """This tensor if its array is C-contiguous, else a row-major copy (differentiable).

    A convolution's output, for one, is stored batch innermost.

    Example:
        >>> import chainrule as cr
        >>> y = cr.conv2d(cr.ones(2, 1, 4, 4), cr.ones(3, 1, 3, 3))
        >>> y.contiguous().numpy().flags.c_contiguous
        True
    """
    if self._data.flags.c_contiguous:
        return self
    return elementwise.clone(self)


# PyTorch's legacy type names, for ``x.type()`` and ``x.type("torch.DoubleTensor")``
_TYPE_NAMES = {dtypes.float32: "FloatTensor", dtypes.float64: "DoubleTensor",
               dtypes.float16: "HalfTensor", dtypes.int64: "LongTensor",
               dtypes.int32: "IntTensor", dtypes.int16: "ShortTensor", dtypes.int8: "CharTensor",
               dtypes.uint8: "ByteTensor", dtypes.bool_: "BoolTensor",
               dtypes.complex64: "ComplexFloatTensor", dtypes.complex128: "ComplexDoubleTensor"}
_BY_TYPE_NAME = {name: dt for dt, name in _TYPE_NAMES.items()}


def type_(self, dtype=None, non_blocking: bool = False):
    """With no argument, the type's name (``"chainrule.FloatTensor"``); with a dtype (or a
    name such as ``"torch.DoubleTensor"``), this tensor converted to it.

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor([1.5, -2.5])
        >>> x.type(), x.type(cr.int64).tolist(), x.type("torch.DoubleTensor").dtype
        ('chainrule.FloatTensor', [1, -2], dtype('float64'))
    """
    if dtype is None:
        return "chainrule." + _TYPE_NAMES.get(self._data.dtype, str(self._data.dtype))
    if isinstance(dtype, str) and dtype.rsplit(".", 1)[-1] in _BY_TYPE_NAME:
        dtype = _BY_TYPE_NAME[dtype.rsplit(".", 1)[-1]]
    return to(self, dtype)


def _unsupported_bfloat16(self) -> Tensor:
    dtypes.as_dtype(dtypes.bfloat16)  # raises, saying why
    return self  # pragma: no cover - unreachable


Tensor.to = to
Tensor.type = type_
Tensor.type_as = lambda self, other: to(self, other.dtype)
Tensor.float = _converter(dtypes.float32)
Tensor.double = _converter(dtypes.float64)
Tensor.half = _converter(dtypes.float16)
Tensor.bfloat16 = _unsupported_bfloat16
Tensor.long = _converter(dtypes.int64)
Tensor.int = _converter(dtypes.int32)
Tensor.short = _converter(dtypes.int16)
Tensor.char = _converter(dtypes.int8)
Tensor.byte = _converter(dtypes.uint8)
Tensor.bool = _converter(dtypes.bool_)
Tensor.cfloat = _converter(dtypes.complex64)
Tensor.cdouble = _converter(dtypes.complex128)
Tensor.cpu = lambda self: self
Tensor.cuda = _cuda
Tensor.contiguous = contiguous


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


# ---- in-place forms of ops (never recorded: the result is written into this tensor) ------------


def _in_place(function, name: str):
    """``Tensor.<name>``: ``function`` computed out of place on the detached values, then
    written into this tensor (the in-place rules of ``add_``: refused where it would change a
    tensor a gradient needs)."""

    def method(self, *args, **kwargs):
        args = [a.detach() if isinstance(a, Tensor) else a for a in args]
        kwargs = {k: v.detach() if isinstance(v, Tensor) else v for k, v in kwargs.items()}
        return self._set(function(self.detach(), *args, **kwargs)._data, f"{name}()")

    method.__name__ = name
    method.__doc__ = f"The in-place form of ``{function.__name__}``."
    return method


Tensor.scatter_ = _in_place(scatter.scatter, "scatter_")
Tensor.scatter_add_ = _in_place(scatter.scatter_add, "scatter_add_")
Tensor.scatter_reduce_ = _in_place(scatter.scatter_reduce, "scatter_reduce_")
