"""The 1-1-1 network worked by hand: one forward, one backward, one SGD step.

x = 1, target t = 0.5, h = sigmoid(w1 x + b1), y = w2 h + b2, L = (y - t)^2 / 2, lr = 0.1.
The expected numbers are derived here from the chain rule with plain ``math`` (and also given
as literals), never with chainrule itself.
"""

from __future__ import annotations

import math

import pytest

import chainrule as cr

X, T, LR = 1.0, 0.5, 0.1
W1, B1, W2, B2 = 0.5, 0.2, 0.3, 0.1


def _by_hand():
    z = W1 * X + B1
    h = 1.0 / (1.0 + math.exp(-z))
    y = W2 * h + B2
    dy = y - T  # dL/dy
    dz = dy * W2 * h * (1.0 - h)  # dL/dz = dL/dy * dy/dh * dh/dz
    grads = {"w2": dy * h, "b2": dy, "w1": dz * X, "b1": dz}
    loss = 0.5 * dy * dy
    return loss, grads


def _network(dtype):
    p = {k: cr.tensor(v, dtype=dtype, requires_grad=True)
         for k, v in (("w1", W1), ("b1", B1), ("w2", W2), ("b2", B2))}
    h = cr.sigmoid(p["w1"] * X + p["b1"])
    y = p["w2"] * h + p["b2"]
    loss = 0.5 * (y - T) ** 2
    return p, loss


@pytest.mark.parametrize("dtype,tol", [(cr.float64, 1e-12), (cr.float32, 1e-6)])
def test_gradients_match_the_hand_derivation(dtype, tol):
    p, loss = _network(dtype)
    loss.backward()
    want_loss, want = _by_hand()
    assert loss.item() == pytest.approx(want_loss, abs=tol)
    for name, g in want.items():
        assert p[name].grad.item() == pytest.approx(g, abs=tol), name
        assert p[name].grad.dtype == dtype


def test_gradients_match_the_published_numbers():
    p, loss = _network(cr.float64)
    loss.backward()
    assert p["w2"].grad.item() == pytest.approx(-0.1333333, abs=1e-6)
    assert p["w1"].grad.item() == pytest.approx(-0.0132724, abs=1e-6)
    assert p["b1"].grad.item() == pytest.approx(-0.0132724, abs=1e-6)
    assert p["b2"].grad.item() == pytest.approx(-0.1995437, abs=1e-6)


@pytest.mark.parametrize("dtype", [cr.float64, cr.float32])
def test_one_sgd_step(dtype):
    p, loss = _network(dtype)
    loss.backward()
    with cr.no_grad():
        for t in p.values():
            t -= LR * t.grad
    _, g = _by_hand()
    start = {"w1": W1, "b1": B1, "w2": W2, "b2": B2}
    literal = {"w1": 0.5013272, "b1": 0.2013272, "w2": 0.3133333, "b2": 0.1199544}
    for name, t in p.items():
        assert t.item() == pytest.approx(start[name] - LR * g[name], abs=1e-6)
        assert t.item() == pytest.approx(literal[name], abs=1e-6)
        assert t.is_leaf and t.requires_grad  # the update did not turn it into a graph node
