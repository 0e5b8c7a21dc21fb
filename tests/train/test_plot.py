"""Curves: a PNG with matplotlib, a clear message naming the extra without it."""

import json
import sys

import pytest

from chainrule import cli
from chainrule.train.plot import plot_history

LOGS = {"loss": [1.0, 0.5], "accuracy": [0.5, 0.8], "val_loss": [1.1, 0.7],
        "val_accuracy": [0.4, 0.7]}


def test_plot_history_writes_a_png(tmp_path):
    path = plot_history(LOGS, tmp_path / "c.png")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="loss"):
        plot_history({"accuracy": [0.5]}, tmp_path / "d.png")


def test_missing_matplotlib_names_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    with pytest.raises(ImportError, match=r"pip install chainrule\[plot\]"):
        plot_history(LOGS, tmp_path / "c.png")
    # The command still trains and saves the checkpoint; it just skips the figure.
    assert cli.main(["train", "--dataset", "digits", "--epochs", "1", "--model", "linear",
                     "--quiet", "--json", "--out", str(tmp_path / "run")]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out.strip().splitlines()[-1])["curves"] is None
    assert "chainrule[plot]" in captured.err
    assert not (tmp_path / "run" / "curves.png").exists()
