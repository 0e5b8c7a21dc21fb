"""The ``chainrule`` command line: ``chainrule <command> [options]``.

Each command is one ``add_parser(subparsers)`` function that adds its sub-parser and sets
``func`` (called with the parsed arguments, returning an exit status). Commands live next to
the code they drive and are imported only when the command line is built, so ``chainrule
train`` never pays for the others. To add one, append its module to ``COMMANDS``; a module
listed in ``OPTIONAL_COMMANDS`` joins when it exists and provides ``add_parser``.

Every command runs with ``chainrule.tune_allocator()`` applied (glibc's malloc keeps freed large
arrays for reuse); ``CHAINRULE_NO_MALLOPT=1`` in the environment keeps glibc's defaults.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence

# command name -> module providing add_parser(subparsers)
COMMANDS: dict[str, str] = {"train": "chainrule.train.command",
                            "export": "chainrule.onnx.command",
                            "predict": "chainrule.train.predict_command",
                            "launch": "chainrule.distributed.launch"}
OPTIONAL_COMMANDS: dict[str, str] = {"explain": "chainrule.explain.command",
                                     "diagnose": "chainrule.diagnose.command"}


def positive(kind):
    """An argparse ``type`` that parses with ``kind`` and accepts only values above zero.

    Example:
        >>> positive(int)("3")
        3
    """

    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse


def _optional_module(name: str):
    """The module ``name`` if it (and its package) exists, else None."""
    if name in sys.modules:
        return sys.modules[name]
    try:
        if importlib.util.find_spec(name) is None:
            return None
    except ModuleNotFoundError:
        return None
    return importlib.import_module(name)


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every available command registered.

    Example:
        >>> build_parser().parse_args(["train", "--dataset", "digits"]).dataset
        'digits'
    """
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="chainrule: train, explain, diagnose, export and serve neural networks.")
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        importlib.import_module(module).add_parser(sub)
    for command, module in OPTIONAL_COMMANDS.items():
        if command in sub.choices:
            continue
        mod = _optional_module(module)
        if mod is None:
            # A package may expose add_parser itself (chainrule.explain.add_parser).
            mod = _optional_module(module.rsplit(".", 1)[0])
        if mod is not None and hasattr(mod, "add_parser"):
            mod.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it).

    Example:
        >>> main(["train", "--dataset", "digits", "--epochs", "1", "--quiet"])  # doctest: +SKIP
        0
    """
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv  # a command that starts an MPI job runs itself again with these
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    # The command line is its own process and runs its own loop: the process-wide malloc
    # options are ours to set (see chainrule._alloc).
    from ._alloc import tune_allocator

    tune_allocator()
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
