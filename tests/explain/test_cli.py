"""`chainrule explain`: golden outputs pin the text; the hand-known numbers must be in them.

After an intended change of the output, refresh the files with
``CHAINRULE_UPDATE_GOLDEN=1 pytest tests/explain/test_cli.py`` and review the diff.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule.explain import cli

GOLDEN = Path(__file__).parent / "golden"
CASES = [("en", "text", "explain_en.txt"), ("zh", "text", "explain_zh.txt"),
         ("en", "markdown", "explain_en.md"), ("zh", "markdown", "explain_zh.md")]
# The worked example by hand: forward values, partial derivatives, updated parameters.
HAND = ["h = sigmoid(z1)", "0.6682", "0.3005", "0.0199", "-0.1995", "-0.1333", "-0.0599",
        "0.2217", "-0.0133", "0.5013", "0.2013", "0.3133", "0.1200"]


def run_cli(argv, capsys):
    assert cli.main(["explain", *argv]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("lang,format,name", CASES)
def test_golden_output(lang, format, name, capsys):
    out = run_cli(["--lang", lang, "--format", format], capsys)
    path = GOLDEN / name
    if os.environ.get("CHAINRULE_UPDATE_GOLDEN"):
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("lang,format,name", CASES)
def test_golden_files_hold_the_hand_computed_numbers(lang, format, name):
    text = (GOLDEN / name).read_text(encoding="utf-8")
    for value in HAND:
        assert value in text, value
    assert ("误差项" in text) == (lang == "zh")


def test_every_partial_derivative_is_printed(capsys):
    out = run_cli([], capsys)
    for line in ["sends dL/dy = δ × de/dy = -0.1995 × 1.0000 = -0.1995",
                 "sends dL/dw2 = δ × du2/dw2 = -0.1995 × 0.6682 = -0.1333",
                 "sends dL/dh = δ × du2/dh = -0.1995 × 0.3000 = -0.0599",
                 "local derivative dh/dz1 = 0.2217",
                 "sends dL/dw1 = δ × du1/dw1 = -0.0133 × 1.0000 = -0.0133",
                 "w1_new = w1_old - lr × grad = 0.5000 - 0.1000 × (-0.0133) = 0.5013"]:
        assert line in out


def test_latex_and_html_formats(capsys):
    tex = run_cli(["--format", "latex"], capsys)
    assert tex.startswith(r"\documentclass{article}") and tex.rstrip().endswith(r"\end{document}")
    assert r"\frac{d\sigma(z)}{dz}" in tex and "0.5013" in tex
    page = run_cli(["--format", "html", "--lang", "zh"], capsys)
    assert page.startswith("<!DOCTYPE html>") and "误差项" in page and "0.3133" in page


def test_the_chainrule_command_has_the_explain_subcommand():
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    res = subprocess.run([sys.executable, "-m", "chainrule.cli", "explain", "--lang", "zh"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout == (GOLDEN / "explain_zh.txt").read_text(encoding="utf-8")
