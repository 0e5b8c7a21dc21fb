"""How ``cr.save`` lays a nested object out as data: named arrays, JSON values and a tree.

``Flattener`` walks the object: every array goes into the safetensors file under its dotted
path (``{"fc": {"w": t}}`` -> ``"fc.w"``), every JSON-able value into the metadata under its
path, and the tree itself, as nested nodes, into the metadata entry ``chainrule.structure``.
``Rebuilder`` turns the tree back into the object. The nodes:

- ``{"tensor": name}``: a tensor (no autograd state), its array stored as ``name``;
- ``{"value": key}``: a JSON value, stored in the metadata under ``key``;
- ``{"dict": [[key, node], ...]}``, ``{"list": [...]}``, ``{"tuple": [...]}``: containers
  (int and str keys, order kept);
- ``{"dtype": "float32"}``: a dtype; ``{"global": "pkg.mod.name"}``: a class or function;
- ``{"module": {"class", "path", "state"}}``: a ``cr.nn.Module``: its class name, its path
  (for references) and its ``__dict__`` as ``[[attribute, node], ...]``;
- ``{"module_ref": path}``: the module already rebuilt at ``path``;
- ``{"parameter": {"tensor", "requires_grad"}}``: a module's ``Parameter``;
  ``{"leaf": {"tensor", "requires_grad"}}``: a module's other tensor that requires grad.

A tensor or module met twice is stored once and comes back as one object, as with
``torch.save``. Modules are rebuilt with ``cls.__new__(cls)`` and their saved ``__dict__``:
no ``__init__`` runs, and a class is found only through ``allowlist`` (chainrule's own, or
allow-listed by the user). Forward hooks are not saved.
"""

from __future__ import annotations

import json
import numbers
import sys
import types
from typing import Any

import numpy as np

from ..tensor import Tensor, _wrap
from . import allowlist
from .errors import CheckpointError, UnsafeGlobalError
from .json_limits import depth, loads

STRUCTURE = "chainrule.structure"
# How deeply the structure (and each saved value) may nest, in JSON levels: a dict inside a
# dict takes 3, a module inside a module about 7, so real objects stay far below. Rebuilding
# recurses about once per level, so this also keeps it clear of Python's recursion limit.
MAX_DEPTH = 400
HOOK_ATTRIBUTES = ("_forward_hooks", "_forward_pre_hooks", "_hooked")  # never saved
_DTYPES = {np.dtype(t).name: np.dtype(t) for t in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, np.float32, np.float64, np.complex64, np.complex128)}


def module_base() -> type | None:
    """``cr.nn.Module`` if chainrule.nn is loaded (no module can exist before it is)."""
    mod = sys.modules.get("chainrule.nn.modules.module")
    return None if mod is None else mod.Module


def _parameter_class() -> type | None:
    mod = sys.modules.get("chainrule.nn.parameter")
    return None if mod is None else mod.Parameter


def is_plain(value: Any) -> bool:
    """True if JSON stores ``value`` exactly (no tuples, no non-str keys, no arrays)."""
    stack = [value]  # iterative: a deeply nested value is refused by depth, not by recursion
    while stack:
        v = stack.pop()
        if v is None or isinstance(v, (bool, str)):
            continue
        if type(v) in (int, float):  # exactly: np.float64 and friends are stored as arrays
            continue
        if type(v) is list:
            stack.extend(v)
        elif type(v) is dict and all(isinstance(k, str) for k in v):
            stack.extend(v.values())
        else:
            return False
    return True


def _join(prefix: str, key) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _where(path: str) -> str:
    return repr(path) if path else "the top level"


def check_depth(text: str, what: str) -> None:
    """``save`` refuses what ``load`` would: ``text`` (the JSON of ``what``) nested deeper
    than ``MAX_DEPTH``."""
    found = depth(text.encode("utf-8", "surrogatepass"), MAX_DEPTH)
    if found > MAX_DEPTH:
        raise ValueError(f"save: {what} nests more than {MAX_DEPTH} levels deep (as JSON); "
                         "chainrule files allow at most that")


def parse(text: str, what: str, where: str) -> Any:
    """The JSON of a structure or value entry (as ``json.dumps`` wrote it: non-finite floats
    allowed), strict otherwise and depth-bounded."""
    return loads(text, MAX_DEPTH, f"the {what} entry", where, constants=True)


class Flattener:
    """Walks an object into ``arrays`` (name -> array), ``values`` (key -> JSON text) and a
    tree of nodes; ``uses_modules`` tells whether any node beyond plain containers appeared."""

    def __init__(self, to_storable, reserved: tuple[str, ...]) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.values: dict[str, str] = {}
        self.uses_modules = False
        self._to_storable, self._reserved = to_storable, reserved
        self._tensors: dict[int, tuple[Any, str]] = {}  # id -> (object kept alive, array name)
        self._modules: dict[int, tuple[Any, str]] = {}  # id -> (module, path)

    def _claim(self, path: str) -> str:
        if path in self.arrays or path in self.values or path in self._reserved or (
                path == "__metadata__"):
            raise ValueError(f"save: two entries would both be stored under the name {path!r}")
        return path

    def _array(self, obj: Any, path: str) -> str:
        seen = self._tensors.get(id(obj))
        if seen is not None and seen[0] is obj:
            return seen[1]
        name = self._claim(path or "tensor")
        self.arrays[name] = self._to_storable(obj._data if isinstance(obj, Tensor) else obj, name)
        self._tensors[id(obj)] = (obj, name)
        return name

    def node(self, obj: Any, path: str, root: bool = False, in_module: bool = False) -> Any:
        if isinstance(obj, Tensor):
            if in_module:
                return self._module_tensor(obj, path)
            return {"tensor": self._array(obj, path)}
        if isinstance(obj, np.ndarray):
            return {"tensor": self._array(obj, path)}
        if isinstance(obj, np.generic):
            return {"tensor": self._array(np.asarray(obj), path)}
        if not root and is_plain(obj):
            self.values[self._claim(path or "value")] = json.dumps(obj)
            return {"value": path or "value"}
        module = module_base()
        if module is not None and isinstance(obj, module):
            return self._module(obj, path)
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if isinstance(k, bool) or not isinstance(k, (str, int)):
                    raise TypeError(f"save: dict keys must be str or int, got {k!r} at "
                                    f"{_where(path)}")
                items.append([k, self.node(v, _join(path, k), in_module=in_module)])
            return {"dict": items}
        if isinstance(obj, (list, tuple)):
            kind = "tuple" if isinstance(obj, tuple) else "list"
            return {kind: [self.node(v, _join(path, i), in_module=in_module)
                           for i, v in enumerate(obj)]}
        if isinstance(obj, numbers.Number) and not isinstance(obj, complex):
            return {"tensor": self._array(np.asarray(obj), path)}
        if isinstance(obj, np.dtype):
            if obj.name not in _DTYPES or not obj.isnative:
                raise TypeError(f"save: cannot store dtype {obj} at {_where(path)}")
            self.uses_modules = True
            return {"dtype": obj.name}
        if isinstance(obj, (type, types.FunctionType)):
            return self._global(obj, path)
        inside = " (an attribute of a module)" if in_module else ""
        raise TypeError(f"save: cannot store a {type(obj).__name__} at {_where(path)}{inside}; "
                        "use tensors, arrays, numbers, strings, None, dtypes, modules, "
                        "module-level classes and functions, and dicts/lists/tuples of them")

    def _global(self, obj: Any, path: str) -> dict:
        name = allowlist.name_of(obj)
        if "<" in obj.__qualname__ or obj.__module__ is None:
            raise TypeError(f"save: cannot store {obj.__qualname__} at {_where(path)}: only "
                            "classes and functions defined at module level can be saved, "
                            "by name")
        self.uses_modules = True
        return {"global": name}

    def _module_tensor(self, t: Tensor, path: str) -> dict:
        parameter = _parameter_class()
        body: dict[str, Any] = {"tensor": self._array(t, path),
                                "requires_grad": bool(t.requires_grad)}
        if t.name is not None:
            body["name"] = str(t.name)
        if parameter is not None and type(t) is parameter:
            return {"parameter": body}
        if type(t) is not Tensor:
            raise TypeError(f"save: cannot store a {type(t).__name__} at {_where(path)}; "
                            "only Tensor and Parameter")
        return {"leaf": body} if t.requires_grad or t.name is not None else {
            "tensor": body["tensor"]}

    def _module(self, module: Any, path: str) -> dict:
        seen = self._modules.get(id(module))
        if seen is not None and seen[0] is module:
            return {"module_ref": seen[1]}
        self._modules[id(module)] = (module, path)
        self.uses_modules = True
        cls = type(module)
        if "<" in cls.__qualname__:
            raise TypeError(f"save: the module at {_where(path)} is a {cls.__qualname__}, a "
                            "class defined inside a function; define it at module level so "
                            "that load can find it by name")
        attrs = [(a, v) for a, v in vars(module).items() if a not in HOOK_ATTRIBUTES]
        nodes: dict[str, Any] = {}
        # Tensors and modules held directly first, so that they are stored under their own
        # names ("features.0.weight", as in state_dict) even when a container attribute
        # listing them comes earlier; Rebuilder follows the same order.
        for direct in (True, False):
            for attr, value in attrs:
                if isinstance(value, (Tensor, module_base())) == direct:
                    nodes[attr] = self.node(value, _join(path, attr), in_module=True)
        state = [[attr, nodes[attr]] for attr, _ in attrs]
        return {"module": {"class": allowlist.name_of(cls), "path": path, "state": state}}


class Rebuilder:
    """Turns a structure tree back into the object, given the file's tensors and metadata.

    Anything the tree does wrong (a node of the wrong shape, a missing tensor or value, a
    tensor of the file it never uses) is a ``CheckpointError`` naming the file."""

    def __init__(self, tensors: dict[str, Tensor], meta: dict[str, str], where: str) -> None:
        self.tensors, self.meta, self.where = tensors, meta, where
        self._parameters: dict[str, Tensor] = {}
        self._leaves: dict[str, Tensor] = {}
        self._modules: dict[str, Any] = {}
        self._used: set[str] = set()

    def rebuild(self, structure: Any) -> Any:
        obj = self.node(structure)
        unused = [name for name in self.tensors if name not in self._used]
        if unused:
            raise CheckpointError(f"{self.where}: the file holds tensors its {STRUCTURE} never "
                                  f"uses ({', '.join(repr(n) for n in unused[:5])}"
                                  f"{', ...' if len(unused) > 5 else ''}); it is corrupt")
        return obj

    def corrupt(self, node: Any) -> CheckpointError:
        return CheckpointError(f"{self.where}: corrupt {STRUCTURE} entry {str(node)[:200]}")

    def node(self, node: Any) -> Any:
        if not isinstance(node, dict) or len(node) != 1:
            raise self.corrupt(node)
        ((kind, body),) = node.items()
        handler = _KINDS.get(kind)
        if handler is None:
            raise self.corrupt(node)
        try:
            return handler(self, body)
        except CheckpointError:
            raise
        except (TypeError, AttributeError, KeyError, IndexError, ValueError) as e:
            raise CheckpointError(f"{self.where}: corrupt {STRUCTURE} entry of kind {kind!r} "
                                  f"({type(e).__name__}: {e})") from None

    def _tensor(self, name: Any) -> Tensor:
        if not isinstance(name, str) or name not in self.tensors:
            raise CheckpointError(f"{self.where}: {STRUCTURE} names a missing tensor "
                                  f"{name!r:.80}")
        self._used.add(name)
        return self.tensors[name]

    def _value(self, key: Any) -> Any:
        if not isinstance(key, str) or key not in self.meta:
            raise CheckpointError(f"{self.where}: {STRUCTURE} names a missing metadata entry "
                                  f"{key!r:.80}")
        return parse(self.meta[key], repr(key), self.where)

    def _items(self, body: Any) -> list:
        if not isinstance(body, list):
            raise self.corrupt(body)
        return body

    def _dict(self, items: Any) -> dict:
        out = {}
        for item in self._items(items):
            if not isinstance(item, list) or len(item) != 2:
                raise self.corrupt(item)
            k, v = item
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise self.corrupt(item)
            out[k] = self.node(v)
        return out

    def _dtype(self, name: Any) -> np.dtype:
        if not isinstance(name, str) or name not in _DTYPES:
            raise CheckpointError(f"{self.where}: unknown dtype {name!r:.40} in {STRUCTURE}")
        return _DTYPES[name]

    def _global(self, name: Any, purpose: str = "global") -> Any:
        if not isinstance(name, str):
            raise self.corrupt({purpose: name})
        self._import_nn()
        obj = allowlist.user_globals().get(name)
        if obj is None:
            obj = allowlist.chainrule_global(name)
        if obj is None:
            raise UnsafeGlobalError(_refusal(name, purpose, self.where), name)
        return obj

    @staticmethod
    def _import_nn() -> None:
        # chainrule's own layers must be importable by name; importing chainrule.nn (a fixed
        # name, never one from the file) makes them all present.
        import chainrule.nn  # noqa: F401

    def _body(self, body: Any, kind: str, required: tuple[str, ...],
              optional: tuple[str, ...] = ()) -> dict:
        if not isinstance(body, dict) or not set(required) <= body.keys() <= {
                *required, *optional}:
            raise self.corrupt({kind: body})
        return body

    def _parameter(self, body: Any) -> Tensor:
        from ..nn.parameter import Parameter

        body = self._body(body, "parameter", ("tensor", "requires_grad"), ("name",))
        name = body["tensor"]
        if not isinstance(name, str) or name not in self._parameters:
            p = Parameter(self._tensor(name), requires_grad=_flag(body, self))
            p.name = _name(body, self)
            self._parameters[name] = p
        return self._parameters[name]

    def _leaf(self, body: Any) -> Tensor:
        body = self._body(body, "leaf", ("tensor", "requires_grad"), ("name",))
        name = body["tensor"]
        if not isinstance(name, str) or name not in self._leaves:
            t = _wrap(self._tensor(name)._data)
            if _flag(body, self):
                t.requires_grad_(True)
            t.name = _name(body, self)
            self._leaves[name] = t
        return self._leaves[name]

    def _module(self, body: Any) -> Any:
        body = self._body(body, "module", ("class", "path", "state"))
        name, path, state = body["class"], body["path"], body["state"]
        if not isinstance(path, str) or not isinstance(state, list) or path in self._modules:
            raise self.corrupt({"module": body})
        cls = self._global(name, "module")
        if not isinstance(cls, type) or not issubclass(cls, module_base()):
            raise CheckpointError(f"{self.where}: {name!r} is not a chainrule.nn.Module "
                                  "subclass, so it cannot be rebuilt as a module")
        obj = cls.__new__(cls)  # never __init__: the saved state is the whole module
        self._modules[path] = obj
        for entry in state:
            if not isinstance(entry, list) or len(entry) != 2 or not isinstance(
                    entry[0], str) or entry[0] in HOOK_ATTRIBUTES:
                raise self.corrupt({"module": body})
            _check_not_method(cls, entry[0], self.where)
        values = {}
        for direct in (True, False):  # Flattener's order: directly held tensors and modules
            for attr, node in state:
                if (isinstance(node, dict) and next(iter(node), None) in _DIRECT) == direct:
                    values[attr] = self.node(node)
        attrs = {attr: values[attr] for attr, _ in state}
        if type(attrs.get("training")) is not bool or not _is_buffer_table(
                attrs.get("_buffer_names")):
            raise CheckpointError(f"{self.where}: the saved state of module "
                                  f"{path or '(root)'!r} lacks a valid 'training' flag or "
                                  "buffer table")
        obj.__dict__.update(attrs)
        return obj

    def _module_ref(self, path: Any) -> Any:
        if not isinstance(path, str) or path not in self._modules:
            raise CheckpointError(f"{self.where}: {STRUCTURE} refers to module {path!r:.80}, "
                                  "which was not saved before it")
        return self._modules[path]


def _flag(body: dict, r: Rebuilder) -> bool:
    flag = body["requires_grad"]
    if type(flag) is not bool:
        raise r.corrupt(body)
    return flag


def _name(body: dict, r: Rebuilder) -> str | None:
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise r.corrupt(body)
    return name


def _is_buffer_table(table: Any) -> bool:
    return type(table) is dict and all(
        isinstance(k, str) and type(v) is bool for k, v in table.items())


def _check_not_method(cls: type, attr: str, where: str) -> None:
    """A saved attribute may not hide a method or property of the class: data in a file must
    not decide which code ``model(x)`` runs."""
    for klass in cls.__mro__:
        found = vars(klass).get(attr)
        if isinstance(found, (types.FunctionType, property, classmethod, staticmethod)):
            raise CheckpointError(f"{where}: the saved state of a {cls.__qualname__} sets "
                                  f"{attr!r}, which would hide the method of that name; "
                                  "refusing it")
        if attr in vars(klass):
            return


def _refusal(name: str, purpose: str, where: str) -> str:
    short = name.rsplit(".", 1)[-1]
    what = f"a module of class {name!r}" if purpose == "module" else f"the global {name!r}"
    owner = name.rsplit(".", 1)[0]
    return (f"{where}: the file holds {what}, which is not allow-listed. chainrule rebuilds "
            "only its own classes and the classes and functions you allow (by __new__ and "
            "their saved attributes; it never imports a module a file names and never "
            f"executes pickle). If you trust it, allow it before loading: "
            f"cr.serialization.add_safe_globals([{short}]), or for one load "
            f"`with cr.serialization.safe_globals([{short}]): cr.load(...)` "
            f"({short} from {owner}).")


_DIRECT = ("tensor", "leaf", "parameter", "module", "module_ref")
_KINDS = {
    "tensor": Rebuilder._tensor, "value": Rebuilder._value, "dict": Rebuilder._dict,
    "list": lambda r, body: [r.node(v) for v in r._items(body)],
    "tuple": lambda r, body: tuple(r.node(v) for v in r._items(body)),
    "dtype": Rebuilder._dtype, "global": Rebuilder._global, "module": Rebuilder._module,
    "module_ref": Rebuilder._module_ref, "parameter": Rebuilder._parameter,
    "leaf": Rebuilder._leaf,
}


def value_paths(node: Any) -> set[str]:
    """The metadata keys that hold values of the saved object (not the user's metadata)."""
    if isinstance(node, list):
        return set().union(*map(value_paths, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    if "value" in node and len(node) == 1:
        return {node["value"]} if isinstance(node["value"], str) else set()
    return value_paths(list(node.values()))
