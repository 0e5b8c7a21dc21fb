"""Metrics against hand-computed values."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.train import metrics


def test_accuracy_class_indices_from_logits():
    out = cr.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0], [9.0, 0.0, 0.0]])
    assert metrics.accuracy(out, cr.tensor([0, 1, 1, 2])) == 0.5


def test_accuracy_one_hot_targets():
    out = np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4]])
    onehot = np.array([[1, 0], [1, 0], [1, 0]])
    assert metrics.accuracy(out, onehot) == pytest.approx(2 / 3)


def test_binary_accuracy_threshold():
    probs = cr.tensor([[0.9], [0.4], [0.6], [0.1]])
    target = cr.tensor([[1.0], [1.0], [0.0], [0.0]])
    assert metrics.accuracy(probs, target) == 0.5
    assert metrics.accuracy(probs, target, threshold=0.3) == 0.75  # now 0.4 counts as 1
    logits = cr.tensor([2.0, -1.0, 0.5, -3.0])
    assert metrics.accuracy(logits, cr.tensor([1.0, 0.0, 1.0, 1.0]), threshold=0.0) == 0.75


def test_mae_mse():
    assert metrics.mae(cr.tensor([1.0, 2.0, 4.0]), cr.tensor([2.0, 2.0, 1.0])) == \
        pytest.approx(4 / 3)
    assert metrics.mse(np.array([[1.0], [3.0]]), np.array([0.0, 1.0])) == pytest.approx(2.5)


def test_accuracy_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="does not match"):
        metrics.accuracy(cr.zeros(4, 3), cr.zeros(4, 2))


def test_resolve_metrics_names_callables_and_errors():
    def top(out, y):
        return 1.0

    resolved = metrics.resolve_metrics(["acc", "mae", top])
    assert list(resolved) == ["accuracy", "mae", "top"]
    assert list(metrics.resolve_metrics({"mine": top})) == ["mine"]
    with pytest.raises(ValueError, match="unknown metric"):
        metrics.resolve_metrics(["f1_macro"])
    with pytest.raises(TypeError):
        metrics.resolve_metrics([3])
    with pytest.raises(ValueError, match="twice"):
        metrics.resolve_metrics(["accuracy", "acc"])


def test_logits_accuracy_thresholds_at_zero():
    _, fn = metrics.get_metric("accuracy", logits=True)
    assert fn(cr.tensor([0.2, -0.2]), cr.tensor([1.0, 0.0])) == 1.0
