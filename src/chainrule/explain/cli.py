"""``chainrule explain``: the worked 1-1-1 example, every value and partial derivative printed.

Example (shell):
    chainrule explain --lang zh --format markdown
"""

from __future__ import annotations

import argparse

FORMATS = ("text", "markdown", "latex", "html")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``explain`` subcommand on an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "explain", help="walk through backpropagation on the worked 1-1-1 network",
        description="Run the 1-1-1 network of the backprop tutorials through the engine and "
                    "print the forward values, every partial derivative and the updated "
                    "parameters.")
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="language (default en)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format")
    p.set_defaults(func=run)
    return p


def render(lang: str = "en", format: str = "text") -> str:  # noqa: A002  (the option's name)
    """The worked example as a string in ``format``."""
    from . import render as r
    from .worked import blocks

    b = blocks(lang)
    if format == "text":
        return r.to_text(b)
    if format == "markdown":
        return r.to_markdown(b)
    if format == "latex":
        return r.to_latex(b, standalone=True, lang=lang)
    if format == "html":
        return r.to_html(b, lang=lang, title="chainrule explain")
    raise ValueError(f"format must be one of {FORMATS}, got {format!r}")


def run(args) -> int:
    print(render(args.lang, args.format), end="")
    return 0


def main(argv=None) -> int:
    """Run the subcommand on its own (``python -m chainrule.explain.cli``)."""
    parser = argparse.ArgumentParser(prog="chainrule")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
