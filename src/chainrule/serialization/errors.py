"""The errors ``cr.load`` raises for files it refuses to rebuild."""

from __future__ import annotations


class UnpicklingError(ValueError):
    """A PyTorch checkpoint is malformed, or asks for something chainrule will not rebuild.

    chainrule reads PyTorch's pickle-based files with its own restricted interpreter and never
    executes pickle; anything outside its allow-list stops the load with this error.
    """


class UnsafeGlobalError(UnpicklingError):
    """A file names a class or function (a *global*) that is not allow-listed.

    ``name`` is the global's dotted name as the file spells it, e.g. ``"os.system"``.
    """

    def __init__(self, message: str, name: str) -> None:
        super().__init__(message)
        self.name = name
