"""``Upsample`` and its fixed-mode variants: resize feature maps with ``F.interpolate``."""

from __future__ import annotations

from ... import _validate as check
from ...tensor import Tensor
from .. import functional as F
from .module import Module


class Upsample(Module):
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) inputs to ``size`` or by
    ``scale_factor`` (modes as ``F.interpolate``).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Upsample(scale_factor=2, mode="bilinear")(cr.zeros(1, 3, 4, 4)).shape
        (1, 3, 8, 8)
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.size = size
        if scale_factor is None or isinstance(scale_factor, (tuple, list)) and not scale_factor:
            self.scale_factor = None
        elif isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(check.number(f, type(self).__name__, "scale_factor")
                                      for f in scale_factor)
        else:
            self.scale_factor = check.number(scale_factor, type(self).__name__, "scale_factor")
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        what = f"size={self.size}" if self.size is not None else \
            f"scale_factor={self.scale_factor}"
        return f"{what}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of (N, C, H, W) images (``Upsample(mode='nearest')``).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.UpsamplingNearest2d(scale_factor=2)(cr.ones(1, 1, 2, 3)).shape
        (1, 1, 4, 6)
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling with ``align_corners=True`` (PyTorch's fixed choice for this layer).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.UpsamplingBilinear2d(size=(3, 3))(cr.ones(1, 1, 2, 2)).shape
        (1, 1, 3, 3)
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
