"""The errors ``cr.load`` raises for files it refuses to rebuild.

``CheckpointError`` is the one type every refusal shares: a malformed, truncated, tampered or
hostile file, whatever its format (safetensors, PyTorch's zip or legacy stream) and whichever
function read it (``cr.load``, ``cr.io.load_metadata``, ``cr.train.load_checkpoint``,
``cr.train.resume``, ``fit(resume=...)``). It is a ``ValueError``, and its message names the
file and the problem. Files that cannot be opened at all (missing, no permission) raise
``OSError`` as ``open`` does.
"""

from __future__ import annotations


class CheckpointError(ValueError):
    """A checkpoint file is malformed, corrupt, tampered with or hostile, and was refused.

    Raised before anything is restored from it. The message starts with the file's path.

    Example:
        >>> import chainrule as cr, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "junk.safetensors")
        >>> with open(path, "wb") as f:
        ...     _ = f.write(b"not a checkpoint")
        >>> try:
        ...     cr.load(path)
        ... except cr.CheckpointError as e:
        ...     print("refused")
        refused
    """


class UnpicklingError(CheckpointError):
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
