"""cr.explain_step: updates predicted before step(), checked against step() (hand-known values)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.explain import worked


def _w(value, grad):
    w = cr.tensor(value, requires_grad=True, name="w")
    (w * grad).sum().backward()  # d(w * grad)/dw = grad
    return w


def test_sgd_on_the_worked_example_matches_the_hand_update():
    loss, _, params = worked.network()
    loss.backward()
    opt = cr.optim.SGD(params, lr=0.1)
    rep = cr.explain_step(opt)
    assert [round(rep.new_value(n), 4) for n in ("w1", "b1", "w2", "b2")] == [
        0.5013, 0.2013, 0.3133, 0.1200]
    assert rep.lines("w2")[0] == (
        "w2_new = w2_old - lr × grad = 0.3000 - 0.1000 × (-0.1333) = 0.3133")
    assert "学习率" in rep.lines("w2", "zh")[0]
    assert params[0].detach().numpy().item() == 0.5  # explain_step alone changes nothing
    assert not rep.stepped


def test_step_true_runs_step_and_checks_the_prediction():
    loss, _, params = worked.network()
    loss.backward()
    rep = cr.explain_step(cr.optim.SGD(params, lr=0.1), step=True)
    assert rep.checked is True
    assert round(params[0].detach().numpy().item(), 4) == 0.5013
    assert "checked: the predicted new values equal what step() produced" in str(rep)


def test_sgd_momentum_second_step():
    w = _w(1.0, 2.0)
    opt = cr.optim.SGD([w], lr=0.1, momentum=0.9)
    first = cr.explain_step(opt, step=True)  # buf = 2, w = 1 - 0.2 = 0.8
    assert first.checked and "momentum buffer (first step): buf = g = 2.0000" in str(first)
    w.grad = None
    (w * 2.0).backward()
    second = cr.explain_step(opt, step=True)  # buf = 0.9 * 2 + 2 = 3.8, w = 0.8 - 0.38
    assert round(second.new_value("w"), 4) == 0.42
    assert second.checked
    assert "= 0.9 × 2.0000 + 1 × 2.0000 = 3.8000" in str(second)


def test_sgd_weight_decay_and_nesterov_agree_with_step():
    w = _w(np.array([1.0, -2.0], dtype=np.float32), 1.5)
    opt = cr.optim.SGD([w], lr=0.05, momentum=0.5, weight_decay=0.1, nesterov=True)
    for _ in range(3):
        rep = cr.explain_step(opt, step=True)
        assert rep.checked, str(rep)
    assert "Nesterov" in str(rep) and "weight decay" in str(rep)


def test_adam_first_step_moves_by_lr():
    w = _w(1.0, 2.0)
    opt = cr.optim.Adam([w], lr=0.1)
    rep = cr.explain_step(opt)
    # first step: m̂ = g and v̂ = g², so the step is lr * g / |g| = 0.1
    assert round(rep.new_value("w"), 6) == 0.9
    text = str(rep)
    assert "first moment m = β1 × m + (1 - β1) × g = 0.9 × 0.0000 + 0.1 × 2.0000 = 0.2000" in text
    assert "second moment v" in text and "bias corrections" in text
    assert not opt.state.get(w)  # state untouched before step()


def test_adam_and_adamw_later_steps_agree_with_step():
    for cls, kw in ((cr.optim.Adam, {"weight_decay": 0.01}), (cr.optim.AdamW, {})):
        w = _w(np.array([0.3, -0.7]), 1.0)
        opt = cls([w], lr=0.01, **kw)
        for _ in range(3):
            rep = cr.explain_step(opt, step=True)
            assert rep.checked, str(rep)
        assert "step t = 3" in str(rep)


def test_lr_what_if_and_its_misuse():
    w = _w(1.0, 2.0)
    opt = cr.optim.SGD([w], lr=0.1)
    assert round(cr.explain_step(opt, lr=0.5).new_value("w"), 4) == 0.0
    with pytest.raises(ValueError, match="what-if"):
        cr.explain_step(opt, lr=0.5, step=True)


def test_a_parameter_without_gradient_is_left_alone():
    w = cr.tensor(1.0, requires_grad=True, name="w")
    rep = cr.explain_step(cr.optim.SGD([w], lr=0.1))
    assert "w has no gradient" in str(rep)


def test_an_unknown_optimizer_is_refused():
    class Lion:
        param_groups = [{"params": [], "lr": 0.1, "betas": (0.9, 0.99)}]
        state = {}

    w = _w(1.0, 2.0)
    Lion.param_groups[0]["params"].append(w)
    with pytest.raises(TypeError, match="Lion is not supported"):
        cr.explain_step(Lion())
