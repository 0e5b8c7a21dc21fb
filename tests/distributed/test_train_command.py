"""``chainrule train --nproc N``: the command-line training run as an MPI job."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from mpi_jobs import chainrule, check

import chainrule as cr

COMMON = ["train", "--dataset", "digits", "--schedule", "none", "--json"]


def _run(tmp_path, name: str, *args: str) -> dict:
    out = tmp_path / name
    result = check(chainrule(*COMMON, "--out", str(out), *args, timeout=180))
    lines = result.stdout.strip().split("\n")
    summary = json.loads(lines[-1])
    summary["stdout"] = result.stdout
    summary["params"] = {k: v.detach().numpy()
                         for k, v in cr.load(str(out / "model.safetensors"))["model"].items()}
    summary["files"] = sorted(os.listdir(out))
    return summary


def _close(a: dict, b: dict, atol: float) -> None:
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], atol=atol, rtol=0, err_msg=k)


@pytest.mark.slow
def test_two_ranks_train_like_one_and_resume_at_another_size(tmp_path):
    one = _run(tmp_path, "one", "--epochs", "2", "--nproc", "1")
    two = _run(tmp_path, "two", "--epochs", "2", "--nproc", "2")
    # The same global batches: float32 rounding apart, the same weights and accuracy.
    _close(two["params"], one["params"], atol=1e-5)
    assert abs(two["test_accuracy"] - one["test_accuracy"]) <= 0.01
    assert two["test_accuracy"] > 0.8 and two["nproc"] == 2
    # Rank 0 alone prints and writes; the checkpoint is complete (no temporary file left).
    assert two["stdout"].count("chainrule train:") == 1
    assert two["stdout"].count("Epoch 2/2") == 1
    assert two["files"] == ["curves.png", "model.safetensors"]
    # One epoch on 2 ranks, resumed for the second on 1: the 2-epoch run.
    check(chainrule(*COMMON, "--out", str(tmp_path / "half"), "--epochs", "1", "--nproc", "2",
                    timeout=180))
    resumed = _run(tmp_path, "resumed", "--epochs", "2", "--nproc", "1", "--resume",
                   str(tmp_path / "half" / "model.safetensors"))
    assert "resumed at epoch 2" in resumed["stdout"]
    assert resumed["stdout"].count("Epoch ") == 1
    _close(resumed["params"], two["params"], atol=1e-5)
    assert cr.load(str(tmp_path / "resumed" / "model.safetensors"))["training"]["epoch"] == 2


def test_arguments_that_need_nproc_or_fit_it(tmp_path):
    result = chainrule(*COMMON, "--resume", "x.safetensors", "--out", str(tmp_path))
    # A resume takes its options from the run it continues, with or without --nproc.
    assert result.returncode == 2 and "--resume continues a run with the options" in result.stderr
    result = chainrule(*COMMON, "--nproc", "2", "--batch-size", "127", "--out", str(tmp_path))
    assert result.returncode == 2 and "must be a multiple of --nproc 2" in result.stderr
