"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList`` and
``ParameterDict``."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping

from ...tensor import Tensor
from ..parameter import Parameter
from .module import Module


def _check_module(m, where: str) -> Module:
    if not isinstance(m, Module):
        raise TypeError(f"{where}: {type(m).__name__} is not a Module")
    return m


class _IndexedModules(Module):
    """Shared machinery of the two index-addressed containers.

    The children live under the attribute names '0', '1', ...; ``_items`` keeps them in order
    so that iteration (and ``Sequential.forward``) never re-walks the attributes.
    """

    def __init__(self) -> None:
        super().__init__()
        self.__dict__["_items"] = []

    def _rename(self) -> None:
        d = self.__dict__
        for k in [k for k, v in d.items() if isinstance(v, Module)]:
            del d[k]
        for i, m in enumerate(d["_items"]):
            d[str(i)] = m

    def _index(self, idx: int) -> int:
        n = len(self._items)
        try:
            idx = operator.index(idx)
        except TypeError:
            raise TypeError(f"{type(self).__name__} indices must be integers or slices, not "
                            f"{type(idx).__name__}") from None
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for {type(self).__name__} of "
                             f"length {n}")
        return idx % n

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._items))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(*self._items[idx]) if isinstance(self, Sequential) else \
                type(self)(self._items[idx])
        return self._items[self._index(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        i = self._index(idx)
        _check_module(module, f"{type(self).__name__}[{idx}] = ...")
        d = self.__dict__
        name = [k for k, v in d.items() if isinstance(v, Module)][i]  # '3' or a given name
        self._items[i] = d[name] = module

    def __delitem__(self, idx) -> None:
        if isinstance(idx, slice):
            del self._items[idx]
        else:
            del self._items[self._index(idx)]
        self._rename()

    def append(self, module: Module):
        """Add ``module`` at the end; returns self."""
        _check_module(module, f"{type(self).__name__}.append")
        self.__dict__[str(len(self._items))] = module
        self._items.append(module)
        return self

    def extend(self, modules: Iterable[Module]):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        _check_module(module, f"{type(self).__name__}.insert")
        self._items.insert(index, module)
        self._rename()

    def __setattr__(self, name, value) -> None:
        if isinstance(value, Module):
            self.add_module(name, value)
        else:
            super().__setattr__(name, value)

    def add_module(self, name: str, module: Module) -> None:
        """Register ``module`` under ``name``: a new name joins the end of the sequence, an
        existing one is replaced in place."""
        where = f"{type(self).__name__}.add_module({name!r})"
        _check_module(module, where)
        self._check_name(name, "module")
        d = self.__dict__
        if isinstance(d.get(name), Module):
            keys = [k for k, v in d.items() if isinstance(v, Module)]
            self._items[keys.index(name)] = module
        else:
            if name in d or hasattr(type(self), name):
                raise KeyError(f"attribute {name!r} already exists on {type(self).__name__}")
            self._items.append(module)
        d[name] = module

    def __delattr__(self, name) -> None:
        if isinstance(self.__dict__.get(name), Module):
            item = self.__dict__[name]
            self._items[:] = [m for m in self._items if m is not item]
            super().__delattr__(name)
            self._rename()
            return
        super().__delattr__(name)


class Sequential(_IndexedModules):
    """Modules applied one after another; ``Sequential(OrderedDict(...))`` names them.

    Example:
        >>> import chainrule as cr
        >>> net = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 2))
        >>> net(cr.randn(5, 4)).shape, len(net), type(net[1]).__name__
        ((5, 2), 3, 'ReLU')
    """

    def __init__(self, *modules) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (OrderedDict, dict)):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for m in modules:
                self.append(m)

    def _rename(self) -> None:
        # Sequential keeps user names given through an OrderedDict when nothing was removed.
        names = [k for k, v in self.__dict__.items() if isinstance(v, Module)]
        if [self.__dict__[k] for k in names] != self._items:
            super()._rename()

    def forward(self, x):
        for m in self._items:
            x = m(x)
        return x


class ModuleList(_IndexedModules):
    """A list of modules whose parameters are registered (a plain list's would not be).

    Example:
        >>> import chainrule as cr
        >>> layers = cr.nn.ModuleList([cr.nn.Linear(2, 2) for _ in range(3)])
        >>> len(list(layers.parameters()))
        6
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList(list(self) + list(other))

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward(); iterate over it in your module")


class ModuleDict(Module):
    """A dict of modules whose parameters are registered, in insertion order.

    Example:
        >>> import chainrule as cr
        >>> heads = cr.nn.ModuleDict({"a": cr.nn.Linear(2, 1), "b": cr.nn.Linear(2, 3)})
        >>> heads["b"](cr.ones(1, 2)).shape
        (1, 3)
    """

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        super().__init__()
        self.__dict__["_keys"] = []
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._keys:
            raise KeyError(f"ModuleDict has no key {key!r}; keys: {self._keys}")
        return self.__dict__[key]

    def __setitem__(self, key: str, module: Module) -> None:
        _check_module(module, f"ModuleDict[{key!r}] = ...")
        if key not in self._keys:
            self.add_module(key, module)
            self._keys.append(key)
        else:
            self.__dict__[key] = module

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018  (raises the clear KeyError)
        self._keys.remove(key)
        del self.__dict__[key]

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._keys))

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def keys(self):
        return list(self._keys)

    def values(self):
        return [self.__dict__[k] for k in self._keys]

    def items(self):
        return [(k, self.__dict__[k]) for k in self._keys]

    def pop(self, key: str) -> Module:
        m = self[key]
        del self[key]
        return m

    def clear(self) -> None:
        for k in list(self._keys):
            del self[k]

    def update(self, modules) -> None:
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self[k] = m

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward(); index it in your module")


def _as_parameter(value):
    """What the parameter containers store: a Tensor becomes a Parameter (sharing memory), as
    in PyTorch; other objects are kept as they are."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _describe(value) -> str:
    if isinstance(value, Tensor):
        size = "x".join(str(n) for n in value.shape)
        kind = "Parameter containing" if isinstance(value, Parameter) else "Tensor"
        return f"{kind}: [{value.dtype} of size {size}]"
    if isinstance(value, Module):
        return repr(value).replace("\n", "\n    ")
    return f"Object of type: {type(value).__name__}"


class ParameterList(Module):
    """A list of parameters registered under the names '0', '1', ... (tensors are wrapped in
    ``Parameter``, sharing memory).

    Example:
        >>> import chainrule as cr
        >>> ps = cr.nn.ParameterList([cr.nn.Parameter(cr.zeros(2)), cr.ones(3)])
        >>> [name for name, _ in ps.named_parameters()], ps[1].shape
        (['0', '1'], (3,))
    """

    def __init__(self, values=None) -> None:
        super().__init__()
        self.__dict__["_size"] = 0
        if values is not None:
            self.extend(values)

    def _index(self, idx) -> int:
        try:
            idx = operator.index(idx)
        except TypeError:
            raise TypeError(f"ParameterList indices must be integers or slices, not "
                            f"{type(idx).__name__}") from None
        if not -self._size <= idx < self._size:
            raise IndexError(f"index {idx} is out of range for ParameterList of length "
                             f"{self._size}")
        return idx % self._size

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(self._size)[idx]])
        return getattr(self, str(self._index(idx)))

    def __setitem__(self, idx, value) -> None:
        # Any value may replace a parameter, as in PyTorch; the slot keeps its place in order.
        self.__dict__[str(self._index(idx))] = _as_parameter(value)

    def __len__(self) -> int:
        return self._size

    def __iter__(self):
        return iter(self[i] for i in range(self._size))

    def __iadd__(self, values) -> ParameterList:
        return self.extend(values)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value) -> ParameterList:
        """Add ``value`` at the end; returns self."""
        self.__dict__[str(self._size)] = _as_parameter(value)
        self.__dict__["_size"] += 1
        return self

    def extend(self, values) -> ParameterList:
        """Append every value of an iterable; returns self."""
        if isinstance(values, Tensor) or not hasattr(values, "__iter__"):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got "
                            f"{type(values).__name__}")
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        return "\n".join(f"({i}): {_describe(v)}" for i, v in enumerate(self))

    def __repr__(self) -> str:
        body = self.extra_repr()
        return "ParameterList(\n" + "".join(f"    {line}\n" for line in body.split("\n")
                                             if line) + ")"

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterList has no forward(); index it in your module")


class ParameterDict(Module):
    """A dict of parameters registered under their keys, in insertion order (tensors are
    wrapped in ``Parameter``, sharing memory).

    Example:
        >>> import chainrule as cr
        >>> pd = cr.nn.ParameterDict({"scale": cr.ones(2), "shift": cr.zeros(2)})
        >>> list(pd.state_dict()), pd["scale"].requires_grad
        (['scale', 'shift'], True)
    """

    def __init__(self, parameters=None) -> None:
        super().__init__()
        self.__dict__["_keys"] = {}
        if parameters is not None:
            self.update(parameters)

    def _check_key(self, key) -> str:
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict keys must be str, got {type(key).__name__}")
        return key

    def __getitem__(self, key: str):
        if key not in self._keys:
            raise KeyError(f"ParameterDict has no key {key!r}; keys: {list(self._keys)}")
        return self.__dict__[key]

    def __setitem__(self, key: str, value) -> None:
        self._check_key(key)
        if key not in self._keys:
            self._check_name(key, "parameter")
            if key in self.__dict__ or hasattr(type(self), key):
                raise KeyError(f"ParameterDict: key {key!r} clashes with an attribute")
        self._keys[key] = None
        self.__dict__[key] = _as_parameter(value)  # in place: the key keeps its position

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018  (raises the clear KeyError)
        del self._keys[key]
        del self.__dict__[key]

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self):
        return iter(list(self._keys))

    def __contains__(self, key) -> bool:
        return key in self._keys

    def __reversed__(self):
        return reversed(list(self._keys))

    def __or__(self, other) -> ParameterDict:
        out = self.copy()
        out.update(other)
        return out

    def __ior__(self, other) -> ParameterDict:
        self.update(other)
        return self

    def keys(self):
        return list(self._keys)

    def values(self):
        return [self.__dict__[k] for k in self._keys]

    def items(self):
        return [(k, self.__dict__[k]) for k in self._keys]

    def get(self, key: str, default=None):
        return self[key] if key in self._keys else default

    def pop(self, key: str):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        if not self._keys:
            raise KeyError("popitem(): ParameterDict is empty")
        key = list(self._keys)[-1]
        return key, self.pop(key)

    def setdefault(self, key: str, default=None):
        if key not in self._keys:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        for k in list(self._keys):
            del self[k]

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same parameters (not copies of them)."""
        return ParameterDict(self.items())

    @classmethod
    def fromkeys(cls, keys, default=None) -> ParameterDict:
        return cls((k, default) for k in keys)

    def update(self, values) -> None:
        """Add or replace entries from a mapping or an iterable of (key, value) pairs."""
        if isinstance(values, (OrderedDict, ParameterDict, Mapping)):
            items = values.items()
        elif hasattr(values, "__iter__") and not isinstance(values, (str, Tensor)):
            items = list(values)
            for j, kv in enumerate(items):
                if not hasattr(kv, "__len__") or len(kv) != 2:
                    raise ValueError(f"ParameterDict.update: element {j} of the iterable is not "
                                     "a (key, value) pair")
        else:
            raise TypeError(f"ParameterDict.update should be called with a mapping or an "
                            f"iterable of (key, value) pairs, got {type(values).__name__}")
        for k, v in items:
            self[k] = v

    def extra_repr(self) -> str:
        return "\n".join(f"({k}): {_describe(v)}" for k, v in self.items())

    def __repr__(self) -> str:
        body = self.extra_repr()
        return "ParameterDict(\n" + "".join(f"    {line}\n" for line in body.split("\n")
                                             if line) + ")"

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterDict has no forward(); index it in your module")
