"""``skip_init``: construct a module without running its initialisers (PyTorch's API)."""

from __future__ import annotations

import inspect

import numpy as np

from ..modules.module import Module


def skip_init(module_cls: type, *args, **kwargs) -> Module:
    """A ``module_cls(*args, **kwargs)`` whose parameters and buffers hold uninitialised
    (arbitrary) values, as PyTorch's ``skip_init`` returns: fill them before use.

    chainrule has no "meta" device to build on, so the module is constructed normally and its
    tensors are then emptied; the cost of the initialisers is not saved.

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.utils import skip_init
        >>> skip_init(cr.nn.Linear, 3, 2).weight.shape
        (2, 3)
    """
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise TypeError(f"skip_init: expected a Module class, got {module_cls!r}")
    if "device" not in inspect.signature(module_cls.__init__).parameters:
        raise RuntimeError(f"skip_init: module class {module_cls.__name__!r} does not support "
                           "device placement (a 'device' argument), as PyTorch requires")
    module = module_cls(*args, **kwargs)
    for t in list(module.parameters()) + list(module.buffers()):
        if t._data.dtype.kind == "f":
            t._data[...] = np.empty_like(t._data)
    return module
