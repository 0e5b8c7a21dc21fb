"""PyTorch's memory-format converters for convolution weights. chainrule's tensors have no
memory format to choose (the engine picks each op's layout), so these return the module
unchanged."""

from __future__ import annotations

from ..modules.module import Module


def convert_conv2d_weight_memory_format(module: Module, memory_format=None) -> Module:
    """Returns ``module`` unchanged (chainrule has no channels_last format to convert to).

    Example:
        >>> import chainrule as cr
        >>> conv = cr.nn.Conv2d(1, 2, 3)
        >>> cr.nn.utils.convert_conv2d_weight_memory_format(conv, None) is conv
        True
    """
    return module


def convert_conv3d_weight_memory_format(module: Module, memory_format=None) -> Module:
    """Returns ``module`` unchanged (chainrule has no channels_last format to convert to).

    Example:
        >>> import chainrule as cr
        >>> conv = cr.nn.Conv3d(1, 2, 3)
        >>> cr.nn.utils.convert_conv3d_weight_memory_format(conv, None) is conv
        True
    """
    return module
