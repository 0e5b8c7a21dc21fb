"""Devices: ``cr.device``, the default device, and the one place that decides where tensors live.

chainrule computes on the CPU with NumPy arrays. It behaves like a CPU-only PyTorch build: a
program may *name* any device (``cr.device('cuda:1')`` is a plain value, and ``device = 'cuda'
if cr.cuda.is_available() else 'cpu'`` picks the CPU), and only placing a tensor or a module on
a device other than the CPU fails, with :class:`DeviceUnavailableError`. Every factory,
``Tensor.to``, ``Tensor.cuda``, ``Module.to`` and ``Module.cuda`` asks :func:`check`.

Example:
    >>> import chainrule as cr
    >>> device = cr.device("cuda" if cr.cuda.is_available() else "cpu")
    >>> cr.zeros(2, device=device).device
    device(type='cpu')
"""

from __future__ import annotations

import re
import threading
from typing import Any

import numpy as np

from . import dtypes

# The device types PyTorch 2.13 parses, in its order (its error message lists them so).
TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
         "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
_PARSE = re.compile(r"([a-z][a-z_]*)(?::(0|[1-9][0-9]*))?")
_NONE_MSG = ("there is no accelerator: this build of chainrule computes on the CPU only "
             "(NumPy arrays)")


class DeviceUnavailableError(NotImplementedError, AssertionError):
    """A tensor or module was to be placed on a device other than the CPU.

    It is a ``RuntimeError`` (through ``NotImplementedError``) and an ``AssertionError``: a
    CPU-only PyTorch raises ``AssertionError("Torch not compiled with CUDA enabled")`` for
    CUDA, ``NotImplementedError`` when a factory targets MPS and ``RuntimeError`` for the rest,
    so code written to catch any of them catches this.
    """


class device:  # noqa: N801  (PyTorch's name)
    """A device name: a type (``'cpu'``, ``'cuda'``, ...) and an optional index.

    Making one never fails for a known type, as in PyTorch; putting a tensor on any device but
    the CPU does (see :class:`DeviceUnavailableError`). Equal devices hash alike; a device never
    equals a string (``cr.device('cpu') == 'cpu'`` is False, as in PyTorch: compare
    ``x.device.type == 'cpu'``). ``with cr.device('cpu'):`` sets the default device of the
    factories inside the block.

    Example:
        >>> import chainrule as cr
        >>> d = cr.device("cuda:1")
        >>> d.type, d.index, str(d)
        ('cuda', 1, 'cuda:1')
        >>> cr.device("cpu") == cr.device("cpu"), cr.device("cpu") == "cpu"
        (True, False)
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type: str | device | int, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): an index cannot be given with a device")
            self._type, self._index = type._type, type._index
            return
        if isinstance(type, (int, np.integer)) and not isinstance(type, bool):
            # An integer means an accelerator index in PyTorch; there is none here.
            raise RuntimeError(f"device({type}): {_NONE_MSG}; use cr.device('cpu')")
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a device string such as 'cpu' or 'cuda:0', "
                            f"a device or an int, got {_typename(type)}")
        if index is not None and (not isinstance(index, (int, np.integer))
                                  or isinstance(index, bool)):
            raise TypeError(f"device(): index must be an int, got {_typename(index)}")
        if not type:
            raise RuntimeError("device(): the device string must not be empty")
        m = _PARSE.fullmatch(type)
        if m is None:
            raise RuntimeError(f"device(): invalid device string {type!r}; expected a type "
                               "with an optional index, such as 'cpu' or 'cuda:0'")
        kind, num = m.group(1), m.group(2)
        if kind not in TYPES:
            raise RuntimeError(f"device(): unknown device type {kind!r} in {type!r}; expected "
                               f"one of {', '.join(TYPES)}")
        if num is not None and index is not None:
            raise RuntimeError(f"device(): {type!r} already holds an index; do not pass "
                               "index= too")
        if index is not None and index < 0:
            raise RuntimeError(f"device(): the index must not be negative, got {index}")
        self._type = kind
        self._index = int(num) if num is not None else None if index is None else int(index)

    @property
    def type(self) -> str:
        """The device type, such as ``'cpu'`` or ``'cuda'``."""
        return self._type

    @property
    def index(self) -> int | None:
        """The device index, or None when the string named none."""
        return self._index

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, device):
            return NotImplemented
        return self._type == other._type and self._index == other._index

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self) -> str:
        extra = "" if self._index is None else f", index={self._index}"
        return f"device(type='{self._type}'{extra})"

    def __reduce__(self):
        return (device, (str(self),))

    # ``with cr.device(...)``: the default device of the factories inside the block
    def __enter__(self) -> device:
        _STATE.stack.append(self)
        _STATE.current = self
        return self

    def __exit__(self, *exc) -> None:
        stack = _STATE.stack
        if stack:
            stack.pop()
        _STATE.current = stack[-1] if stack else _STATE.default


CPU = device("cpu")


def _typename(x: Any) -> str:
    return type(x).__name__


# ---- the default device (per thread, as in PyTorch) -------------------------------------------
class _State(threading.local):
    def __init__(self) -> None:
        self.default: device | None = None   # set_default_device; None is the CPU
        self.stack: list[device] = []        # ``with cr.device(...)`` blocks, innermost last
        self.current: device | None = None   # what a factory without device= uses


_STATE = _State()


def set_default_device(device: str | device | None) -> None:  # noqa: A002
    """Set the device factories use when given none (for this thread, as in PyTorch).

    Only the CPU can hold tensors: after ``cr.set_default_device('cuda')`` every factory call
    without ``device=`` raises :class:`DeviceUnavailableError`. ``None`` restores the CPU.

    Example:
        >>> import chainrule as cr
        >>> cr.set_default_device("cpu"); cr.get_default_device()
        device(type='cpu')
        >>> cr.set_default_device(None)
    """
    _STATE.default = None if device is None else as_device(device, "set_default_device()")
    if not _STATE.stack:
        _STATE.current = _STATE.default


def get_default_device() -> device:
    """The device factories use when given none (``cpu`` unless changed).

    Example:
        >>> import chainrule as cr
        >>> cr.get_default_device()
        device(type='cpu')
    """
    current = _STATE.current
    if current is None:
        return CPU
    check(current, "get_default_device()")  # PyTorch also fails here for an absent device
    return current


# ---- deciding -------------------------------------------------------------------------------
def as_device(obj: Any, where: str) -> device:
    """``obj`` (a device, a device string or an int index) as a :class:`device`."""
    if isinstance(obj, device):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, bool):
        raise DeviceUnavailableError(f"{where}: device index {obj}: {_NONE_MSG}. Use 'cpu'.")
    try:
        return device(obj)
    except (RuntimeError, TypeError) as e:
        raise type(e)(f"{where}: {e}") from None


def unavailable(dev: device | str, where: str) -> DeviceUnavailableError:
    """The error for placing something on ``dev``, which is not the CPU."""
    name = str(dev)
    kind = name.split(":", 1)[0]
    hint = ("pick the device with `cr.device('cuda' if cr.cuda.is_available() else 'cpu')`"
            if kind in ("cuda", "mps", "xpu", "hip") else "keep tensors on 'cpu' (the default)")
    return DeviceUnavailableError(
        f"{where}: device '{name}' is not available. This build of chainrule computes on the CPU "
        f"only (NumPy arrays), like a CPU-only PyTorch build; {hint}.")


def check(dev: Any, where: str) -> device:
    """The CPU device, after checking that ``dev`` (None: the default device) names it.

    Raises :class:`DeviceUnavailableError` for any other device, and PyTorch's errors for a
    malformed one. ``'cpu:1'`` is the CPU, as in PyTorch.
    """
    if dev is None:
        dev = _STATE.current
        if dev is None:
            return CPU
        if dev._type != "cpu":
            raise unavailable(dev, f"{where} (on the default device, set by `with cr.device(...)` "
                                   "or cr.set_default_device)")
        return CPU
    elif dev is CPU or (type(dev) is str and dev == "cpu"):  # the common case, unparsed
        return CPU
    d = as_device(dev, where)
    if d._type != "cpu":
        raise unavailable(d, where)
    return CPU


def check_factory(dev: Any, layout: Any, pin_memory: Any, where: str, *,
                  follows_default: bool = True) -> None:
    """A factory's ``device=``, ``layout=`` and ``pin_memory=`` arguments, checked.

    ``follows_default``: whether ``device=None`` means the default device (a ``Tensor.new_*``
    call means the tensor's own device instead, the CPU).
    """
    if dev is not None or (follows_default and _STATE.current is not None):
        check(dev, where)
    if layout is not None and layout is not strided:
        raise ValueError(f"{where}: layout={layout!r} is not supported; chainrule stores every "
                         "tensor dense and strided (layout=cr.strided, the default)")
    if pin_memory:
        raise RuntimeError(f"{where}: pin_memory=True needs an accelerator; {_NONE_MSG}. "
                           "Leave pin_memory=False (the default).")


# ---- layout ---------------------------------------------------------------------------------
class layout:  # noqa: N801  (PyTorch's name)
    """How a tensor's elements are stored; chainrule has one layout, ``cr.strided`` (dense).

    Example:
        >>> import chainrule as cr
        >>> cr.zeros(2).layout
        chainrule.strided
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"chainrule.{self.name}"

    def __reduce__(self):
        return self.name  # pickles as the module-level singleton


strided = layout("strided")


# ---- the call forms of ``to()`` -------------------------------------------------------------
def _is_dtype(x: Any) -> bool:
    if isinstance(x, np.dtype) or any(x is t for t in (float, int, bool, complex)):
        return True
    # a dtype chainrule can name but not store (cr.bfloat16): a dtype, refused by the cast
    unsupported = getattr(dtypes, "UnsupportedDtype", None)
    if unsupported is not None and isinstance(x, unsupported):
        return True
    return isinstance(x, type) and issubclass(x, np.generic)


def parse_to(args: tuple, kwargs: dict, where: str, tensor_type: type):
    """PyTorch's three call forms of ``to()``, checked: ``(device=None, dtype=None,
    non_blocking=False, copy=False)``, ``(dtype, non_blocking=False, copy=False)`` and
    ``(tensor, non_blocking=False, copy=False)``. Returns ``(dtype or None, non_blocking, copy,
    device_given)`` after checking the device (a tensor argument is always on the CPU).

    A string that names no device type but a NumPy dtype (``x.to('float64')``) is taken as a
    dtype, which PyTorch does not accept.
    """
    kwargs = dict(kwargs)
    kwargs.pop("memory_format", None)  # every chainrule tensor is row-major; nothing to do
    first = args[0] if args else None
    if args and isinstance(first, tensor_type):
        names, values = ("non_blocking", "copy"), args[1:]
        dtype, dev = first.dtype, CPU
    elif args and _is_dtype(first):
        names, values = ("non_blocking", "copy"), args[1:]
        dtype, dev = first, None
    else:
        if isinstance(first, str) and first.split(":", 1)[0] not in TYPES and _dtype_name(first):
            args = (None, *args)  # x.to('float64'): a dtype by name
        names, values = ("device", "dtype", "non_blocking", "copy"), args
        dtype = dev = None
    if len(values) > len(names):
        raise TypeError(f"{where}: too many positional arguments ({len(args)}); expected "
                        "to(device, dtype, non_blocking, copy), to(dtype, non_blocking, copy) "
                        "or to(tensor, non_blocking, copy)")
    got = dict(zip(names, values))
    for key, value in kwargs.items():
        if key not in names:
            raise TypeError(f"{where}: unexpected keyword argument {key!r} for this call form "
                            f"(accepted: {', '.join(names)}, memory_format)")
        if key in got:
            raise TypeError(f"{where}: got multiple values for argument {key!r}")
        got[key] = value
    if "device" in names:
        dev, dtype = got.get("device"), got.get("dtype")
        if isinstance(dev, str) and dev.split(":", 1)[0] not in TYPES and _dtype_name(dev):
            dev, dtype = None, dtype if dtype is not None else dev
        elif dev is not None and _is_dtype(dev):
            raise TypeError(f"{where}: a dtype was given where the device goes; use "
                            f"to(dtype) or to(device, dtype)")
        if dtype is not None and not (_is_dtype(dtype) or (isinstance(dtype, str)
                                                            and _dtype_name(dtype))):
            raise TypeError(f"{where}: dtype must be a dtype, got {_typename(dtype)}")
    for flag in ("non_blocking", "copy"):
        if not isinstance(got.get(flag, False), (bool, np.bool_)):
            raise TypeError(f"{where}: {flag} must be a bool, got {_typename(got[flag])}")
    device_given = dev is not None
    if device_given:
        check(dev, where)
    return dtype, bool(got.get("non_blocking", False)), bool(got.get("copy", False)), device_given


def _dtype_name(name: str) -> bool:
    try:
        np.dtype(name)
    except TypeError:
        return False
    return True
