"""Measure chainrule's API against PyTorch 2.13 and write docs/pytorch-coverage.md.

Every public name of the compared PyTorch namespaces (``torch``, ``torch.Tensor``,
``torch.nn``, ``torch.nn.functional``, ``torch.optim``, ``torch.utils.data``,
``torch.autograd``...) is classified as parity-tested, implemented, refused on purpose, or
missing. The rules live beside the code that applies them, in ``scripts/api_coverage/``:
``names.py`` (which names are listed), ``parity.py`` (what the suite compares with PyTorch),
``examples.py`` (what public programs use) and ``report.py`` (the classes and the page).

Usage::

    python scripts/pytorch_coverage.py           # rewrite docs/pytorch-coverage.md
    python scripts/pytorch_coverage.py --check   # exit 1 if the page is out of date
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # this checkout's chainrule, whatever is installed

from api_coverage.report import Coverage, check_torch, render  # noqa: E402

PAGE = ROOT / "docs" / "pytorch-coverage.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed page instead of writing it")
    args = parser.parse_args(argv)
    check_torch()
    text = render(Coverage(ROOT / "tests"))
    if not args.check:
        PAGE.write_text(text, encoding="utf-8")
        print(f"wrote {PAGE.relative_to(ROOT)}")
        return 0
    current = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
    if current == text:
        return 0
    diff = difflib.unified_diff(current.splitlines(), text.splitlines(),
                                "docs/pytorch-coverage.md (committed)", "(generated now)",
                                lineterm="", n=0)
    print("docs/pytorch-coverage.md is out of date: run `python scripts/pytorch_coverage.py` "
          "and commit the page. Differences:")
    print("\n".join(list(diff)[:60]))
    return 1


if __name__ == "__main__":
    sys.exit(main())
