"""Random numbers: one global generator (``manual_seed``) or explicit ``Generator`` objects.

Every generator is a NumPy PCG64 stream. Its whole state (including the seed it started from)
is a small uint8 tensor, as in PyTorch, so ``cr.save`` stores it bit for bit and
``set_state`` puts a generator back exactly where it was.
"""

from __future__ import annotations

import operator
import os

import numpy as np

_U64 = 1 << 64
_DEFAULT_SEED = 67280421310721  # what an unseeded torch.Generator() starts from
_MAGIC = b"crPCG64\x01"  # names the layout below; a version byte closes it
_STATE_BYTES = 56  # magic 8 | state 16 | inc 16 | has_uint32 4 | uinteger 4 | seed 8


def _check_seed(seed, where: str) -> int:
    """PyTorch's rule: any integer in [-2**63, 2**64); negatives wrap to ``seed + 2**64``."""
    if isinstance(seed, bool):
        raise TypeError(f"{where}: seed must be an integer, got bool")
    try:
        value = operator.index(seed)
    except TypeError:
        raise TypeError(f"{where}: seed must be an integer, got "
                        f"{type(seed).__name__}") from None
    if not -(1 << 63) <= value < _U64:
        raise ValueError(f"{where}: seed must lie in [-2**63, 2**64), got {value}")
    return value % _U64


def _new_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


class Generator:
    """An independent random stream, like ``torch.Generator``.

    ``Generator(seed)`` starts from ``seed``; ``Generator()`` from PyTorch's default seed
    (67280421310721), so an unseeded generator gives the same numbers in every run, as in
    PyTorch. ``get_state()`` returns the whole state as a uint8 tensor (``cr.save`` stores it);
    ``set_state(state)`` restores it exactly. Any NumPy ``Generator`` method (``normal``,
    ``permutation``...) can be called on it directly.

    Example:
        >>> import chainrule as cr
        >>> g = cr.Generator().manual_seed(0)
        >>> state = g.get_state()
        >>> a = cr.rand(2, generator=g)
        >>> _ = g.set_state(state)
        >>> bool((cr.rand(2, generator=g) == a).all()), g.initial_seed()
        (True, 0)
    """

    def __init__(self, seed: int | None = None) -> None:
        self._seed = _DEFAULT_SEED if seed is None else _check_seed(seed, "Generator")
        self._rng = _new_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed`` (an integer in [-2**63, 2**64)); returns ``self``."""
        self._seed = _check_seed(seed, "Generator.manual_seed")
        self._rng = _new_rng(self._seed)
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy; returns the new (64-bit) seed."""
        self._seed = int.from_bytes(os.urandom(8), "little")
        self._rng = _new_rng(self._seed)
        return self._seed

    def initial_seed(self) -> int:
        """The seed the stream started from (``manual_seed``, ``seed()`` or the constructor)."""
        return self._seed

    def get_state(self):
        """The whole state as a new 1-d uint8 tensor of 56 bytes (PyTorch returns a ByteTensor).

        Example:
            >>> import chainrule as cr
            >>> s = cr.Generator(3).get_state(); s.dtype == cr.uint8, tuple(s.shape)
            (True, (56,))
        """
        from .tensor import _wrap

        bits = self._rng.bit_generator.state
        raw = (_MAGIC + bits["state"]["state"].to_bytes(16, "little")
               + bits["state"]["inc"].to_bytes(16, "little")
               + int(bits["has_uint32"]).to_bytes(4, "little")
               + int(bits["uinteger"]).to_bytes(4, "little")
               + self._seed.to_bytes(8, "little"))
        return _wrap(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state) -> Generator:
        """Restore a state from ``get_state()``; returns ``self``.

        Also accepts NumPy's ``bit_generator.state`` dict of a PCG64 stream (what
        ``get_state()`` returned before it matched PyTorch); the initial seed is then kept.
        The state is checked whole before anything changes.
        """
        bits, seed = _parse_state(new_state, "Generator.set_state")
        self._rng.bit_generator.state = bits
        if seed is not None:
            self._seed = seed
        return self

    # NumPy's Generator interface, so it can be handed to anything that draws numbers.
    def __getattr__(self, name):
        if name.startswith("__") or name in ("_rng", "_seed"):
            raise AttributeError(name)  # copy/pickle probe before __init__ ran
        return getattr(self._rng, name)

    def __repr__(self) -> str:
        return f"Generator(initial_seed={self._seed})"


def _parse_state(state, where: str) -> tuple[dict, int | None]:
    """NumPy's PCG64 state dict and the initial seed (None if unknown) from a saved state."""
    if isinstance(state, dict):
        return _bits_from_dict(state, where), None
    arr = getattr(state, "_data", state)
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{where}: expected the uint8 tensor that get_state() returns, got "
                        f"{type(state).__name__}")
    if arr.dtype != np.uint8 or arr.shape != (_STATE_BYTES,):
        raise ValueError(f"{where}: expected a 1-d uint8 tensor of {_STATE_BYTES} bytes (what "
                         f"get_state() returns), got dtype {arr.dtype} and shape "
                         f"{tuple(arr.shape)}")
    raw = arr.tobytes()
    if raw[:8] != _MAGIC:
        raise ValueError(f"{where}: this is not a chainrule generator state (its first bytes "
                         f"are not the state's header)")
    inc = int.from_bytes(raw[24:40], "little")
    has_uint32 = int.from_bytes(raw[40:44], "little")
    if inc % 2 == 0 or has_uint32 not in (0, 1):
        raise ValueError(f"{where}: the state is corrupt (PCG64 needs an odd increment and a "
                         f"0/1 flag)")
    bits = {"bit_generator": "PCG64",
            "state": {"state": int.from_bytes(raw[8:24], "little"), "inc": inc},
            "has_uint32": has_uint32, "uinteger": int.from_bytes(raw[44:48], "little")}
    return bits, int.from_bytes(raw[48:56], "little")


def _as_int(value, what: str, where: str, bits: int) -> int:
    # Older checkpoints kept the 128-bit numbers as decimal strings.
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < (1 << bits):
        raise ValueError(f"{where}: the state's {what} must be an integer in [0, 2**{bits}), "
                         f"got {value!r}")
    return value


def _bits_from_dict(state: dict, where: str) -> dict:
    if state.get("bit_generator") != "PCG64" or not isinstance(state.get("state"), dict):
        raise ValueError(f"{where}: a state dict must be NumPy's PCG64 bit_generator.state "
                         f"(keys 'bit_generator', 'state', 'has_uint32', 'uinteger')")
    inner = state["state"]
    inc = _as_int(inner.get("inc"), "'inc'", where, 128)
    if inc % 2 == 0:
        raise ValueError(f"{where}: the state is corrupt (PCG64 needs an odd increment)")
    has_uint32 = _as_int(state.get("has_uint32"), "'has_uint32'", where, 1)
    return {"bit_generator": "PCG64",
            "state": {"state": _as_int(inner.get("state"), "'state'", where, 128), "inc": inc},
            "has_uint32": has_uint32,
            "uinteger": _as_int(state.get("uinteger"), "'uinteger'", where, 32)}


default_generator = Generator(0)
"""The global generator: weights init, dropout, shuffling and ``rand``/``randn`` without a
``generator=`` draw from it. It starts from seed 0 in every process."""

_default = default_generator


def manual_seed(seed: int) -> Generator:
    """Seed the global generator (weights init, dropout, shuffling, rand/randn); returns it.

    Example:
        >>> import chainrule as cr
        >>> _ = cr.manual_seed(0); a = cr.randn(3)
        >>> _ = cr.manual_seed(0); b = cr.randn(3)
        >>> bool((a == b).all())
        True
    """
    _check_seed(seed, "manual_seed")
    return _default.manual_seed(seed)


def seed() -> int:
    """Seed the global generator from the operating system's entropy; returns the seed.

    Example:
        >>> import chainrule as cr
        >>> s = cr.seed(); s == cr.initial_seed()
        True
    """
    return _default.seed()


def initial_seed() -> int:
    """The seed the global generator started from.

    Example:
        >>> import chainrule as cr
        >>> _ = cr.manual_seed(7); cr.initial_seed()
        7
    """
    return _default.initial_seed()


def get_rng_state():
    """The global generator's state, a uint8 tensor (``torch.get_rng_state``'s counterpart).

    Example:
        >>> import chainrule as cr
        >>> state = cr.get_rng_state(); a = cr.rand(1)
        >>> cr.set_rng_state(state); bool(cr.rand(1) == a)
        True
    """
    return _default.get_state()


def set_rng_state(new_state) -> None:
    """Restore the global generator from ``get_rng_state()`` (checked before it changes)."""
    _default.set_state(new_state)


def _gen(generator=None) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (or the global one)."""
    if generator is None:
        return _default._rng
    if isinstance(generator, Generator):
        return generator._rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator must be a chainrule.Generator, got {type(generator).__name__}")


# ---- the generators an object holds, for checkpoints --------------------------------------
def _is_generator(value) -> bool:
    return isinstance(value, (Generator, np.random.Generator))


def _generator_state(gen):
    """A saveable copy of ``gen``'s state: the uint8 tensor of a chainrule ``Generator``, or a
    NumPy ``Generator``'s ``bit_generator.state`` dict."""
    if isinstance(gen, Generator):
        return gen.get_state()
    return gen.bit_generator.state


def _state_restorer(gen, state, where: str):
    """Check ``state`` for ``gen`` now; return a function that applies it (cannot fail)."""
    if isinstance(gen, Generator):
        bits, seed = _parse_state(state, where)

        def apply() -> None:
            gen._rng.bit_generator.state = bits
            if seed is not None:
                gen._seed = seed

        return apply
    # A raw NumPy generator: any bit generator; NumPy checks the dict's shape itself, on a copy.
    state = _plain(state)
    probe = type(gen.bit_generator)()
    try:
        probe.state = state
    except (TypeError, ValueError, KeyError) as e:
        raise ValueError(f"{where}: not a state of a NumPy {type(gen.bit_generator).__name__} "
                         f"generator: {e}") from None

    def apply_numpy() -> None:
        gen.bit_generator.state = state

    return apply_numpy


def _plain(tree):
    """Tensors (as ``cr.load`` returns them) back to the NumPy arrays NumPy's states hold."""
    if isinstance(tree, dict):
        return {k: _plain(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_plain(v) for v in tree)
    return getattr(tree, "_data", tree)


def _held_generators(obj) -> dict[str, Generator | np.random.Generator]:
    """The generators ``obj`` holds as attributes (not the global one, saved on its own)."""
    try:
        items = vars(obj).items()
    except TypeError:  # no __dict__: a list, a range, a slotted object
        return {}
    return {name: v for name, v in sorted(items) if _is_generator(v) and v is not _default}


def _held_generator_states(obj) -> dict:
    return {name: _generator_state(g) for name, g in _held_generators(obj).items()}


def _held_generator_restorers(obj, states, where: str) -> list:
    """Check saved ``states`` against the generators ``obj`` holds, name for name."""
    return _named_restorers(_held_generators(obj), states, where, type(obj).__name__)


def _named_restorers(held: dict, states, where: str, owner: str) -> list:
    """Check saved ``states`` against the generators ``held`` (by name), name for name."""
    if states is None:
        states = {}
    if not isinstance(states, dict):
        raise ValueError(f"{where}: the saved generator states must be a dict, got "
                         f"{type(states).__name__}")
    if set(held) != set(states):
        raise ValueError(f"{where}: the saved state has generators {sorted(states)} but "
                         f"{owner} holds {sorted(held)}; an exact resume needs the same "
                         f"generators (an explicit generator= on both sides, or on neither)")
    return [_state_restorer(g, states[name], f"{where}: generator {name!r}")
            for name, g in held.items()]
