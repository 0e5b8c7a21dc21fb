"""``Parameter``: a tensor that a ``Module`` owns and an optimizer trains."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _to_array


class Parameter(Tensor):
    """A leaf tensor that requires grad and is registered by the ``Module`` holding it.

    Like ``torch.nn.Parameter``, wrapping a tensor shares its memory (no copy).

    Example:
        >>> import chainrule as cr
        >>> w = cr.nn.Parameter(cr.zeros(2, 3))
        >>> w.requires_grad, w.shape
        (True, (2, 3))
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        if data is None:
            arr = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            arr = data._data
        elif isinstance(data, np.ndarray):
            arr = data
        else:
            arr = _to_array(data)
        self._data = arr
        self.grad = None
        self.requires_grad = False
        self._node = None
        self.name = None
        self._hooks = None
        self._version = 0
        self._detached_from = None
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        p = Parameter(self._data.copy(), requires_grad=self.requires_grad)
        p.name = self.name
        if self.grad is not None:
            p.grad = Tensor(self.grad._data)
        memo[id(self)] = p
        return p


class Buffer(Tensor):
    """A tensor that is module state but not a parameter: assigning one to a ``Module``
    attribute registers it as a buffer (``persistent`` ones are saved in the state dict), as
    ``register_buffer`` does. Shares memory with ``data``.

    Example:
        >>> import chainrule as cr
        >>> class Counter(cr.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.count = cr.nn.Buffer(cr.zeros(()))
        >>> list(Counter().state_dict()), list(Counter().parameters())
        (['count'], [])
    """

    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent: bool = True) -> None:
        if data is None:
            arr = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            arr = _to_array(data)
        Tensor.__init__(self, arr)
        self._data = arr  # share memory, as torch's Buffer(t) does
        self.persistent = bool(persistent)
        if isinstance(data, Tensor) and data.requires_grad:
            self.requires_grad_(True)


class _Uninitialized:
    """What the lazy placeholders share: no shape until ``materialize`` gives one."""

    __slots__ = ()
    cls_to_become: type = Tensor

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give the placeholder its (empty) memory of ``shape`` and turn it into a
        ``cls_to_become`` (the object stays the same, so optimizers holding it see the change).
        """
        from .. import _validate as check

        dt = self._data.dtype if dtype is None else np.dtype(dtype)
        self._data = check.new_array(np.empty, shape, dt, "materialize", "shape")
        self._version += 1
        object.__setattr__(self, "__class__", self.cls_to_become)

    def is_materialized(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class UninitializedParameter(_Uninitialized, Parameter):
    """A parameter whose shape is not known yet (the lazy layers' weights): ``materialize``
    turns it into an ordinary ``Parameter``.

    Example:
        >>> import chainrule as cr
        >>> p = cr.nn.UninitializedParameter()
        >>> p.materialize((2, 3))
        >>> type(p).__name__, p.shape
        ('Parameter', (2, 3))
    """

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device=None, dtype=None) -> None:
        from .. import dtypes

        dt = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
        Parameter.__init__(self, np.empty((0,), dtype=dt), requires_grad)

    def __deepcopy__(self, memo):
        p = UninitializedParameter(self.requires_grad, dtype=self._data.dtype)
        memo[id(self)] = p
        return p


class UninitializedBuffer(_Uninitialized, Tensor):
    """A buffer whose shape is not known yet: ``materialize`` turns it into a Tensor.

    Example:
        >>> import chainrule as cr
        >>> b = cr.nn.UninitializedBuffer()
        >>> b.materialize((4,))
        >>> type(b).__name__, b.shape
        ('Tensor', (4,))
    """

    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device=None, dtype=None,
                 persistent: bool = True) -> None:
        from .. import dtypes

        dt = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
        Tensor.__init__(self, np.empty((0,), dtype=dt), requires_grad=requires_grad)
