"""Progress output: one plain line per epoch off a terminal, a \\r-refreshed bar on one."""

import io

import pytest
from toy_problems import blobs, mlp

from chainrule.train import fit
from chainrule.train.progress import EpochLine, ProgressBar, make_progress


def test_non_tty_prints_exactly_one_line_per_epoch(capsys):
    X, y = blobs(64)
    Xv, yv = blobs(16, seed=1)
    fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=3, batch_size=8,
        val=(Xv, yv), verbose=1)
    out = capsys.readouterr().out
    assert "\r" not in out
    lines = out.splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines, 1):
        assert line.startswith(f"Epoch {i}/3 - ")
        for key in ("loss: ", "accuracy: ", "val_loss: ", "val_accuracy: ", "lr: "):
            assert key in line


def test_verbose_0_is_silent_and_2_is_lines(capsys):
    X, y = blobs(16)
    fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert "\r" not in out and len(out.splitlines()) == 2


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_make_progress_picks_the_bar_only_on_a_terminal():
    assert isinstance(make_progress(1, 2, 10, FakeTerminal()), ProgressBar)
    assert type(make_progress(1, 2, 10, io.StringIO())) is EpochLine
    assert type(make_progress(2, 2, 10, FakeTerminal())) is EpochLine
    assert make_progress(0, 2, 10, FakeTerminal()) is None


def test_terminal_bar_redraws_with_carriage_returns_and_ends_each_epoch_with_a_line():
    stream = FakeTerminal()
    bar = ProgressBar(epochs=2, steps=4, stream=stream)
    for epoch in range(2):
        bar.on_epoch_begin(None, epoch)
        for b in range(4):
            bar._last = -1.0  # pretend the refresh interval has passed
            bar.on_batch_end(None, b, {"loss": 1.0 + b, "size": 2, "accuracy": 0.5})
        bar.on_epoch_end(None, epoch, {"loss": 2.5, "accuracy": 0.5, "time": 0.3})
    out = stream.getvalue()
    assert out.count("\n") == 2
    first_epoch = out.split("\n")[0]
    assert first_epoch.count("\r") == 5  # four redraws + the final line
    assert "1/4" in first_epoch and "4/4" in first_epoch and "ETA" in first_epoch
    assert "loss: 2.5000" in first_epoch  # running mean of 1, 2, 3, 4
    assert first_epoch.split("\r")[-1].startswith("Epoch 1/2 - 0.3s - loss: 2.5000")


def test_terminal_bar_is_rate_limited():
    stream = FakeTerminal()
    bar = ProgressBar(epochs=1, steps=1000, stream=stream)
    bar.on_epoch_begin(None, 0)
    for b in range(1000):  # far faster than 10 redraws a second
        bar.on_batch_end(None, b, {"loss": 1.0, "size": 1})
    assert stream.getvalue().count("\r") <= 3


def test_fit_on_a_terminal_draws_the_bar(monkeypatch):
    stream = FakeTerminal()
    monkeypatch.setattr("sys.stdout", stream)
    X, y = blobs(64)
    fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=2, batch_size=8)
    out = stream.getvalue()
    assert "\r" in out and out.count("\n") == 2
    assert out.splitlines()[-1].split("\r")[-1].startswith("Epoch 2/2 - ")


def test_an_interrupted_bar_ends_its_line(monkeypatch):
    from chainrule.train import Callback

    class Boom(Callback):
        def on_batch_end(self, trainer, batch, logs):
            if batch == 3:
                raise KeyboardInterrupt

    stream = FakeTerminal()
    monkeypatch.setattr("sys.stdout", stream)
    monkeypatch.setattr("chainrule.train.progress._REFRESH_S", 0.0)  # draw every step
    X, y = blobs(64)
    with pytest.raises(KeyboardInterrupt):
        fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=2, batch_size=8,
            callbacks=[Boom()])
    out = stream.getvalue()
    assert out.count("\r") == 4 and out.endswith("\n")
