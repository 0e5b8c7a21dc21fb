"""``Module``: the base class of layers, found-by-attribute parameters, state dicts and hooks.

A module's parameters, buffers and sub-modules live as ordinary instance attributes, so reading
``self.weight`` in a forward is a plain attribute lookup (no ``__getattr__`` detour on the hot
path). The walkers below find them by type; buffers are the attributes named by
``register_buffer``.
"""

from __future__ import annotations

import functools
import inspect
from collections import OrderedDict
from collections.abc import Callable, Iterator
from itertools import count
from typing import Any, NamedTuple

import numpy as np

from ... import devices, dtypes
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor, _wrap
from ..parameter import Buffer, Parameter, _Uninitialized


def _check_device_on_init(cls: type) -> None:
    """A chainrule layer whose ``__init__`` takes PyTorch's ``device=`` checks it (and, when
    None, the default device) before building, as every factory does: ``nn.Linear(2, 2,
    device='cuda')`` raises ``DeviceUnavailableError`` instead of building on the CPU. One
    wrapper here covers every layer, present and future; user classes are left alone."""
    init = cls.__dict__["__init__"]
    params = list(inspect.signature(init).parameters.values())
    names = [p.name for p in params]
    if "device" not in names:
        return
    at = names.index("device")  # self is 0, so args[at - 1]
    positional = params[at].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD

    @functools.wraps(init)
    def checked(self, *args: Any, **kwargs: Any) -> None:
        dev = kwargs.get("device")
        if dev is None and positional and len(args) >= at:
            dev = args[at - 1]
        devices.check(dev, f"{type(self).__name__}()")
        init(self, *args, **kwargs)

    cls.__init__ = checked


def _indexed(kind: str, device: Any) -> str:
    """``'cuda'``, ``'cuda:1'``: the device ``module.cuda(device)`` names."""
    if device is None:
        return kind
    return str(device) if isinstance(device, (str, devices.device)) else f"{kind}:{device}"


class RemovableHandle:
    """Returned by ``register_forward_hook`` and friends; ``remove()`` unregisters the hook.

    Also a context manager: the hook is removed when the ``with`` block ends.
    """

    __slots__ = ("_module", "_table", "_key")

    def __init__(self, module: Module, table: str, key: int) -> None:
        self._module, self._table, self._key = module, table, key

    def remove(self) -> None:
        hooks = self._module.__dict__.get(self._table)
        if hooks is not None:
            hooks.pop(self._key, None)
        self._module._refresh_hooked()

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class _IncompatibleKeys(NamedTuple):
    missing_keys: list
    unexpected_keys: list


class StateDictError(RuntimeError, ValueError):
    """``load_state_dict`` found missing/unexpected keys or mismatched shapes."""


_hook_ids = count()


class Module:
    """Base class of every layer and model.

    Assign ``Parameter``s, sub-modules and buffers (``register_buffer``) as attributes in
    ``__init__``; define ``forward``; call the module like a function.

    Example:
        >>> import chainrule as cr
        >>> class Affine(cr.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.scale = cr.nn.Parameter(cr.ones(3))
        ...     def forward(self, x):
        ...         return x * self.scale
        >>> m = Affine()
        >>> [name for name, _ in m.named_parameters()]
        ['scale']
        >>> m(cr.ones(2, 3)).shape
        (2, 3)
    """

    _hooked = False  # class default; an instance sets True while it has forward hooks

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("chainrule.") and "__init__" in cls.__dict__:
            _check_device_on_init(cls)

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_buffer_names"] = {}  # name -> persistent

    # ---- attribute bookkeeping --------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if "_buffer_names" not in d:
            if isinstance(value, (Parameter, Module)):
                raise AttributeError(
                    f"cannot assign {type(value).__name__} {name!r} before Module.__init__() "
                    f"call: call super().__init__() first in {type(self).__name__}.__init__")
            object.__setattr__(self, name, value)
            return
        if isinstance(value, Buffer):  # nn.Buffer: registers itself, as in PyTorch
            if isinstance(d.get(name), (Parameter, Module)):
                raise TypeError(f"cannot assign Buffer {name!r}: {type(self).__name__} has a "
                                f"{type(d[name]).__name__} of that name")
            d["_buffer_names"][name] = value.persistent
            d[name] = value
            return
        old = d.get(name)
        if isinstance(old, Parameter) and value is not None and not isinstance(value, Parameter):
            raise TypeError(
                f"cannot assign {type(value).__name__} as parameter {name!r} of "
                f"{type(self).__name__} (chainrule.nn.Parameter or None expected)")
        buffers = d["_buffer_names"]
        if name in buffers:
            if isinstance(value, (Parameter, Module)):
                del buffers[name]
            elif value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer {name!r} of "
                    f"{type(self).__name__} (Tensor or None expected)")
        d[name] = value

    def __delattr__(self, name: str) -> None:
        self.__dict__["_buffer_names"].pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter (e.g. running statistics).

        Persistent buffers are saved in ``state_dict``.

        Example:
            >>> import chainrule as cr
            >>> m = cr.nn.Module(); m.register_buffer("count", cr.zeros(()))
            >>> list(m.state_dict())
            ['count']
        """
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer({name!r}): expected a Tensor or None, got "
                            f"{type(tensor).__name__}")
        if isinstance(tensor, Parameter):
            raise TypeError(f"register_buffer({name!r}): got a Parameter; use "
                            "register_parameter for trainable tensors")
        if hasattr(self, name) and name not in self._buffer_names:
            raise KeyError(f"attribute {name!r} already exists")
        self.__dict__["_buffer_names"][name] = bool(persistent)
        self.__dict__[name] = tensor

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or ``None``, a placeholder such as a missing bias) under ``name``."""
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter({name!r}): expected a chainrule.nn.Parameter or "
                            f"None, got {type(param).__name__}")
        setattr(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a sub-module under ``name`` (what attribute assignment does for a Module)."""
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}): {type(module).__name__} is not a Module")
        if name not in self.__dict__ and hasattr(type(self), name):
            raise KeyError(f"attribute {name!r} already exists on {type(self).__name__}")
        setattr(self, name, module)

    register_module = add_module

    def _check_name(self, name, what) -> None:
        if "_buffer_names" not in self.__dict__:
            raise AttributeError(f"cannot register a {what} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{what} name must be a str, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{what} name must be non-empty and contain no '.', got {name!r}")

    # ---- walking the tree -------------------------------------------------------------------
    def _own_parameters(self) -> Iterator[tuple[str, Parameter]]:
        for name, v in self.__dict__.items():
            if isinstance(v, Parameter):
                yield name, v

    def _own_buffers(self, persistent_only: bool = False) -> Iterator[tuple[str, Tensor]]:
        d = self.__dict__
        for name, persistent in d["_buffer_names"].items():
            v = d.get(name)
            if v is not None and (persistent or not persistent_only):
                yield name, v

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules with their attribute names."""
        seen = set()
        for name, v in self.__dict__.items():
            if isinstance(v, Module) and id(v) not in seen:
                seen.add(id(v))
                yield name, v

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every sub-module (depth first), with dotted names ('' for self)."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, v in self.__dict__.items():
            if isinstance(v, Module):
                yield from v.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                           remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def _named_members(self, get, prefix, recurse, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, v in get(mod):
                if remove_duplicate:
                    if id(v) in seen:
                        continue
                    seen.add(id(v))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), v

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs; a parameter shared by two layers appears once.

        Example:
            >>> import chainrule as cr
            >>> net = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.ReLU(), cr.nn.Linear(3, 1))
            >>> [n for n, _ in net.named_parameters()]
            ['0.weight', '0.bias', '2.weight', '2.bias']
        """
        return self._named_members(Module._own_parameters, prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members(Module._own_buffers, prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The sub-module at dotted path ``target`` ('' is this module)."""
        mod = self
        if not target:
            return mod
        walked = []
        for part in target.split("."):
            nxt = mod.__dict__.get(part)
            if not isinstance(nxt, Module):
                where = ".".join(walked) or type(self).__name__
                raise AttributeError(f"{where} has no sub-module {part!r} (looking up {target!r})")
            walked.append(part)
            mod = nxt
        return mod

    def get_parameter(self, target: str) -> Parameter:
        mod_path, _, name = target.rpartition(".")
        p = self.get_submodule(mod_path).__dict__.get(name)
        if not isinstance(p, Parameter):
            raise AttributeError(f"{target!r} is not a parameter")
        return p

    # ---- modes and gradients ----------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Switch this module and its sub-modules to training (or, with False, eval) mode."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(): mode must be a bool, got {mode!r}")
        self.__dict__["training"] = mode
        # Each child's own train() runs, so a subclass may override it (e.g. to keep its batch
        # norms frozen), as in PyTorch.
        for m in self.children():
            m.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: dropout off, batch norm uses its running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter (False freezes the module)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter (to None by default, else fill with zeros)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad._data[...] = 0

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first) and then on this module.

        Example:
            >>> import chainrule as cr
            >>> def init(m):
            ...     if isinstance(m, cr.nn.Linear):
            ...         cr.nn.init.zeros_(m.weight)
            >>> net = cr.nn.Sequential(cr.nn.Linear(2, 2)).apply(init)
            >>> float(net[0].weight.abs().sum())
            0.0
        """
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- dtype and device ------------------------------------------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Convert floating parameters and buffers in place (the same objects), PyTorch's call
        forms: ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)`` and the
        keywords ``device=``, ``dtype=``, ``non_blocking=``.

        Integer buffers keep their dtype. The only device that can hold tensors is the CPU;
        any other raises ``DeviceUnavailableError`` (see ``chainrule.devices``), so the usual
        ``model.to(device)`` works when ``device`` came from ``cr.cuda.is_available()``.

        Example:
            >>> import chainrule as cr
            >>> net = cr.nn.Linear(2, 2).to("cpu", cr.float64)
            >>> net.weight.dtype
            dtype('float64')
        """
        where = f"{type(self).__name__}.to()"
        if "copy" in kwargs:
            raise RuntimeError(f"{where}: does not accept copy (as in PyTorch)")
        dtype, _, _, _ = devices.parse_to(args, kwargs, where, Tensor)
        if dtype is None:
            return self
        dt = dtypes.as_dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"{where}: only floating dtypes are allowed, got {dt}")
        return self._cast(dt, lambda t: t._data.dtype.kind == "f")

    def _cast(self, dt: np.dtype, which: Callable[[Tensor], bool]) -> Module:
        """Every parameter and buffer ``which`` picks, and its gradient, converted to ``dt``."""
        for t in list(self.parameters()) + list(self.buffers()):
            if which(t) and t._data.dtype != dt:
                t._data = t._data.astype(dt)
                if t.grad is not None:
                    t.grad = _wrap(t.grad._data.astype(dt))
        return self

    def type(self, dst_type: Any) -> Module:
        """Convert every parameter and buffer (integer ones too) to ``dst_type``, a dtype or a
        type name such as ``'torch.DoubleTensor'``, as PyTorch does.

        Example:
            >>> import chainrule as cr
            >>> cr.nn.Linear(2, 2).type(cr.float64).weight.dtype
            dtype('float64')
        """
        from ...methods import _TYPE_DTYPES

        where = f"{type(self).__name__}.type()"
        if isinstance(dst_type, str) and dst_type.split(".")[-1] in _TYPE_DTYPES:
            parts = dst_type.split(".")
            if len(parts) > 2:  # 'torch.cuda.FloatTensor'
                raise devices.unavailable(parts[-2], where)
            dst_type = _TYPE_DTYPES[parts[-1]]
        dt = dtypes.as_dtype(dst_type)
        if dt.kind not in "fc" and any(p.requires_grad for p in self.parameters()):
            raise RuntimeError(f"{where}: parameters that require grad must stay floating point, "
                            f"got {dt}")
        return self._cast(dt, lambda t: True)

    def double(self) -> Module:
        """Floating parameters and buffers to float64."""
        return self.to(dtypes.float64)

    def float(self) -> Module:
        """Floating parameters and buffers to float32."""
        return self.to(dtypes.float32)

    def half(self) -> Module:
        """Floating parameters and buffers to float16."""
        return self.to(dtypes.float16)

    def bfloat16(self) -> Module:
        """Refused: NumPy, chainrule's only required dependency, has no bfloat16."""
        raise TypeError(f"{type(self).__name__}.bfloat16(): chainrule cannot store bfloat16 "
                        "(NumPy has no such type); use .float() (float32) or .half() (float16)")

    def cpu(self) -> Module:
        """This module: its tensors are on the CPU already."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """Refused: there is no CUDA device (``DeviceUnavailableError``)."""
        raise devices.unavailable(_indexed("cuda", device), f"{type(self).__name__}.cuda()")

    def xpu(self, device: Any = None) -> Module:
        """Refused: there is no XPU device (``DeviceUnavailableError``)."""
        raise devices.unavailable(_indexed("xpu", device), f"{type(self).__name__}.xpu()")

    def ipu(self, device: Any = None) -> Module:
        """Refused: there is no IPU device (``DeviceUnavailableError``)."""
        raise devices.unavailable(_indexed("ipu", device), f"{type(self).__name__}.ipu()")

    def mtia(self, device: Any = None) -> Module:
        """Refused: there is no MTIA device (``DeviceUnavailableError``)."""
        raise devices.unavailable(_indexed("mtia", device), f"{type(self).__name__}.mtia()")

    # ---- state --------------------------------------------------------------------------------
    def state_dict(self, destination: OrderedDict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict:
        """Parameters and persistent buffers by dotted name (each module: parameters, buffers,
        then sub-modules). The tensors share memory with the module (detached unless
        ``keep_vars``).

        Example:
            >>> import chainrule as cr
            >>> list(cr.nn.Linear(2, 3).state_dict())
            ['weight', 'bias']
        """
        out = OrderedDict() if destination is None else destination
        for mod_prefix, mod in self.named_modules(prefix=prefix.rstrip(".")):
            p = f"{mod_prefix}." if mod_prefix else ""
            for name, v in mod._own_parameters():
                out[p + name] = v if keep_vars else v.detach()
            for name, v in mod._own_buffers(persistent_only=True):
                out[p + name] = v if keep_vars else v.detach()
        return out

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy values (Tensors or NumPy arrays) from ``state_dict`` into this module in place.

        With ``strict`` (the default) missing or unexpected keys are an error; a shape mismatch
        always is. Returns ``(missing_keys, unexpected_keys)``.

        Example:
            >>> import chainrule as cr
            >>> a, b = cr.nn.Linear(2, 2), cr.nn.Linear(2, 2)
            >>> b.load_state_dict(a.state_dict())
            _IncompatibleKeys(missing_keys=[], unexpected_keys=[])
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"load_state_dict(): expected a dict-like, got "
                            f"{type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        pending = []
        for k, target in own.items():
            if k not in state_dict:
                continue
            v = state_dict[k]
            arr = v._data if isinstance(v, Tensor) else np.asarray(v) if isinstance(
                v, (np.ndarray, np.generic, bool, int, float)) else None
            if arr is None or arr.dtype.kind not in "biufc":
                # PyTorch's words: a string or a list where a tensor belongs is an error.
                errors.append(f'While copying the parameter named "{k}", expected a Tensor or '
                              f"array from checkpoint but received {type(v).__name__}"
                              + (f" of dtype {arr.dtype}" if arr is not None else "") + ".")
                continue
            if isinstance(target, _Uninitialized):  # a lazy layer takes the saved shape
                target.materialize(arr.shape)
            if arr.shape != target.shape:
                errors.append(f"size mismatch for {k}: copying a param with shape {arr.shape} "
                              f"from checkpoint, the shape in current model is {target.shape}.")
                continue
            pending.append((target, arr))
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(repr(k) for k in unexpected) + ".")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(repr(k) for k in missing) + ".")
        if errors:
            raise StateDictError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                                 + "\n\t".join(errors))
        with no_grad():
            for target, arr in pending:
                if assign:
                    target._data = np.array(arr, dtype=target._data.dtype)
                else:
                    np.copyto(target._data, arr, casting="unsafe")
                target._version += 1
        return _IncompatibleKeys(missing, unexpected)

    # ---- calling ------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define "
                                  "forward(self, ...) in the subclass")

    def __call__(self, *args, **kwargs):
        if self._hooked:
            return self._call_hooked(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_hooked(self, args, kwargs):
        for hook in list(self.__dict__.get("_forward_pre_hooks", {}).values()):
            res = hook(self, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
        out = self.forward(*args, **kwargs)
        for hook in list(self.__dict__.get("_forward_hooks", {}).values()):
            res = hook(self, args, out)
            if res is not None:
                out = res
        return out

    def _add_hook(self, table: str, hook: Callable) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        hooks = self.__dict__.setdefault(table, {})
        key = next(_hook_ids)
        hooks[key] = hook
        self.__dict__["_hooked"] = True
        return RemovableHandle(self, table, key)

    def _refresh_hooked(self) -> None:
        d = self.__dict__
        d["_hooked"] = bool(d.get("_forward_hooks")) or bool(d.get("_forward_pre_hooks"))

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, args)`` before each forward; a returned value replaces the args.

        Example:
            >>> import chainrule as cr
            >>> m = cr.nn.Identity()
            >>> h = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
            >>> m(cr.tensor([1.0])).tolist()
            [2.0]
            >>> h.remove()
        """
        return self._add_hook("_forward_pre_hooks", hook)

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each forward; a returned value replaces the
        output.

        Example:
            >>> import chainrule as cr
            >>> shapes = []
            >>> m = cr.nn.Linear(3, 2)
            >>> h = m.register_forward_hook(lambda mod, args, out: shapes.append(out.shape))
            >>> _ = m(cr.ones(4, 3)); shapes
            [(4, 2)]
        """
        return self._add_hook("_forward_hooks", hook)

    # ---- printing -----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (override in layers)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self.__dict__.items():
            if isinstance(m, Module):
                body = repr(m).replace("\n", "\n  ")
                lines.append(f"({name}): {body}")
        head = type(self).__name__ + "("
        if not lines:
            return head + ")"
        if len(lines) == 1 and not any(isinstance(v, Module) for v in self.__dict__.values()):
            return head + lines[0] + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"
