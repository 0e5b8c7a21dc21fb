"""Draw a list of blocks as terminal text, Markdown, LaTeX or self-contained HTML.

Example:
    >>> from chainrule.explain.blocks import Heading, Para
    >>> print(to_markdown([Heading(2, "Forward pass"), Para("`y = w * x`")]))
    ## Forward pass
    <BLANKLINE>
    `y = w * x`
    <BLANKLINE>
"""

from __future__ import annotations

import html
import re
import textwrap
import unicodedata

from .blocks import Code, Formula, Heading, Items, Para, Table
from .document import latex_escape

_CODE = re.compile(r"`([^`]*)`")
TEXT_WIDTH = 100


def _width(s: str) -> int:
    """Columns a string takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _plain(s: str) -> str:
    return _CODE.sub(r"\1", s)


def to_text(blocks) -> str:
    out = []
    for b in blocks:
        if isinstance(b, Heading):
            text = _plain(b.text)
            out += ["", text, ("=" if b.level <= 2 else "-") * _width(text)]
        elif isinstance(b, Para):
            text = _plain(b.text)
            # CJK text has no spaces to break at (and wide characters): it stays one line
            wide = _width(text) != len(text)
            out.append(text if wide else textwrap.fill(text, TEXT_WIDTH, break_long_words=False))
        elif isinstance(b, Items):
            out += ["  " + _plain(i) for i in b.items]
        elif isinstance(b, Formula):
            out.append(f"  {b.label}{b.plain}")
        elif isinstance(b, Code):
            out += ["    " + line for line in b.text.splitlines()]
        elif isinstance(b, Table):
            rows = [[_plain(c) for c in r] for r in [b.header, *b.rows]]
            widths = [max(_width(r[i]) for r in rows) for i in range(len(b.header))]
            for j, r in enumerate(rows):
                cells = [c + " " * (w - _width(c)) for c, w in zip(r, widths)]
                out.append("  " + "  ".join(cells).rstrip())
                if j == 0:
                    out.append("  " + "  ".join("-" * w for w in widths))
    return "\n".join(out).lstrip("\n") + "\n"


def to_markdown(blocks) -> str:
    out = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append("#" * b.level + " " + b.text)
        elif isinstance(b, Para):
            out.append(b.text)
        elif isinstance(b, Items):
            out.append("\n".join("- " + i for i in b.items))
        elif isinstance(b, Formula):
            math = f"\n\n$$\n{b.latex}\n$$" if b.latex else ""
            out.append(f"{b.label}`{b.plain}`{math}")
        elif isinstance(b, Code):
            out.append(f"```{b.lang}\n{b.text.rstrip()}\n```")
        elif isinstance(b, Table):
            lines = ["| " + " | ".join(b.header) + " |", "|" + "---|" * len(b.header)]
            lines += ["| " + " | ".join(c.replace("|", r"\|") for c in r) + " |" for r in b.rows]
            out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


_LATEX_SYMBOLS = {"δ": r"$\delta$", "×": r"$\times$", "∂": r"$\partial$", "√": r"$\surd$",
                  "β": r"$\beta$", "ε": r"$\varepsilon$", "²": r"$^2$", "m̂": r"$\hat m$",
                  "v̂": r"$\hat v$"}


def _latex_text(s: str) -> str:
    parts = []
    for i, piece in enumerate(_CODE.split(s)):
        esc = latex_escape(piece)
        for k, v in _LATEX_SYMBOLS.items():
            esc = esc.replace(k, v)
        parts.append(r"\texttt{" + esc + "}" if i % 2 else esc)
    return "".join(parts)


def to_latex(blocks, standalone: bool = False, lang: str = "en") -> str:
    """A LaTeX fragment (``standalone=True``: a whole document; Chinese needs ctex/xelatex)."""
    out = []
    for b in blocks:
        if isinstance(b, Heading):
            cmd = {1: "section*", 2: "subsection*"}.get(b.level, "subsubsection*")
            out.append(f"\\{cmd}{{{_latex_text(b.text)}}}")
        elif isinstance(b, Para):
            out.append(_latex_text(b.text))
        elif isinstance(b, Items):
            body = "\n".join(r"  \item " + _latex_text(i) for i in b.items)
            out.append("\\begin{itemize}\n" + body + "\n\\end{itemize}")
        elif isinstance(b, Formula):
            out.append(f"\\[ {b.latex} \\]" if b.latex else r"\[ \text{\texttt{"
                       + latex_escape(b.plain) + "}} \\]")
        elif isinstance(b, Code):
            out.append("\\begin{verbatim}\n" + b.text.rstrip() + "\n\\end{verbatim}")
        elif isinstance(b, Table):
            cols = "l" * len(b.header)
            rows = [" & ".join(_latex_text(c) for c in r) + r" \\" for r in [b.header, *b.rows]]
            out.append(f"\\begin{{tabular}}{{{cols}}}\n" + rows[0] + "\n\\hline\n"
                       + "\n".join(rows[1:]) + "\n\\end{tabular}")
    body = "\n\n".join(out) + "\n"
    if not standalone:
        return body
    pre = "\\documentclass{ctexart}\n" if lang == "zh" else "\\documentclass{article}\n"
    return pre + "\\usepackage{amsmath}\n\\begin{document}\n\n" + body + "\\end{document}\n"


_CSS = ("body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;line-height:1.5}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;"
        "text-align:left}code,.f{font-family:ui-monospace,monospace}"
        ".f{background:#f4f4f4;padding:.3em .6em;display:inline-block}")


def _html_text(s: str) -> str:
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p)
                   for i, p in enumerate(_CODE.split(s)))


def to_html(blocks, lang: str = "en", title: str = "chainrule explain") -> str:
    """One self-contained page: inline CSS, no scripts, no external files."""
    out = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level}>{_html_text(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            out.append(f"<p>{_html_text(b.text)}</p>")
        elif isinstance(b, Items):
            out.append("<ul>" + "".join(f"<li>{_html_text(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Formula):
            out.append(f'<p class="f">{html.escape(b.label + b.plain)}</p>')
        elif isinstance(b, Code):
            out.append(f"<pre><code>{html.escape(b.text)}</code></pre>")
        elif isinstance(b, Table):
            head = "".join(f"<th>{_html_text(c)}</th>" for c in b.header)
            rows = "".join("<tr>" + "".join(f"<td>{_html_text(c)}</td>" for c in r) + "</tr>"
                           for r in b.rows)
            out.append(f"<table><tr>{head}</tr>{rows}</table>")
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(out) + "\n</body></html>\n")
