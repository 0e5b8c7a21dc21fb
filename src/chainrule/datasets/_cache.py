"""Where downloaded datasets live: ``$CHAINRULE_DATA``, else ``~/.cache/chainrule``."""

from __future__ import annotations

import os
from pathlib import Path


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The dataset cache directory: ``root`` if given, else ``$CHAINRULE_DATA``, else
    ``$XDG_CACHE_HOME/chainrule`` (``~/.cache/chainrule`` by default).

    Example:
        >>> str(data_root("/data/cr"))
        '/data/cr'
    """
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("CHAINRULE_DATA")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "chainrule"
