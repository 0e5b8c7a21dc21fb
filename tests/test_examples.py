"""Every example runs and reaches its documented outcome."""

import importlib.util
import os
import re
import subprocess
import sys

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def _load(name):
    spec = importlib.util.spec_from_file_location(name.replace(".py", ""),
                                                  os.path.join(EXAMPLES, name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_01_worked_example_prints_the_tutorial_numbers():
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, "01_worked_example.py")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    expected = {
        r"h  = sigmoid\(z1\)\s+= ": "0.6682",
        r"y  = w2\*h \+ b2 .*= ": "0.3005",
        r"L  = 0\.5\*\(y - t\)\^2 .*= ": "0.0199",
        r"dL/dw2 = .*= ": "-0.1333",
        r"dL/dw1 = .*= ": "-0.0133",
        r"dL/db1 = .*= ": "-0.0133",
        r"w1 <- .*= ": "0.5013",
        r"b1 <- .*= ": "0.2013",
        r"w2 <- .*= ": "0.3133",
        r"b2 <- .*= ": "0.1200",
    }
    for pattern, value in expected.items():
        match = re.search(pattern + r"(\S+)$", out, re.MULTILINE)
        assert match, f"no line matching {pattern!r} in:\n{out}"
        assert match.group(1) == value, match.group(0)


def test_02_single_neuron_bce():
    result = _load("02_single_neuron_bce.py").main(verbose=False)
    assert result["accuracy"] >= 0.95
    assert result["max_diff"] < 1e-6  # dL/dz == (p - t)/N


def test_03_digits_softmax():
    result = _load("03_digits_softmax.py").main(verbose=False)
    assert result["test_accuracy"] >= 0.95
    assert result["lr_first"] == 0.5
    assert result["lr_last"] == pytest.approx(0.5 * 0.95 ** 29)
    assert result["max_diff"] < 1e-6  # dL/dz == (softmax - onehot)/N


@pytest.mark.slow
def test_04_mnist_keras_style():
    result = _load("04_mnist_keras_style.py").main(verbose=False)
    assert result["test_accuracy"] >= 0.90
    assert result["train_loss_last"] < result["train_loss_first"]


def test_05_deep_sigmoid_barely_learns_relu_he_does():
    result = _load("05_deep_sigmoid_vs_relu.py").main(verbose=False)
    assert result["sigmoid_accuracy"] < 0.3
    assert result["relu_accuracy"] > 0.85
    # vanishing gradients: the sigmoid net's first layer gets orders of magnitude less
    assert result["sigmoid_first_layer_grad"] < 1e-3 * result["sigmoid_last_layer_grad"]
    assert result["relu_first_layer_grad"] > 0.1 * result["relu_last_layer_grad"]


def test_06_onnxruntime_serves_the_exported_model_without_chainrule(tmp_path):
    import numpy as np

    import chainrule as cr
    from chainrule import cli
    from chainrule.train.images import write_png
    from chainrule.train.models import load_classifier

    run = tmp_path / "run"
    assert cli.main(["train", "--dataset", "digits", "--model", "cnn", "--epochs", "1",
                     "--limit", "256", "--quiet", "--out", str(run)]) == 0
    model_path = tmp_path / "digits.onnx"
    assert cli.main(["export", str(run / "model.safetensors"), "--onnx", str(model_path)]) == 0
    pixels = np.round(cr.datasets.digits("test").tensors[0].detach().numpy()[:4] * 255)
    pixels = pixels.astype(np.uint8)
    write_png(tmp_path / "one.png", pixels[0])
    np.save(tmp_path / "three.npy", pixels[1:])
    example = os.path.join(EXAMPLES, "06_onnxruntime.py")
    # chainrule cannot be imported in the example's process: onnxruntime alone serves it
    code = ("import runpy, sys; sys.modules['chainrule'] = None; "
            f"sys.argv = ['06', {str(model_path)!r}, {str(tmp_path / 'one.png')!r}, "
            f"{str(tmp_path / 'three.npy')!r}]; runpy.run_path({example!r}, run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    model, _ = load_classifier(run / "model.safetensors")
    want = model(cr.tensor(pixels[:, None] / np.float32(255))).detach().numpy()
    labels = [str(tmp_path / "one.png")] + [f"{tmp_path / 'three.npy'}[{i}]" for i in range(3)]
    assert lines == [f"{label}: {int(p.argmax())} ({p.max():.1%})" for label, p in
                     zip(labels, want)]
