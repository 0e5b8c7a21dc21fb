"""``Unfold`` (im2col) and ``Fold`` (col2im) as layers, over the engine's primitives."""

from __future__ import annotations

from ... import _validate as check
from ...ops.conv import fold, unfold
from ...tensor import Tensor
from .module import Module


class Unfold(Module):
    """Extract sliding blocks: (N, C, H, W) -> (N, C*kh*kw, L) (or unbatched (C, H, W) ->
    (C*kh*kw, L)).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Unfold(kernel_size=(2, 3))(cr.zeros(2, 5, 3, 4)).shape
        (2, 30, 4)
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        if input.ndim not in (3, 4):
            raise ValueError(f"Unfold: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
                             f"shape {input.shape}")
        x = input if input.ndim == 4 else input.unsqueeze(0)
        out = unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)
        return out if input.ndim == 4 else out.squeeze(0)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Sum sliding blocks back into images: (N, C*kh*kw, L) -> (N, C, *output_size) (or
    unbatched (C*kh*kw, L)); the adjoint of ``Unfold``.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Fold(output_size=(4, 5), kernel_size=2)(cr.ones(1, 12, 12)).shape
        (1, 3, 4, 5)
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        if input.ndim not in (2, 3):
            raise ValueError(f"Fold: expected a 2-D (C*k, L) or 3-D (N, C*k, L) input, got "
                             f"shape {input.shape}")
        x = input if input.ndim == 3 else input.unsqueeze(0)
        out = fold(x, self.output_size, self.kernel_size, self.dilation, self.padding,
                   self.stride)
        return out if input.ndim == 3 else out.squeeze(0)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
