"""From ``chainrule train`` to onnxruntime: the cnn model, checkpoints that rebuild their model,
``chainrule export``, ``chainrule predict`` and ``chainrule train --resume``."""

import json
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import chainrule as cr
from chainrule import cli
from chainrule.train import command
from chainrule.train.images import write_png
from chainrule.train.models import load_classifier


def _main(capsys, *args):
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def _summary(out):
    return json.loads(out.strip().splitlines()[-1])


def _session(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A cnn trained for one epoch on a subset of digits (a quick trial)."""
    out = tmp_path_factory.mktemp("run")
    args = ["train", "--dataset", "digits", "--model", "cnn", "--epochs", "1", "--limit", "384",
            "--quiet", "--json", "--out", str(out)]
    assert cli.main(args) == 0
    return out / "model.safetensors"


def test_checkpoint_records_the_model_and_the_run(trained):
    extra = cr.train.load_checkpoint(trained)["extra"]
    spec = extra["model_spec"]
    assert spec["kind"] == "cnn" and spec["input_shape"] == [1, 8, 8] and spec["classes"] == 10
    assert spec["dataset"] == "digits" and spec["normalize"] == pytest.approx(extra["normalize"])
    assert extra["train_args"]["limit"] == 384 and extra["train_args"]["epochs"] == 1
    model, _ = load_classifier(trained)  # rebuilt from the file alone
    x = cr.datasets.digits("test").tensors[0][:, None]
    probs = model(x).detach().numpy()
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)


def test_export_writes_a_model_onnxruntime_runs_on_raw_pixels(trained, tmp_path, capsys):
    path = tmp_path / "digits.onnx"
    code, out, _ = _main(capsys, "export", str(trained), "--onnx", str(path))
    assert code == 0
    assert "input  'image': float32 [batch, 1, 8, 8], raw pixels in [0, 1]" in out
    assert "output 'probabilities': float32 [batch, 10]" in out
    assert "checked with onnxruntime" in out
    onnx.checker.check_model(onnx.load(path), full_check=True)
    test = cr.datasets.digits("test")
    images = test.tensors[0].detach().numpy()[:, None]  # raw pixels: normalization is inside
    model, _ = load_classifier(trained)
    want = model(cr.tensor(images)).detach().numpy()
    got = _session(path).run(None, {"image": images})[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert (got.argmax(1) == test.tensors[1].detach().numpy()).mean() > 0.2  # it learned


def test_predict_png_and_npy(trained, tmp_path, capsys):
    test = cr.datasets.digits("test")
    images = test.tensors[0].detach().numpy()
    pixels = np.round(images[:3] * 255).astype(np.uint8)
    paths = []
    for i, p in enumerate(pixels):
        paths.append(tmp_path / f"digit{i}.png")
        write_png(paths[-1], p)
    np.save(tmp_path / "batch.npy", pixels)  # uint8: divided by 255
    np.save(tmp_path / "one.npy", images[0])  # float, one image
    code, out, _ = _main(capsys, "predict", str(trained), *map(str, paths),
                         str(tmp_path / "batch.npy"), str(tmp_path / "one.npy"), "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.strip().splitlines()]
    assert [r["image"] for r in rows] == [str(p) for p in paths] + [
        f"{tmp_path / 'batch.npy'}[{i}]" for i in range(3)] + [str(tmp_path / "one.npy")]
    model, _ = load_classifier(trained)
    want = model(cr.tensor(pixels[:, None] / np.float32(255))).detach().numpy()
    for r, w in zip(rows[:3] + rows[3:6], np.concatenate([want, want])):
        assert r["class"] == int(w.argmax())
        np.testing.assert_allclose(r["probabilities"], w, atol=1e-5)
    assert rows[6]["class"] == rows[0]["class"]
    code, out, _ = _main(capsys, "predict", str(trained), str(paths[0]))
    label, rest = out.splitlines()[0].split(": ", 1)
    assert label == str(paths[0]) and rest.startswith(f"{rows[0]['class']} (")
    assert "probabilities: 0:" in rest and "9:" in rest


def test_predict_and_export_explain_bad_input(trained, tmp_path, capsys):
    big = tmp_path / "big.png"
    write_png(big, np.zeros((28, 28), np.uint8))
    code, _, err = _main(capsys, "predict", str(trained), str(big))
    assert code == 2 and "the image is 28x28 pixels; the model takes 8x8 images" in err
    (tmp_path / "junk.png").write_bytes(b"not a png")
    code, _, err = _main(capsys, "predict", str(trained), str(tmp_path / "junk.png"))
    assert code == 2 and "not a PNG file" in err
    plain = tmp_path / "plain.safetensors"
    cr.train.save_checkpoint(plain, cr.nn.Linear(2, 2))
    code, _, err = _main(capsys, "export", str(plain), "--onnx", str(tmp_path / "x.onnx"))
    assert code == 2 and "holds no model spec" in err and not (tmp_path / "x.onnx").exists()


class _Interrupt(cr.train.Callback):
    """Stops the run at a given step, as Ctrl-C would."""

    def __init__(self, step):
        self.at = step

    def on_batch_end(self, trainer, batch, logs):
        if trainer.step == self.at:
            raise KeyboardInterrupt


class _Count(cr.train.Callback):
    def __init__(self):
        self.seen = []

    def on_batch_end(self, trainer, batch, logs):
        self.seen.append(trainer.step)


def test_resume_continues_an_interrupted_run_exactly(tmp_path, capsys, monkeypatch):
    # 256 images in batches of 64: 4 steps an epoch. Checkpoints every 3 steps and at the
    # epoch ends; the interruption at step 7 (inside epoch 2) falls back to step 6. The cnn
    # has dropout and batch norm: the random state and the statistics must continue too.
    args = ["train", "--dataset", "digits", "--model", "cnn", "--epochs", "2", "--limit", "256",
            "--batch-size", "64", "--save-every", "3", "--quiet", "--json"]
    code, out, _ = _main(capsys, *args, "--out", str(tmp_path / "whole"))
    assert code == 0
    whole = cr.train.load_checkpoint(_summary(out)["checkpoint"])

    make = command._callbacks
    monkeypatch.setattr(command, "_callbacks", lambda a, extra: make(a, extra) + [_Interrupt(7)])
    code, _, err = _main(capsys, *args, "--out", str(tmp_path / "cut"))
    assert code == 130 and "interrupted" in err
    assert not (tmp_path / "cut" / "model.safetensors").exists()
    assert cr.train.load_checkpoint(tmp_path / "cut" / "checkpoint.safetensors")["step"] == 6
    steps = _Count()
    monkeypatch.setattr(command, "_callbacks", lambda a, extra: make(a, extra) + [steps])

    code, out, _ = _main(capsys, "train", "--resume", str(tmp_path / "cut"), "--json",
                         "--quiet")
    assert code == 0
    assert steps.seen == [7, 8]  # it continued from step 6; it did not start over
    summary = _summary(out)
    assert summary["resumed_from"] == str(tmp_path / "cut" / "checkpoint.safetensors")
    resumed = cr.train.load_checkpoint(summary["checkpoint"])
    for key in whole["model"]:
        np.testing.assert_array_equal(resumed["model"][key], whole["model"][key])
    for a, b in zip(resumed["optimizer"]["state"].values(), whole["optimizer"]["state"].values()):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    for run in ("whole", "cut"):
        assert cr.train.load_checkpoint(tmp_path / run / "checkpoint.safetensors")["step"] == 8
    h1, h2 = resumed["history"]["history"], whole["history"]["history"]
    assert {k: v for k, v in h1.items() if k != "time"} == {
        k: v for k, v in h2.items() if k != "time"}


def test_resume_refuses_what_it_cannot_continue(tmp_path, capsys):
    code, _, err = _main(capsys, "train", "--resume", str(tmp_path))
    assert code == 2 and "no checkpoint.safetensors there" in err
    code, _, err = _main(capsys, "train", "--resume", str(tmp_path), "--epochs", "9", "--lr",
                         "0.1")
    assert code == 2 and "leave out --epochs, --lr" in err
    cr.train.save_checkpoint(tmp_path / "checkpoint.safetensors", cr.nn.Linear(2, 2))
    code, _, err = _main(capsys, "train", "--resume", str(tmp_path))
    assert code == 2 and "was not written by `chainrule train`" in err


@pytest.mark.slow
def test_cnn_reaches_the_bar_on_mnist_with_its_defaults(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "chainrule.cli", "train", "--dataset", "mnist",
                           "--model", "cnn", "--out", str(tmp_path / "cnn"), "--json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr
    summary = _summary(proc.stdout)
    assert summary["test_accuracy"] >= 0.992
    # the exported model classifies the raw test images as chainrule does
    path = tmp_path / "mnist.onnx"
    assert cli.main(["export", summary["checkpoint"], "--onnx", str(path)]) == 0
    test = cr.datasets.mnist("test")
    images = test.tensors[0].detach().numpy()[:, None]
    probs = np.concatenate([_session(path).run(None, {"image": images[i:i + 1000]})[0]
                            for i in range(0, len(images), 1000)])
    accuracy = (probs.argmax(1) == test.tensors[1].detach().numpy()).mean()
    assert accuracy == pytest.approx(summary["test_accuracy"], abs=2e-4)
    assert os.path.getsize(path) > 100_000


def test_shifted_batches_move_each_image_by_its_drawn_offset():
    x = cr.rand(5, 1, 6, 7)
    loader = cr.data.DataLoader(cr.data.TensorDataset(x, cr.arange(5)), batch_size=5)
    cr.manual_seed(3)
    (got, y), = list(command.Shifted(loader, 2, -1.0))
    cr.manual_seed(3)
    offsets = cr.randint(0, 5, (5, 2)).detach().numpy()  # the same draw
    a = x.detach().numpy()
    for i, (dy, dx) in enumerate(offsets - 2):  # the content moves by -(offset - 2)
        want = np.full((6, 7), -1.0, np.float32)
        src = a[i, 0, max(0, dy):6 + min(0, dy), max(0, dx):7 + min(0, dx)]
        want[max(0, -dy):max(0, -dy) + src.shape[0], max(0, -dx):max(0, -dx) + src.shape[1]] = src
        np.testing.assert_array_equal(got.detach().numpy()[i, 0], want)
    assert y.tolist() == [0, 1, 2, 3, 4]
