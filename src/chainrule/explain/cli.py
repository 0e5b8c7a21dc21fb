"""``chainrule explain``: the worked 1-1-1 example, every value and partial derivative printed;
``--memory``: what an MLP's graph keeps for backward, without and with checkpointing.

Example (shell):
    chainrule explain --lang zh --format markdown
    chainrule explain --memory --lang zh
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
    p.add_argument("--memory", action="store_true",
                   help="instead: the memory an MLP's graph keeps for backward (text), "
                        "without and with checkpoint_sequential")
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


def render_memory(lang: str = "en", batch: int = 128, segments: int = 2) -> str:
    """``cr.explain_memory`` of a 784-256-256-256-10 ReLU MLP with its cross-entropy loss, then
    of the same model under ``checkpoint_sequential``, and how the two compare."""
    import chainrule as cr
    from chainrule.messages import say
    from chainrule.utils.checkpoint import checkpoint_sequential

    from .memory import explain_memory, size

    nn = cr.nn
    cr.manual_seed(0)
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                        nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    x, y = cr.randn(batch, 784), cr.randint(0, 10, (batch,))
    loss = nn.CrossEntropyLoss()
    plain = explain_memory(lambda: loss(net(x), y), model=net, lang=lang)
    ckpt = explain_memory(lambda: loss(checkpoint_sequential(net, segments, x), y), model=net,
                          lang=lang)
    ratio = ckpt.activation_bytes / plain.activation_bytes
    return "\n".join([
        say(lang, "mem.cli_plain"), "", plain.to_text(limit=0),
        say(lang, "mem.cli_ckpt", segments=segments), "", ckpt.to_text(limit=0),
        say(lang, "mem.cli_compare", ckpt=size(ckpt.activation_bytes),
            plain=size(plain.activation_bytes), ratio=ratio), ""])


def run(args) -> int:
    if getattr(args, "memory", False):
        print(render_memory(args.lang), end="")
        return 0
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
