"""How tensors print: ``set_printoptions`` with PyTorch's arguments, read by ``Tensor.__repr__``.

The options are PyTorch's (``precision``, ``threshold``, ``edgeitems``, ``linewidth``,
``profile``, ``sci_mode``); the text itself is NumPy's ``array2string`` layout, which differs
from PyTorch's in details such as trailing zeros.

Example:
    >>> import chainrule as cr
    >>> cr.set_printoptions(precision=2)
    >>> cr.tensor([1.23456])
    tensor([1.23])
    >>> cr.set_printoptions(profile="default")
"""

from __future__ import annotations

import sys

import numpy as np

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": sys.maxsize, "edgeitems": 3, "linewidth": 80},
}
OPTIONS: dict = {**_PROFILES["default"], "sci_mode": None}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print (PyTorch's arguments; ``profile`` first, then the others).

    ``profile``: 'default' (4 digits), 'short' (2 digits, 2 edge items) or 'full' (never
    summarise). ``threshold``: more elements than this print summarised with ``...``.
    ``sci_mode``: True forces scientific notation, False forbids it, None decides.

    Example:
        >>> import chainrule as cr
        >>> cr.set_printoptions(threshold=3, edgeitems=1)
        >>> cr.arange(10)
        tensor([0, ..., 9])
        >>> cr.set_printoptions(profile="default")
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions(): profile must be one of "
                             f"{', '.join(_PROFILES)}, got {profile!r}")
        OPTIONS.update(_PROFILES[profile])
        OPTIONS["sci_mode"] = None
    for name, value in (("precision", precision), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"set_printoptions(): {name} must be a non-negative int, got "
                                 f"{value!r}")
            OPTIONS[name] = value
    if threshold is not None:
        OPTIONS["threshold"] = sys.maxsize if threshold == float("inf") else int(threshold)
    if sci_mode is not None or profile is not None:
        OPTIONS["sci_mode"] = sci_mode


def array_str(array: np.ndarray, prefix: str) -> str:
    """``array`` laid out under the current options, continuation lines indented by ``prefix``."""
    o = OPTIONS
    kwargs = {}
    if o["sci_mode"] is True and array.dtype.kind in "fc":
        p = o["precision"]
        kwargs["formatter"] = {"float_kind": lambda x: f"{x:.{p}e}"}
    elif o["sci_mode"] is False:
        kwargs["suppress_small"] = True
    return np.array2string(array, separator=", ", prefix=prefix, precision=o["precision"],
                           threshold=o["threshold"], edgeitems=o["edgeitems"],
                           max_line_width=o["linewidth"], **kwargs)
