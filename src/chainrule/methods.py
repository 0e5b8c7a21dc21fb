"""Every ``Tensor`` method that runs an op, bound in one place.

Three groups: the registry's methods (every op or ``@public`` function declared ``method=True``,
now and whenever one is defined later), the operators (``+``, ``@``, ``x[i]``...), and the
conversions (``to``, ``float``, ``contiguous``...). ``tensor.py`` itself holds only what a tensor
is: its array, its gradient bookkeeping and its in-place writes.
"""

from __future__ import annotations

import numpy as np

from . import creation, devices, dtypes
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
def to(self, *args, **kwargs) -> Tensor:
    """This tensor converted to a dtype and/or device, PyTorch's call forms.

    ``x.to(dtype)``, ``x.to(device)``, ``x.to(device, dtype)``, ``x.to(other)`` (other's dtype),
    the keywords ``dtype=`` / ``device=`` / ``non_blocking=`` / ``copy=``. Returns ``self`` when
    nothing changes (a copy with ``copy=True``); differentiable between floating-point dtypes.
    The only device that can hold tensors is the CPU: any other raises
    ``DeviceUnavailableError`` (see ``chainrule.devices``).

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor([1.5])
        >>> x.to("cpu") is x, x.to("cpu", cr.float64).dtype
        (True, dtype('float64'))
    """
    if len(args) == 1 and not kwargs:  # the per-batch calls, x.to(device) and x.to(dtype)
        a = args[0]
        if (type(a) is str and a == "cpu") or (type(a) is devices.device and a.type == "cpu"
                                                 and a.index is None):
            return self
        if isinstance(a, np.dtype):
            return self if a == self._data.dtype else elementwise.cast(self, a)
    dtype, _, copy, _ = devices.parse_to(args, kwargs, "to()", Tensor)
    if dtype is not None:
        dt = dtypes.as_dtype(dtype)
        if dt != self._data.dtype:
            return elementwise.cast(self, dt)
    return elementwise.clone(self) if copy else self


def _converter(dtype):
    def convert(self) -> Tensor:
        return elementwise.cast(self, dtype)

    convert.__doc__ = f"This tensor converted to {dtypes.as_dtype(dtype)}."
    return convert


# PyTorch's legacy tensor type names, for Tensor.type()
_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
               "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
               "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
_TYPE_DTYPES = {f"{v}Tensor": k for k, v in _TYPE_NAMES.items()}


def type_(self, dtype=None, non_blocking: bool = False, **kwargs):
    """Without arguments, the type name (``'chainrule.FloatTensor'``); with a dtype or a type
    name (``'torch.DoubleTensor'``), this tensor converted to it.

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor([1.0])
        >>> x.type(), x.type("torch.DoubleTensor").dtype
        ('chainrule.FloatTensor', dtype('float64'))
    """
    if dtype is None:
        return f"chainrule.{_TYPE_NAMES.get(self._data.dtype.name, 'Float')}Tensor"
    if isinstance(dtype, str):
        parts = dtype.split(".")
        if len(parts) > 1 and parts[-1] in _TYPE_DTYPES:
            if len(parts) > 2:  # 'torch.cuda.FloatTensor'
                raise devices.unavailable(parts[-2], "type()")
            dtype = _TYPE_DTYPES[parts[-1]]
    return to(self, dtype, **kwargs)


def _cuda(self, device=None, non_blocking: bool = False, **kwargs) -> Tensor:
    name = "cuda" if device is None else str(device if isinstance(device, (str, devices.device))
                                             else f"cuda:{device}")
    raise devices.unavailable(name, "cuda()")


def _pin_memory(self, device=None) -> Tensor:
    raise devices.DeviceUnavailableError(
        "pin_memory(): pinned memory needs an accelerator, and this build of chainrule "
        "computes on the CPU only; leave the tensor as it is")


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
Tensor.cpu = lambda self, *, memory_format=None: self
Tensor.cuda = _cuda
Tensor.pin_memory = _pin_memory
Tensor.contiguous = contiguous


# ---- new_*: factories that default to this tensor's dtype ------------------------------------
def _new(fill, where: str):
    def make(self, *size, dtype=None, device=None, requires_grad: bool = False, layout=None,
             pin_memory: bool = False, **kwargs) -> Tensor:
        if "size" in kwargs:  # new_zeros(size=(2, 3))
            if size:
                raise TypeError(f"{where}: got multiple values for argument 'size'")
            size = (kwargs.pop("size"),)
        if kwargs:
            raise TypeError(f"{where}: unexpected keyword arguments {sorted(kwargs)}")
        if not size:
            raise TypeError(f"{where}: missing the size (ints, or one tuple of ints)")
        devices.check_factory(device, layout, pin_memory, where, follows_default=False)
        dt = dtypes.as_dtype(dtype) or self._data.dtype
        return creation._make(fill(creation._shape(size, where.rstrip("()"), dt), dtype=dt),
                              requires_grad)

    make.__name__ = where.rstrip("()")
    make.__doc__ = (f"A tensor from ``{where[4:].rstrip('()')}`` with this tensor's dtype unless "
                    "``dtype``; ``size`` as ints or one tuple.")
    return make


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad: bool = False,
             layout=None, pin_memory: bool = False) -> Tensor:
    """A tensor of ``size`` (a tuple or list) filled with ``fill_value``, in this tensor's
    dtype unless ``dtype``.

    Example:
        >>> import chainrule as cr
        >>> cr.zeros(2).new_full((2, 1), 3).tolist()
        [[3.0], [3.0]]
    """
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"new_full(): size must be a tuple of ints, got {type(size).__name__}")
    devices.check_factory(device, layout, pin_memory, "new_full()", follows_default=False)
    fill_value = creation._fill(fill_value, "new_full")
    dt = dtypes.as_dtype(dtype) or self._data.dtype
    return creation._make(np.full(creation._shape((tuple(size),), "new_full", dt), fill_value,
                                  dtype=dt), requires_grad)


def new_tensor(self, data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``data`` as a new tensor (a copy) in this tensor's dtype unless ``dtype``.

    Example:
        >>> import chainrule as cr
        >>> cr.zeros(2).new_tensor([1, 2])
        tensor([1., 2.])
    """
    devices.check_factory(device, None, False, "new_tensor()", follows_default=False)
    return Tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


Tensor.new_zeros = _new(np.zeros, "new_zeros()")
Tensor.new_ones = _new(np.ones, "new_ones()")
Tensor.new_empty = _new(np.empty, "new_empty()")
Tensor.new_full = new_full
Tensor.new_tensor = new_tensor


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
