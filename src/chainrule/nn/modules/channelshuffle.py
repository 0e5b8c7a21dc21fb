"""``ChannelShuffle``: interleave groups of channels (ShuffleNet)."""

from __future__ import annotations

from ... import _validate as check
from ...tensor import Tensor
from .. import functional as F
from .module import Module


class ChannelShuffle(Module):
    """Split the C channels into ``groups`` groups and interleave them.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.ChannelShuffle(2)(cr.arange(4.0).reshape(1, 4, 1, 1)).flatten().tolist()
        [0.0, 2.0, 1.0, 3.0]
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
