"""``Flatten``: merge a range of dims (all but the batch dim by default)."""

from __future__ import annotations

from ... import _validate as check
from ...ops.shape import flatten
from ...tensor import Tensor
from .module import Module


class Flatten(Module):
    """Flatten dims ``start_dim``..``end_dim`` into one.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Flatten()(cr.zeros(2, 3, 4)).shape
        (2, 12)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Unflatten(1, (3, 4))(cr.zeros(2, 12)).shape
        (2, 3, 4)
    """

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        self.dim = check.integer(dim, "Unflatten", "dim")
        self.unflattened_size = check.ints(unflattened_size, 0, "Unflatten", "unflattened_size",
                                           low=-1)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        d = check.dim(self.dim, input.ndim, "Unflatten")
        if input.ndim == 0:
            raise ValueError("Unflatten: cannot split a dim of a 0-d tensor")
        shape = input.shape[:d] + self.unflattened_size + input.shape[d + 1:]
        try:
            return input.reshape(shape)
        except ValueError:
            raise ValueError(f"Unflatten: dim {self.dim} of size {input.shape[d]} cannot be "
                             f"split into {self.unflattened_size}") from None

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
