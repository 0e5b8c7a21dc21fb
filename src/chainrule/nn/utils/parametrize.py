"""Parametrizations, as ``torch.nn.utils.parametrize``: a tensor of a module computed from
other, trained tensors each time it is read.

``register_parametrization(module, "weight", p)`` moves the parameter to
``module.parametrizations.weight.original`` (or ``original0``, ``original1``... when
``p.right_inverse`` returns several tensors) and makes ``module.weight`` a property that
returns ``p(original)``. As in PyTorch, the module's class is replaced by a subclass
(``ParametrizedLinear`` for a ``Linear``) that holds the property, so the state dict keys are
PyTorch's too.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..modules.container import ModuleDict, ModuleList
from ..modules.module import Module
from ..parameter import Parameter


def _store(owner: Module, name: str, value: Tensor, like: Tensor) -> None:
    """Register ``value`` on ``owner`` as a parameter if ``like`` is one, else as a buffer."""
    if isinstance(like, Parameter):
        owner.register_parameter(name, value if isinstance(value, Parameter)
                                 else Parameter(value._data, like.requires_grad))
    else:
        owner.register_buffer(name, value)


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order to its original(s).

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.utils import parametrize
        >>> class Double(cr.nn.Module):
        ...     def forward(self, x):
        ...         return 2 * x
        >>> layer = cr.nn.Linear(2, 2)
        >>> _ = parametrize.register_parametrization(layer, "weight", Double())
        >>> type(layer.parametrizations.weight).__name__
        'ParametrizationList'
    """

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False) -> None:
        super().__init__(modules)
        self.unsafe = unsafe
        new = original
        with no_grad():
            for m in reversed(list(self)):
                if hasattr(m, "right_inverse"):
                    new = m.right_inverse(new)
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError(f"register_parametrization: right_inverse must return a Tensor or "
                             f"a sequence of tensors, got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new is not original:
                if new.shape != original.shape:
                    raise ValueError(f"register_parametrization: right_inverse changed the "
                                     f"shape {original.shape} to {new.shape}")
                with no_grad():  # the same object stays in the optimizer's parameter list
                    original._data[...] = new._data
                    original._version += 1
            _store(self, "original", original, original)
        else:
            for i, value in enumerate(new):
                if not isinstance(value, Tensor):
                    raise ValueError(f"register_parametrization: right_inverse returned a "
                                     f"{type(value).__name__} at position {i}")
                _store(self, f"original{i}", value.detach(), original)

    def right_inverse(self, value: Tensor) -> None:
        """Set the original(s) so that the parametrized tensor becomes ``value``."""
        with no_grad():
            for m in reversed(list(self)):
                if not hasattr(m, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(m).__name__} has no "
                                       "right_inverse, so the tensor cannot be assigned")
                value = m.right_inverse(value)
            originals = (value,) if self.is_tensor else tuple(value)
            names = ["original"] if self.is_tensor else [f"original{i}"
                                                         for i in range(self.ntensors)]
            for name, v in zip(names, originals):
                target = self.__dict__[name]
                target._data[...] = v._data
                target._version += 1

    def forward(self) -> Tensor:
        items = list(self)
        if self.is_tensor:
            x = items[0](self.__dict__["original"])
        else:
            x = items[0](*(self.__dict__[f"original{i}"] for i in range(self.ntensors)))
        for m in items[1:]:
            x = m(x)
        return x


def _parametrized_class(module: Module) -> type:
    cls = type(module)
    if getattr(cls, "_chainrule_parametrized", False):
        return cls

    def __setattr__(self, name, value):
        if name in type(self)._parametrized_names:
            self.parametrizations[name].right_inverse(value)
            return
        cls.__setattr__(self, name, value)

    new = type(f"Parametrized{cls.__name__}", (cls,),
               {"_chainrule_parametrized": True, "_original_class": cls,
                "_parametrized_names": set(), "__setattr__": __setattr__,
                "__module__": cls.__module__})
    object.__setattr__(module, "__class__", new)  # Module.__setattr__ would store it
    return new


def _tensor_property(name: str) -> property:
    def get(self):
        return self.parametrizations[name]()

    return property(get, doc=f"``{name}``, computed by its parametrizations")


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` the output of ``parametrization`` applied to the trained
    original (a second call on the same name chains another parametrization). Returns the
    module.

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.utils import parametrize
        >>> class Symmetric(cr.nn.Module):
        ...     def forward(self, x):
        ...         return (x + x.T) / 2
        >>> layer = parametrize.register_parametrization(cr.nn.Linear(3, 3), "weight",
        ...                                              Symmetric())
        >>> w = layer.weight
        >>> bool(((w - w.T).abs() < 1e-7).all()), type(layer).__name__
        (True, 'ParametrizedLinear')
    """
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: the parametrization must be a Module, got "
                        f"{type(parametrization).__name__}")
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            with no_grad():
                before = plist()
                after = parametrization(before)
            if not isinstance(after, Tensor) or after.shape != before.shape or \
                    after.dtype != before.dtype:
                raise ValueError(f"register_parametrization: the new parametrization changes "
                                 f"{tensor_name!r} from {before.shape} {before.dtype}; pass "
                                 "unsafe=True to allow it")
        plist.append(parametrization)
        return module
    original = module.__dict__.get(tensor_name)
    if not isinstance(original, Tensor):
        raise ValueError(f"register_parametrization: {type(module).__name__} has no parameter "
                         f"or buffer named {tensor_name!r}")
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    delattr(module, tensor_name)
    cls = _parametrized_class(module)
    if "parametrizations" not in module.__dict__:
        module.add_module("parametrizations", ModuleDict())
    module.parametrizations[tensor_name] = plist
    cls._parametrized_names.add(tensor_name)
    setattr(cls, tensor_name, _tensor_property(tensor_name))
    if not unsafe:
        with no_grad():
            value = getattr(module, tensor_name)
        if not isinstance(value, Tensor) or value.shape != original.shape:
            remove_parametrizations(module, tensor_name, leave_parametrized=False)
            raise ValueError(f"register_parametrization: the parametrization changes "
                             f"{tensor_name!r} from shape {original.shape}; pass unsafe=True "
                             "to allow it")
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` (or its ``tensor_name``) has parametrizations.

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.utils import parametrize
        >>> parametrize.is_parametrized(cr.nn.Linear(2, 2))
        False
    """
    plists = module.__dict__.get("parametrizations")
    if not isinstance(plists, ModuleDict) or not getattr(type(module),
                                                         "_chainrule_parametrized", False):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Make ``tensor_name`` a plain parameter (or buffer) again, holding its parametrized value
    (``leave_parametrized``) or the original. Returns the module.

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.utils import parametrize, parametrizations
        >>> layer = parametrizations.weight_norm(cr.nn.Linear(2, 2))
        >>> layer = parametrize.remove_parametrizations(layer, "weight")
        >>> type(layer).__name__, [n for n, _ in layer.named_parameters()]
        ('Linear', ['bias', 'weight'])
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"remove_parametrizations: {type(module).__name__} has no "
                         f"parametrization on {tensor_name!r}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.__dict__["original"]
        if leave_parametrized:
            with no_grad():
                value = plist()
            if value.shape == original.shape and value.dtype == original.dtype:
                original._data[...] = value._data
                original._version += 1
            else:
                original = Parameter(value._data.copy(), original.requires_grad) \
                    if isinstance(original, Parameter) else value.detach()
    else:
        if not leave_parametrized:
            raise ValueError("remove_parametrizations: leave_parametrized=False needs a single "
                             "original tensor")
        with no_grad():
            value = plist()
        first = plist.__dict__["original0"]
        original = Parameter(value._data.copy(), first.requires_grad) \
            if isinstance(first, Parameter) else value.detach()
    cls = type(module)
    delattr(cls, tensor_name)
    cls._parametrized_names.discard(tensor_name)
    del module.parametrizations[tensor_name]
    if isinstance(original, Parameter):
        module.register_parameter(tensor_name, original)
    else:
        module.register_buffer(tensor_name, original)
    if not cls._parametrized_names:
        delattr(module, "parametrizations")
        object.__setattr__(module, "__class__", cls._original_class)
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class before any parametrization was registered.

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.utils import parametrize, parametrizations
        >>> layer = parametrizations.weight_norm(cr.nn.Linear(2, 2))
        >>> parametrize.type_before_parametrizations(layer).__name__
        'Linear'
    """
    return getattr(type(module), "_original_class", type(module))


@contextmanager
def cached():
    """PyTorch caches parametrized tensors inside this block; chainrule recomputes them on each
    read (the same values), so the block only marks the code.

    Example:
        >>> from chainrule.nn.utils import parametrize
        >>> with parametrize.cached():
        ...     pass
    """
    yield
