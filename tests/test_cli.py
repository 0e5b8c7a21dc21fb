"""The ``chainrule`` command line: train on digits (and MNIST, slow), the subcommand registry."""

import json
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli


def _run_cli(*args, cwd):
    proc = subprocess.run([sys.executable, "-m", "chainrule.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _numpy_accuracy(ckpt, X, y):
    """Accuracy of the saved ReLU MLP on raw images, recomputed with NumPy alone."""
    mean, std = ckpt["extra"]["normalize"]
    weights = ckpt["model"]
    h = np.maximum((X - mean) / std @ weights["0.weight"].T + weights["0.bias"], 0)
    logits = h @ weights["2.weight"].T + weights["2.bias"]
    return float((logits.argmax(1) == y).mean())


def test_train_digits_json(tmp_path):
    out = _run_cli("train", "--dataset", "digits", "--epochs", "8", "--batch-size", "32",
                   "--hidden", "64", "--seed", "1", "--out", str(tmp_path / "run"), "--json",
                   cwd=tmp_path)
    lines = out.strip().splitlines()
    summary = json.loads(lines[-1])
    for key in ("dataset", "model", "epochs", "test_accuracy", "test_loss", "train_seconds",
                "checkpoint"):
        assert key in summary
    assert summary["dataset"] == "digits" and summary["model"] == "mlp"
    assert summary["epochs"] == 8 and summary["train_seconds"] > 0
    assert summary["schedule"] == "cosine" and summary["normalize"] is not None
    assert summary["test_accuracy"] >= 0.93
    # Off a terminal: one plain progress line per epoch, no carriage returns.
    assert "\r" not in out
    assert sum(line.startswith("Epoch ") for line in lines) == 8

    ckpt = cr.train.load_checkpoint(summary["checkpoint"])
    assert summary["checkpoint"] == str(tmp_path / "run" / "model.safetensors")
    assert ckpt["epoch"] == 8 and ckpt["extra"]["arch"] == "64-64-10"
    lrs = ckpt["history"]["history"]["lr"]  # cosine schedule: 1e-3 annealed over the epochs
    assert lrs[0] == 1e-3 and lrs == sorted(lrs, reverse=True) and lrs[-1] < 0.1 * lrs[0]
    test = cr.datasets.digits("test", flatten=True)
    acc = _numpy_accuracy(ckpt, test.tensors[0].detach().numpy(), test.tensors[1].detach().numpy())
    assert acc == pytest.approx(summary["test_accuracy"])
    with open(tmp_path / "run" / "curves.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_train_in_process_seed_reproducible(tmp_path, capsys):
    args = ["train", "--dataset", "digits", "--epochs", "2", "--hidden", "32", "--quiet",
            "--json"]
    assert cli.main([*args, "--out", str(tmp_path / "a")]) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert cli.main([*args, "--out", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    second = json.loads(out.strip().splitlines()[-1])
    assert first["test_loss"] == second["test_loss"]
    assert not any(line.startswith("Epoch ") for line in out.splitlines())  # --quiet


def test_train_without_normalization_or_schedule(tmp_path, capsys):
    assert cli.main(["train", "--dataset", "digits", "--epochs", "2", "--model", "linear",
                     "--no-normalize", "--schedule", "none", "--quiet", "--json",
                     "--out", str(tmp_path)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["normalize"] is None and summary["arch"] == "64-10"
    ckpt = cr.train.load_checkpoint(summary["checkpoint"])
    assert ckpt["history"]["history"]["lr"] == [1e-3, 1e-3]
    assert sorted(ckpt["model"]) == ["0.bias", "0.weight"]


@pytest.mark.parametrize("bad", [["--epochs", "0"], ["--hidden", "abc"], ["--lr", "-1"],
                                 ["--dataset", "cifar"], ["--model", "resnet"]])
def test_bad_arguments_exit_with_usage_error(bad, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["train", *bad])
    assert e.value.code == 2
    assert "usage" in capsys.readouterr().err


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "train" in capsys.readouterr().out


def test_subcommand_registry_is_extensible(monkeypatch, capsys):
    calls = []

    def add_parser(subparsers):
        p = subparsers.add_parser("hello", help="say hello")
        p.add_argument("--name", default="world")
        p.set_defaults(func=lambda args: calls.append(args.name) or 0)

    fake = types.ModuleType("chainrule_fake_command")
    fake.add_parser = add_parser
    monkeypatch.setitem(sys.modules, "chainrule_fake_command", fake)
    monkeypatch.setitem(cli.OPTIONAL_COMMANDS, "hello", "chainrule_fake_command")
    assert cli.main(["hello", "--name", "chain"]) == 0
    assert calls == ["chain"]
    # A listed module that does not exist is simply not offered.
    monkeypatch.setitem(cli.OPTIONAL_COMMANDS, "ghost", "chainrule_no_such_module.command")
    assert "ghost" not in cli.build_parser().format_help()


@pytest.mark.slow
def test_train_mnist_reaches_the_bar(tmp_path):
    out = _run_cli("train", "--dataset", "mnist", "--model", "mlp", "--epochs", "5",
                   "--out", str(tmp_path / "demo"), "--json", cwd=tmp_path)
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["test_accuracy"] >= 0.978
    assert os.path.exists(summary["checkpoint"])
    ckpt = cr.train.load_checkpoint(summary["checkpoint"])
    test = cr.datasets.mnist("test", flatten=True)
    assert _numpy_accuracy(ckpt, test.tensors[0].detach().numpy(),
                           test.tensors[1].detach().numpy()) == \
        pytest.approx(summary["test_accuracy"])
