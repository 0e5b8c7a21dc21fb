"""``chainrule train --nproc N``: the command-line training run as an MPI job."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from mpi_jobs import chainrule, check

import chainrule as cr

COMMON = ["train", "--dataset", "digits", "--schedule", "none", "--json", "--quiet"]


def _run(*args: str) -> dict:
    result = check(chainrule(*args, timeout=180))
    summary = json.loads(result.stdout.strip().split("\n")[-1])
    summary["stdout"] = result.stdout
    summary["params"] = {k: v.detach().numpy()
                         for k, v in cr.load(summary["checkpoint"])["model"].items()}
    summary["files"] = sorted(os.listdir(os.path.dirname(summary["checkpoint"])))
    return summary


def _close(a: dict, b: dict, atol: float) -> None:
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], atol=atol, rtol=0, err_msg=k)


@pytest.mark.slow
def test_two_ranks_train_like_one_and_resume_at_another_size(tmp_path):
    one = _run(*COMMON, "--epochs", "2", "--nproc", "1", "--out", str(tmp_path / "one"))
    two = _run(*COMMON, "--epochs", "2", "--nproc", "2", "--out", str(tmp_path / "two"))
    # The same global batches: float32 rounding apart, the same weights and accuracy.
    _close(two["params"], one["params"], atol=1e-5)
    assert abs(two["test_accuracy"] - one["test_accuracy"]) <= 0.01
    assert two["test_accuracy"] > 0.8 and two["nproc"] == 2
    # Rank 0 alone prints and writes; the files are complete (no temporary file left).
    assert two["stdout"].count("chainrule train:") == 1
    assert two["stdout"].count("test accuracy") == 1
    assert two["files"] == ["checkpoint.safetensors", "curves.png", "model.safetensors"]
    # A 2-epoch run on 2 ranks stopped after its first epoch (a 1-epoch run whose checkpoint
    # says 2), resumed on 1 rank: the uninterrupted 2-rank run.
    check(chainrule(*COMMON, "--epochs", "1", "--nproc", "2", "--out", str(tmp_path / "cut"),
                    timeout=180))
    path = str(tmp_path / "cut" / "checkpoint.safetensors")
    raw = cr.load(path)
    assert raw["training"]["epoch"] == 1
    raw["training"]["extra"]["train_args"]["epochs"] = 2
    cr.save(raw, path)
    resumed = _run("train", "--resume", str(tmp_path / "cut"), "--nproc", "1", "--json")
    assert f"resuming from {path} at epoch 2" in resumed["stdout"]
    assert resumed["stdout"].count("Epoch ") == 1  # epoch 2 only
    _close(resumed["params"], two["params"], atol=1e-5)
    assert cr.train.load_checkpoint(path)["epoch"] == 2
    assert len(cr.train.load_checkpoint(resumed["checkpoint"])["history"]["epoch"]) == 2


@pytest.mark.parametrize("args,message", [
    (["--hosts", "hosts.txt"], "--hosts needs --nproc"),
    (["--nproc", "2", "--batch-size", "127"], "must be a multiple of --nproc 2"),
    (["--nproc", "2", "--save-every", "5"], "--save-every is not available with --nproc"),
    (["--nproc", "2", "--shift", "2"], "--shift moves images; it needs --model cnn"),
])
def test_arguments_a_data_parallel_run_refuses(args, message, tmp_path):
    result = chainrule("train", "--dataset", "digits", *args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr


def test_resume_refuses_a_checkpoint_from_inside_an_epoch(tmp_path):
    result = chainrule("train", "--nproc", "2", "--resume", "nowhere", cwd=tmp_path)
    assert result.returncode == 2 and "no checkpoint.safetensors there" in result.stderr
    path = tmp_path / "run" / "checkpoint.safetensors"
    path.parent.mkdir()
    cr.train.save_checkpoint(path, cr.nn.Linear(2, 2), extra={"train_args": {}})
    raw = cr.load(str(path))
    raw["training"]["progress"] = {"batch": 3, "seen": 96, "loss_sum": 1.0, "sums": {},
                                   "lr": 0.1, "elapsed": 1.0}
    raw["training"]["extra"]["train_args"] = {
        "dataset": "digits", "model": "mlp", "hidden": [8], "activation": "relu", "epochs": 1,
        "batch_size": 64, "optimizer": "sgd", "lr": 0.1, "schedule": "none",
        "normalize": True, "shift": 0, "seed": 0, "save_every": None, "limit": None}
    cr.save(raw, str(path))
    result = chainrule("train", "--nproc", "2", "--resume", str(path.parent), cwd=tmp_path)
    assert result.returncode == 2 and "written inside an epoch" in result.stderr
