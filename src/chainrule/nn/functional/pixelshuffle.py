"""Rearranging channels and space: pixel (un)shuffle and channel shuffle, as reshapes and one
permute (their gradients are the inverse rearrangements)."""

from __future__ import annotations

from ... import _validate as check
from ...tensor import Tensor


def _factor(v, where: str, name: str) -> int:
    return check.integer(v, where, name, low=1)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r): depth to space (sub-pixel convolution).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.pixel_shuffle(cr.arange(4.0).reshape(1, 4, 1, 1), 2).tolist()
        [[[[0.0, 1.0], [2.0, 3.0]]]]
    """
    input = check.tensor(input, "pixel_shuffle")  # noqa: A001
    r = _factor(upscale_factor, "pixel_shuffle", "upscale_factor")
    if input.ndim < 3 or input.shape[-3] % (r * r):
        raise ValueError(f"pixel_shuffle: input of shape {input.shape} needs (*, C*{r * r}, H, "
                         f"W) with the channels divisible by upscale_factor**2 = {r * r}")
    *lead, c, h, w = input.shape
    k = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    order = list(range(k)) + [k, k + 3, k + 1, k + 4, k + 2]
    return x.permute(*order).reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W): space to depth, the inverse of ``pixel_shuffle``.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.pixel_unshuffle(cr.arange(4.0).reshape(1, 1, 2, 2), 2).flatten().tolist()
        [0.0, 1.0, 2.0, 3.0]
    """
    input = check.tensor(input, "pixel_unshuffle")  # noqa: A001
    r = _factor(downscale_factor, "pixel_unshuffle", "downscale_factor")
    if input.ndim < 3 or input.shape[-2] % r or input.shape[-1] % r:
        raise ValueError(f"pixel_unshuffle: input of shape {input.shape} needs (*, C, H, W) "
                         f"with H and W divisible by downscale_factor = {r}")
    *lead, c, h, w = input.shape
    k = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    order = list(range(k)) + [k, k + 2, k + 4, k + 1, k + 3]
    return x.permute(*order).reshape(*lead, c * r * r, h // r, w // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:  # noqa: A002
    """Interleave the channels (dim 1) of ``groups`` groups (ShuffleNet).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.channel_shuffle(cr.arange(6.0).reshape(1, 6, 1), 2).flatten().tolist()
        [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    """
    input = check.tensor(input, "channel_shuffle")  # noqa: A001
    g = _factor(groups, "channel_shuffle", "groups")
    if input.ndim < 3 or input.shape[1] % g:
        raise ValueError(f"channel_shuffle: input of shape {input.shape} needs (N, C, *) with "
                         f"C divisible by groups = {g}")
    n, c, *rest = input.shape
    return input.reshape(n, g, c // g, *rest).transpose(1, 2).reshape(n, c, *rest)


native_channel_shuffle = channel_shuffle
