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
