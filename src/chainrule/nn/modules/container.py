"""Containers: ``Sequential``, ``ModuleList`` and ``ModuleDict``."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping

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
