"""PyTorch's module path ``nn.modules.upsampling``: the layers live in ``upsample``."""

from .upsample import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d  # noqa: F401

__all__ = ["Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]
