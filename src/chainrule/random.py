"""Random numbers: one global generator (``manual_seed``) or explicit ``Generator`` objects."""

from __future__ import annotations

import numpy as np


class Generator:
    """An independent random stream, like ``torch.Generator``.

    Example:
        >>> import chainrule as cr
        >>> g = cr.Generator().manual_seed(0)
        >>> cr.rand(2, generator=g).shape
        (2,)
    """

    def __init__(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)

    def manual_seed(self, seed: int) -> Generator:
        self._rng = np.random.default_rng(int(seed))
        return self

    def get_state(self) -> dict:
        return self._rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self._rng.bit_generator.state = state

    # NumPy's Generator interface, so it can be handed to anything that draws numbers.
    def __getattr__(self, name):
        return getattr(self._rng, name)


_default = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the global generator (weights init, dropout, shuffling, rand/randn).

    Example:
        >>> import chainrule as cr
        >>> _ = cr.manual_seed(0); a = cr.randn(3)
        >>> _ = cr.manual_seed(0); b = cr.randn(3)
        >>> bool((a == b).all())
        True
    """
    _default.manual_seed(seed)
    return _default


def default_generator() -> Generator:
    return _default


def get_rng_state() -> dict:
    return _default.get_state()


def set_rng_state(state: dict) -> None:
    _default.set_state(state)


def _gen(generator=None) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (or the global one)."""
    if generator is None:
        return _default._rng
    if isinstance(generator, Generator):
        return generator._rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator must be a chainrule.Generator, got {type(generator).__name__}")
