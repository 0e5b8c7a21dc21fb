"""Dropout layers: random zeroing in training mode, the identity in eval mode."""

from __future__ import annotations

from ... import _validate as check
from ...tensor import Tensor
from .. import functional as F
from .module import Module


class _DropoutNd(Module):
    """What the dropout layers share (PyTorch's ``_DropoutNd``): ``p`` and ``inplace``."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        p = check.number(p, type(self).__name__, "p", low=0.0, high=1.0)
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` while training, scaling the rest by 1/(1-p).

    Draws from the global generator (``cr.manual_seed``); does nothing after ``eval()``.

    Example:
        >>> import chainrule as cr
        >>> drop = cr.nn.Dropout(0.5).eval()
        >>> drop(cr.ones(3)).tolist()
        [1.0, 1.0, 1.0]
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.dropout(input, self.p, self.training)


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) inputs with probability ``p`` while training.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Dropout1d(0.5).eval()(cr.ones(2, 3, 4)).shape
        (2, 3, 4)
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.dropout1d(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Zero whole feature maps of (N, C, H, W) inputs with probability ``p`` while training.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Dropout2d(0.5).eval()(cr.ones(2, 3, 4, 4)).shape
        (2, 3, 4, 4)
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.dropout2d(input, self.p, self.training)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) inputs with probability ``p`` while training.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Dropout3d(0.5).eval()(cr.ones(1, 2, 2, 2, 2)).shape
        (1, 2, 2, 2, 2)
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.dropout3d(input, self.p, self.training)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps SELU's self-normalisation (zero mean, unit variance) while training.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.AlphaDropout(0.2).eval()(cr.ones(3)).tolist()
        [1.0, 1.0, 1.0]
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels while training.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.FeatureAlphaDropout(0.2).eval()(cr.ones(1, 2, 3)).shape
        (1, 2, 3)
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.feature_alpha_dropout(input, self.p, self.training)
