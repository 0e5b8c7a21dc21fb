"""evaluate and predict: values against NumPy, eval mode, no graph."""

import numpy as np
import pytest
from toy_problems import blobs, mlp

import chainrule as cr
import chainrule.nn as nn
from chainrule.train import evaluate, predict


def _numpy_forward(model, X):
    lin1, lin2 = model[0], model[-1]
    h = np.maximum(X @ lin1.weight.detach().numpy().T + lin1.bias.detach().numpy(), 0)
    return h @ lin2.weight.detach().numpy().T + lin2.bias.detach().numpy()


def test_evaluate_matches_numpy():
    X, y = blobs(50)
    model = mlp()
    result = evaluate(model, (X, y), loss="cross_entropy", metrics=["accuracy"], batch_size=16)
    logits = _numpy_forward(model, X).astype(np.float64)
    logp = logits - logits.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    assert result["loss"] == pytest.approx(-logp[np.arange(50), y].mean(), rel=1e-5)
    assert result["accuracy"] == pytest.approx((logits.argmax(1) == y).mean())
    assert list(result) == ["loss", "accuracy"]


def test_evaluate_without_loss_and_with_a_loader():
    X, y = blobs(20)
    ds = cr.data.TensorDataset(cr.tensor(X), cr.tensor(y))
    result = evaluate(mlp(), cr.data.DataLoader(ds, batch_size=7), loss=None)
    assert list(result) == ["accuracy"]


def test_predict_matches_numpy_in_eval_mode_without_graph():
    X, _ = blobs(45)
    model = mlp(dropout=0.9)
    model.train()
    out = predict(model, X, batch_size=10)
    assert out.shape == (45, 2)
    assert not out.requires_grad and out.grad_fn is None
    np.testing.assert_allclose(out.detach().numpy(), _numpy_forward(model, X), rtol=1e-5, atol=1e-6)
    assert model.training  # mode restored
    out2 = predict(model, cr.data.TensorDataset(cr.tensor(X)))
    np.testing.assert_array_equal(out.detach().numpy(), out2.detach().numpy())


def test_predict_and_evaluate_errors():
    with pytest.raises(ValueError, match="batch_size"):
        predict(nn.Linear(2, 2), np.zeros((3, 2)), batch_size=0)
    with pytest.raises(ValueError, match="samples"):
        evaluate(nn.Linear(2, 2), (np.zeros((3, 2)), np.zeros(2)), loss="mse")
