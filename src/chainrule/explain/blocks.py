"""The few shapes a document is made of; each renderer (text, Markdown, LaTeX, HTML) draws them.

Text inside a block may mark code with backticks: `like this`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Para:
    text: str


@dataclass
class Items:
    items: list[str]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass
class Formula:
    """A display formula: plain text for terminals, LaTeX (when known) for documents."""

    plain: str
    latex: str = ""
    label: str = ""


@dataclass
class Code:
    text: str
    lang: str = ""
