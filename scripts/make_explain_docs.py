"""Regenerate the "Backprop, step by step" guide from real cr.explain output.

Usage: python scripts/make_explain_docs.py   (writes docs/backprop-step-by-step.md and .zh.md)

tests/explain/test_docs.py fails while the committed guide differs from what this writes.
"""

from __future__ import annotations

from pathlib import Path

from chainrule.explain.guide import build

DOCS = Path(__file__).resolve().parent.parent / "docs"
TARGETS = {"en": "backprop-step-by-step.md", "zh": "backprop-step-by-step.zh.md"}


def main() -> None:
    for lang, name in TARGETS.items():
        path = DOCS / name
        path.write_text(build(lang), encoding="utf-8")
        print(f"wrote {path.relative_to(DOCS.parent)}")


if __name__ == "__main__":
    main()
