"""Run a program written for PyTorch on chainrule, changing nothing but names.

``import torch`` and every ``import torch.x.y`` / ``from torch.x import y`` resolve to
chainrule's module of the same path (``chainrule``, ``chainrule.nn``,
``chainrule.utils.data``...). Nothing is translated: a name chainrule lacks fails as it would
for a user who wrote ``import chainrule as torch``.

Usage: ``python tests/compat/torch_alias.py {torch|chainrule} program.py [args...]``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import runpy
import sys


class TorchIsChainrule(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """A meta-path finder that answers every ``torch...`` import with ``chainrule...``."""

    def find_spec(self, fullname, path, target=None):
        if fullname == "torch" or fullname.startswith("torch."):
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module("chainrule" + spec.name[len("torch"):])

    def exec_module(self, module):
        pass  # the chainrule module is already imported and initialised


def main(argv: list[str]) -> None:
    lib, program, *args = argv
    if lib == "chainrule":
        sys.meta_path.insert(0, TorchIsChainrule())
    elif lib != "torch":
        raise SystemExit(f"unknown library {lib!r}: torch or chainrule")
    sys.argv = [program, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(program)))  # as `python program.py` does
    runpy.run_path(program, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
