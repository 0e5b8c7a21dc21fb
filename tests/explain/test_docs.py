"""The guide is generated, not hand-edited; the examples in the docs run."""

import re
from pathlib import Path

import pytest

from chainrule.explain.guide import build

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("lang,name", [("en", "backprop-step-by-step.md"),
                                       ("zh", "backprop-step-by-step.zh.md")])
def test_committed_guide_equals_what_the_script_generates(lang, name):
    committed = (DOCS / name).read_text(encoding="utf-8")
    assert committed == build(lang), (
        f"docs/{name} is out of date: run python scripts/make_explain_docs.py")


@pytest.mark.parametrize("lang,name", [("en", "backprop-step-by-step.md"),
                                       ("zh", "backprop-step-by-step.zh.md")])
def test_guide_shows_the_hand_computed_numbers(lang, name):
    text = (DOCS / name).read_text(encoding="utf-8")
    for v in ["0.6682", "0.3005", "0.0199", "-0.1995", "-0.1333", "-0.0599", "0.2217",
              "-0.0133", "0.5013", "0.2013", "0.3133", "0.1200"]:
        assert v in text


@pytest.mark.parametrize("name", ["explain.md", "viz.md"])
def test_the_python_examples_in_the_docs_run(name, tmp_path, monkeypatch, capsys):
    text = (DOCS / name).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        exec(compile(code, name, "exec"), {"__name__": "__doc_example__"})
