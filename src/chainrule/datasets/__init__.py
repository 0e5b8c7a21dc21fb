"""Datasets: MNIST (downloaded once, then cached), the bundled 8x8 digits, and toy problems.

Example:
    >>> import chainrule as cr
    >>> X, y = cr.datasets.two_moons(100, noise=0.1, seed=0)
    >>> X.shape, y.shape
    ((100, 2), (100,))
"""

from ._cache import data_root
from ._digits import digits
from ._mnist import mnist
from .idx import parse_idx, read_idx
from .toy import sine_regression, spirals, two_moons, xor

__all__ = ["data_root", "digits", "mnist", "parse_idx", "read_idx", "sine_regression",
           "spirals", "two_moons", "xor"]
