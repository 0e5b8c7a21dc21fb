"""Data types: chainrule uses NumPy dtypes directly, with PyTorch-style names.

Every PyTorch dtype NumPy has is here under PyTorch's names (``cr.float32``, ``cr.long``,
``cr.short``...). ``cr.bfloat16`` is the exception: NumPy has no bfloat16 type, and chainrule
keeps NumPy its only required dependency, so ``cr.bfloat16`` exists (code may name it, and
``cr.finfo(cr.bfloat16)`` answers) but making a tensor of it raises a ``TypeError`` that says
why. ``finfo`` and ``iinfo`` give a type's limits as ``torch.finfo`` / ``torch.iinfo`` do.
"""

from __future__ import annotations

import builtins as _b

import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
complex64 = np.dtype(np.complex64)
complex128 = np.dtype(np.complex128)
half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001
cfloat, cdouble = complex64, complex128

builtins_float, builtins_int, builtins_bool = _b.float, _b.int, _b.bool

_default_float = float32


class UnsupportedDtype:
    """A PyTorch dtype chainrule can name but not store (NumPy has no such type).

    Example:
        >>> import chainrule as cr
        >>> cr.bfloat16
        chainrule.bfloat16
        >>> cr.finfo(cr.bfloat16).eps
        0.0078125
    """

    def __init__(self, name: str, why: str, limits: dict) -> None:
        self.name, self.why, self._limits = name, why, limits

    def __repr__(self) -> str:
        return f"chainrule.{self.name}"

    is_floating_point = True
    is_complex = False


bfloat16 = UnsupportedDtype(
    "bfloat16",
    "NumPy, chainrule's only required dependency, has no bfloat16 type, so chainrule cannot "
    "store bfloat16 tensors; use cr.float32 (or cr.float16 for half the memory)",
    # PyTorch's torch.finfo(torch.bfloat16): 8 exponent bits (float32's range), 7 mantissa bits
    dict(bits=16, eps=2.0 ** -7, max=3.3895313892515355e38, min=-3.3895313892515355e38,
         tiny=2.0 ** -126, resolution=0.01),
)


def set_default_dtype(dtype) -> None:
    """Set the dtype given to tensors made from Python floats and lists.

    Example:
        >>> import chainrule as cr
        >>> cr.set_default_dtype(cr.float64); cr.tensor(1.0).dtype
        dtype('float64')
        >>> cr.set_default_dtype(cr.float32)
    """
    global _default_float
    d = as_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {d}")
    _default_float = d


def get_default_dtype() -> np.dtype:
    """The dtype of tensors made from Python floats (float32 unless changed)."""
    return _default_float


def is_floating(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


def as_dtype(dtype) -> np.dtype | None:
    """Normalise a user dtype (``cr.float32``, ``"float32"``, ``np.float32``, Python types)."""
    if dtype is None:
        return None
    if dtype is builtins_float:
        return _default_float
    if dtype is builtins_int:
        return int64
    if dtype is builtins_bool:
        return bool_
    if isinstance(dtype, UnsupportedDtype) or (isinstance(dtype, str) and
                                               dtype.removeprefix("torch.") == "bfloat16"):
        raise TypeError(f"bfloat16 is not supported: {bfloat16.why}")
    try:
        return np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"not a dtype: {dtype!r}") from e


class finfo:  # noqa: N801 - PyTorch's name
    """The limits of a floating-point dtype (the default dtype when none is given).

    Attributes as ``torch.finfo``: ``bits``, ``eps``, ``max``, ``min``, ``tiny`` (the same as
    ``smallest_normal``), ``resolution`` and ``dtype`` (its name), each a Python number.

    Example:
        >>> import chainrule as cr
        >>> cr.finfo(cr.float32).eps, cr.finfo(cr.float16).max
        (1.1920928955078125e-07, 65504.0)
    """

    def __init__(self, type=None) -> None:  # noqa: A002 - PyTorch's argument name
        if isinstance(type, UnsupportedDtype):
            lim = type._limits
            self.dtype = type.name
        else:
            d = _default_float if type is None else as_dtype(type)
            if d.kind != "f":
                raise TypeError(f"finfo(): expects a floating-point dtype, got {d}; use "
                                "cr.iinfo for integer types")
            info = np.finfo(d)
            lim = dict(bits=info.bits, eps=builtins_float(info.eps), max=builtins_float(info.max),
                       min=builtins_float(info.min), tiny=builtins_float(info.smallest_normal),
                       resolution=10.0 ** -info.precision)
            self.dtype = d.name
        self.bits = lim["bits"]
        self.eps, self.max, self.min = lim["eps"], lim["max"], lim["min"]
        self.tiny = self.smallest_normal = lim["tiny"]
        self.resolution = lim["resolution"]

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:  # noqa: N801 - PyTorch's name
    """The limits of an integer dtype: ``bits``, ``max``, ``min``, ``dtype`` (its name).

    Example:
        >>> import chainrule as cr
        >>> cr.iinfo(cr.int8).min, cr.iinfo(cr.uint8).max
        (-128, 255)
    """

    def __init__(self, type) -> None:  # noqa: A002 - PyTorch's argument name
        d = as_dtype(type)
        if d is None or d.kind not in "iu":
            raise TypeError(f"iinfo(): expects an integer dtype, got {d}; use cr.finfo for "
                            "floating-point types")
        info = np.iinfo(d)
        self.bits, self.max, self.min = info.bits, builtins_int(info.max), builtins_int(info.min)
        self.dtype = d.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
