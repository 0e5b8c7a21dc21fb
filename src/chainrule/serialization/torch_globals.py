"""What a PyTorch checkpoint's pickle may name, and chainrule's own rebuild of each.

This is the allow-list PyTorch's ``weights_only`` unpickler also uses for tensors, with one
difference: each entry maps to a function written here, not to PyTorch's. So
``torch._utils._rebuild_tensor_v2`` builds a chainrule tensor viewing a storage, ``torch.Size``
a tuple, ``torch.float32`` a NumPy dtype, ``collections.OrderedDict`` an ``OrderedDict``. A
name outside this table and the user's allow-list stops the load with ``UnsafeGlobalError``.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from typing import Any

import numpy as np

from ..tensor import Tensor, _wrap
from . import allowlist
from .errors import UnpicklingError, UnsafeGlobalError
from .pickle_vm import SafeCall
from .storage import BFLOAT16, Storage, is_bfloat16, tensor_array


class TorchDtype:
    """A PyTorch dtype NumPy lacks (``torch.bfloat16``, float8 kinds, quantized ints), kept as
    a value; only bfloat16 tensors load (widened to float32)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class StorageType:
    """``torch.FloatStorage`` and friends: the element type of a saved storage (``dtype``
    None: ``UntypedStorage``, bytes)."""

    def __init__(self, name: str, dtype) -> None:
        self.name, self.dtype = name, dtype

    def __repr__(self) -> str:
        return self.name


class TensorType:
    """``torch.Tensor`` / ``torch.nn.Parameter`` as named by ``_rebuild_from_type_v2``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_DTYPES = {
    "float32": np.float32, "float": np.float32, "float64": np.float64, "double": np.float64,
    "float16": np.float16, "half": np.float16, "int64": np.int64, "long": np.int64,
    "int32": np.int32, "int": np.int32, "int16": np.int16, "short": np.int16,
    "int8": np.int8, "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32,
    "uint64": np.uint64, "bool": np.bool_, "complex64": np.complex64, "cfloat": np.complex64,
    "complex128": np.complex128, "cdouble": np.complex128,
}
_FOREIGN_DTYPES = ("bfloat16", "complex32", "chalf", "float8_e4m3fn", "float8_e5m2",
                   "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2",
                   "qint8", "quint8", "qint32", "quint4x2", "quint2x4", "bits8", "bits16",
                   "bits1x8", "bits2x4", "bits4x2", "uint1", "uint2", "uint3", "uint4",
                   "uint5", "uint6", "uint7", "int1", "int2", "int3", "int4", "int5", "int6",
                   "int7")
_STORAGES = {  # the element type of torch.<Kind>Storage
    "Float": np.float32, "Double": np.float64, "Half": np.float16, "BFloat16": BFLOAT16,
    "Long": np.int64, "Int": np.int32, "Short": np.int16, "Char": np.int8, "Byte": np.uint8,
    "Bool": np.bool_, "ComplexFloat": np.complex64, "ComplexDouble": np.complex128,
}


def _element_dtype(dtype: Any, where: str) -> np.dtype | str:
    if isinstance(dtype, np.dtype) or is_bfloat16(dtype):
        return dtype
    if isinstance(dtype, TorchDtype) and dtype.name == BFLOAT16:
        return BFLOAT16
    raise UnpicklingError(f"{where}: tensors of dtype {dtype!r} are not supported (NumPy has no "
                          "such type); convert them with .float() before torch.save")


# ---- tensors ---------------------------------------------------------------------------------
def _check_hooks(backward_hooks: Any, where: str) -> None:
    if not isinstance(backward_hooks, dict) or backward_hooks:
        raise UnpicklingError(f"{where}: backward hooks in the file; chainrule loads none "
                              "(PyTorch never saves them either)")


def _tensor(storage, dtype, offset, size, stride, requires_grad, metadata, where) -> Tensor:
    if not isinstance(storage, Storage):
        raise UnpicklingError(f"{where}: expected a storage, got {type(storage).__name__}")
    if type(requires_grad) is not bool:
        raise UnpicklingError(f"{where}: requires_grad must be a bool, got {requires_grad!r:.40}")
    array = tensor_array(storage, _element_dtype(dtype, where), offset, size, stride, where)
    if metadata:
        array = _apply_metadata(array, metadata, where)
    if requires_grad and array.dtype.kind not in "fc":
        raise UnpicklingError(f"{where}: a {array.dtype} tensor cannot require grad")
    return _wrap(array, requires_grad=requires_grad)


def _apply_metadata(array: np.ndarray, metadata: Any, where: str) -> np.ndarray:
    # PyTorch records lazy conjugation / negation bits; resolving them here gives the values.
    if not isinstance(metadata, dict) or set(metadata) - {"conj", "neg"}:
        raise UnpicklingError(f"{where}: unsupported tensor metadata {metadata!r:.80}")
    if metadata.get("conj"):
        array = np.conj(array)
    if metadata.get("neg"):
        array = np.negative(array)
    return array


def _rebuild_tensor(storage, storage_offset, size, stride):
    where = "torch._utils._rebuild_tensor"
    return _tensor(storage, _storage_dtype(storage, where), storage_offset, size, stride,
                   False, None, where)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    where = "torch._utils._rebuild_tensor_v2"
    _check_hooks(backward_hooks, where)
    return _tensor(storage, _storage_dtype(storage, where), storage_offset, size, stride,
                   requires_grad, metadata, where)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    where = "torch._utils._rebuild_tensor_v3"
    _check_hooks(backward_hooks, where)
    return _tensor(storage, dtype, storage_offset, size, stride, requires_grad, metadata, where)


def _storage_dtype(storage, where: str):
    if isinstance(storage, Storage) and storage.dtype is None:
        raise UnpicklingError(f"{where}: an untyped storage needs a dtype (_rebuild_tensor_v3)")
    return getattr(storage, "dtype", None)


def _parameter(data, requires_grad, where):
    from ..nn.parameter import Parameter

    if not isinstance(data, Tensor) or type(requires_grad) is not bool:
        raise UnpicklingError(f"{where}: expected (tensor, bool), got "
                              f"({type(data).__name__}, {type(requires_grad).__name__})")
    if requires_grad and data.dtype.kind not in "fc":
        raise UnpicklingError(f"{where}: a {data.dtype} parameter cannot require grad")
    return Parameter(data, requires_grad=requires_grad)  # shares data's memory


def _rebuild_parameter(data, requires_grad, backward_hooks):
    where = "torch._utils._rebuild_parameter"
    _check_hooks(backward_hooks, where)
    return _parameter(data, requires_grad, where)


def _empty_state(state) -> bool:
    if state is None or state == {}:
        return True
    return isinstance(state, tuple) and all(s is None or s == {} for s in state)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    where = "torch._utils._rebuild_parameter_with_state"
    _check_hooks(backward_hooks, where)
    if not _empty_state(state):
        raise UnpicklingError(f"{where}: Python attributes set on a Parameter are not "
                              "supported; chainrule loads the parameter's values only")
    return _parameter(data, requires_grad, where)


def _rebuild_from_type_v2(func, new_type, args, state):
    where = "torch._tensor._rebuild_from_type_v2"
    if not isinstance(func, SafeCall) or type(args) is not tuple:
        raise UnpicklingError(f"{where}: expected a rebuild function and its arguments")
    if not isinstance(new_type, TensorType):
        raise UnpicklingError(f"{where}: tensor subclass {new_type!r} is not supported")
    if not _empty_state(state):
        raise UnpicklingError(f"{where}: Python attributes set on a tensor are not supported")
    out = func.fn(*args)
    if new_type.name == "torch.nn.parameter.Parameter" and isinstance(out, Tensor):
        out = _parameter(out, out.requires_grad, where)
    return out


# ---- plain values PyTorch pickles through globals --------------------------------------------
def _ordered_dict(*args):
    if args and (len(args) > 1 or not isinstance(args[0], (list, tuple))):
        raise UnpicklingError("collections.OrderedDict: expected no argument or a list of pairs")
    try:
        return OrderedDict(*args)
    except (TypeError, ValueError) as e:
        raise UnpicklingError(f"collections.OrderedDict: {e}") from None


def _counter(*args):
    if args and (len(args) > 1 or type(args[0]) is not dict):
        raise UnpicklingError("collections.Counter: expected no argument or a dict")
    return Counter(*args)


def _size(dims=()):
    if not isinstance(dims, (tuple, list)) or not all(type(d) is int for d in dims):
        raise UnpicklingError(f"torch.Size: expected integers, got {dims!r:.80}")
    return tuple(dims)


def _collection(kind):
    def build(items=()):
        if type(items) not in (list, tuple, set, frozenset):
            raise UnpicklingError(f"builtins.{kind.__name__}: expected a list of items")
        try:
            return kind(items)
        except TypeError as e:
            raise UnpicklingError(f"builtins.{kind.__name__}: {e}") from None
    return build


def _bytearray(data=b""):
    if type(data) not in (bytes, list):
        raise UnpicklingError("builtins.bytearray: expected bytes")
    try:
        return bytearray(data)
    except (TypeError, ValueError) as e:
        raise UnpicklingError(f"builtins.bytearray: {e}") from None


def _bytes(*args):
    if args:  # protocols 0-2 write only b"" this way; other bytes go through _codecs.encode
        raise UnpicklingError("builtins.bytes: only the empty form is supported")
    return b""


def _complex(real=0.0, imag=0.0):
    if type(real) not in (int, float) or type(imag) not in (int, float):
        raise UnpicklingError("builtins.complex: expected two numbers")
    return complex(real, imag)


def _encode(text, encoding="utf-8"):
    # Protocol 2 pickles bytes as _codecs.encode(text, 'latin1'); nothing else is needed.
    if type(text) is not str or encoding not in ("latin1", "latin-1"):
        raise UnpicklingError("_codecs.encode: only (str, 'latin1') is supported")
    return text.encode("latin1")


def _device(kind, index=None):
    if type(kind) is not str or (index is not None and type(index) is not int):
        raise UnpicklingError(f"torch.device: invalid arguments {(kind, index)!r:.80}")
    return kind if index is None else f"{kind}:{index}"


def _table() -> dict[str, Any]:
    calls = {
        "torch._utils._rebuild_tensor": _rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "collections.OrderedDict": _ordered_dict, "collections.Counter": _counter,
        "torch.Size": _size, "torch.device": _device,
        "builtins.set": _collection(set), "builtins.frozenset": _collection(frozenset),
        "builtins.bytearray": _bytearray, "builtins.bytes": _bytes,
        "builtins.complex": _complex, "_codecs.encode": _encode,
    }
    table: dict[str, Any] = {name: SafeCall(name, fn) for name, fn in calls.items()}
    for name, dtype in _DTYPES.items():
        table[f"torch.{name}"] = np.dtype(dtype)
    for name in _FOREIGN_DTYPES:
        table[f"torch.{name}"] = TorchDtype(name)
    for kind, dtype in _STORAGES.items():
        for module in ("torch", "torch.cuda"):
            table[f"{module}.{kind}Storage"] = StorageType(
                f"torch.{kind}Storage", dtype if is_bfloat16(dtype) else np.dtype(dtype))
    for name in ("torch.storage.UntypedStorage", "torch.UntypedStorage"):
        table[name] = StorageType("torch.UntypedStorage", None)
    for name in ("torch.Tensor", "torch.nn.parameter.Parameter"):
        table[name] = TensorType(name)
    return table


_TABLE = _table()
_ALIASES = {"torch.tensor._rebuild_from_type_v2": "torch._tensor._rebuild_from_type_v2"}
SUPPORTED = ("tensors (torch._utils._rebuild_tensor_v2/_v3, _rebuild_parameter), storages "
             "(torch.FloatStorage and the other typed storages, torch.storage.UntypedStorage), "
             "dtypes, torch.Size, torch.device, collections.OrderedDict and plain dicts, "
             "lists, tuples, sets, numbers, strings, bytes and None")


class TorchGlobals:
    """``find_global``, ``new_object`` and ``build`` for a PyTorch pickle.

    With ``dry_run``, rebuild calls return None without touching storages: the legacy format
    stores its data after the pickle, so a first pass only learns which storages exist.
    """

    def __init__(self, where: str, weights_only_false: bool, dry_run: bool = False) -> None:
        self.where, self._weights_only_false, self._dry = where, weights_only_false, dry_run
        self._user = allowlist.user_globals()
        self._created: dict[int, Any] = {}  # objects NEWOBJ made: the only ones BUILD may set

    def find_global(self, module: str, name: str) -> Any:
        full = _ALIASES.get(f"{module}.{name}", f"{module}.{name}")
        if full in _TABLE:
            obj = _TABLE[full]
            if self._dry and isinstance(obj, SafeCall) and "_rebuild" in full:
                return SafeCall(full, lambda *args: None)
            return obj
        if full in self._user:
            return self._user[full]
        raise UnsafeGlobalError(self._refusal(full), full)

    def _refusal(self, full: str) -> str:
        weights = (" Passing weights_only=False does not change this."
                   if self._weights_only_false else "")
        short = full.rsplit(".", 1)[-1]
        if full.startswith(("torch.nn.modules.", "torch.optim.")):
            hint = ("The file holds a whole torch object (torch.save(model)); chainrule cannot "
                    "rebuild torch's classes. Save model.state_dict() with torch instead and "
                    "load it with load_state_dict.")
        elif short[:1].isupper():
            hint = ("If it is a plain data class of yours and you trust the file, allow it "
                    f"with cr.serialization.add_safe_globals([{short}]): it is then rebuilt "
                    "with __new__ and its saved attributes, never called.")
        else:
            hint = ("A checkpoint that asks for a function to be called may be malicious; "
                    "chainrule's loader never calls one.")
        return (f"{self.where}: the checkpoint asks for the global {full!r}, which chainrule "
                "will not load. chainrule never executes pickle (whatever weights_only says; "
                "a deliberate difference from torch.load): it reads PyTorch files with its "
                f"own restricted interpreter, which rebuilds {SUPPORTED}.{weights} {hint}")

    def new_object(self, cls: Any, args: Any, kwargs: Any) -> Any:
        allowed = isinstance(cls, type) and any(cls is v for v in self._user.values())
        if not allowed:
            name = cls.name if isinstance(cls, (SafeCall, StorageType, TensorType)) else (
                allowlist.name_of(cls) if isinstance(cls, type) else type(cls).__name__)
            raise UnsafeGlobalError(f"{self.where}: the pickle creates an object of {name} "
                                    "(NEWOBJ); chainrule creates objects only of classes you "
                                    "allow-list with cr.serialization.add_safe_globals", name)
        if args != () or kwargs:
            raise UnpicklingError(f"{self.where}: the pickle creates a {cls.__qualname__} with "
                                  "arguments; chainrule rebuilds allow-listed objects only from "
                                  "their attributes (__new__ without arguments, then __dict__)")
        obj = cls.__new__(cls)
        self._created[id(obj)] = obj
        return obj

    def build(self, obj: Any, state: Any) -> None:
        if type(obj) is OrderedDict and isinstance(state, dict) and set(state) <= {"_metadata"}:
            # a state_dict's version table (module path -> {"version": n}), kept as torch does
            obj.__dict__.update(state)
            return
        if self._created.get(id(obj)) is not obj:
            raise UnpicklingError(f"{self.where}: the pickle sets the state of a "
                                  f"{type(obj).__name__} (BUILD); chainrule allows that only "
                                  "on objects of allow-listed classes")
        if isinstance(state, tuple) and len(state) == 2 and not state[1]:
            state = state[0]
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise UnpicklingError(f"{self.where}: the state of a {type(obj).__qualname__} must "
                                  "be a dict of attributes (no __slots__ state)")
        if not hasattr(obj, "__dict__"):
            raise UnpicklingError(f"{self.where}: {type(obj).__qualname__} has no __dict__")
        obj.__dict__.update(state)  # never __setstate__: no user code runs with file data
