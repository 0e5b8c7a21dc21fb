"""cr.explain_step for every optimizer: its values are PyTorch's, step() agrees, nothing changes.

Each configuration trains a weight matrix, a bias and a one-element scale (so both the array
update and the one-element float update run) for several steps, explaining each step first.
"""

import copy

import numpy as np
import pytest
import torch

import chainrule as cr

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.05, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.05, weight_decay=0.1)),
    ("AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.7)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.7, centered=True, weight_decay=0.02)),
    ("RMSprop", dict(lr=0.01, maximize=True, centered=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.02, initial_accumulator_value=0.3,
                     eps=1e-6)),
    ("Adagrad", dict(lr=0.05, maximize=True)),
]
IDS = [f"{name}-" + "-".join(f"{k}={v}" for k, v in kw.items()) for name, kw in CONFIGS]
STEPS = 4


def _start(seed=0):
    rng = np.random.default_rng(seed)
    return {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2),
            "s": np.array(rng.standard_normal())}


def _loss(lib, p, x):
    y = lib.tanh(x @ p["W"] + p["b"]) * p["s"]
    return (y * y).sum() + (p["W"] * p["W"]).sum() * 0.1


def _pair(name, kw, dtype="float64"):
    arrays = _start()
    crp = {k: cr.tensor(a, dtype=dtype, requires_grad=True, name=k) for k, a in arrays.items()}
    thp = {k: torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=True)
           for k, a in arrays.items()}
    return (crp, getattr(cr.optim, name)(list(crp.values()), **kw),
            thp, getattr(torch.optim, name)(list(thp.values()), **kw))


def _backward(crp, thp, step):
    x = np.random.default_rng(100 + step).standard_normal((4, 3))
    for p in crp.values():
        p.grad = None
    for p in thp.values():
        p.grad = None
    _loss(cr, crp, cr.tensor(x, dtype=crp["W"].dtype)).backward()
    _loss(torch, thp, torch.tensor(x, dtype=thp["W"].dtype)).backward()


@pytest.mark.parametrize("name, kw", CONFIGS, ids=IDS)
def test_explained_values_are_pytorchs_and_step_agrees(name, kw):
    crp, opt, thp, th_opt = _pair(name, kw)
    for step in range(STEPS):
        _backward(crp, thp, step)
        report = cr.explain_step(opt, step=True)
        th_opt.step()
        assert report.checked is True, str(report)
        for key, p in thp.items():
            np.testing.assert_allclose(report.new_value(key), p.detach().numpy(), rtol=1e-12,
                                       atol=1e-13, err_msg=f"{key} after step {step}")
            np.testing.assert_allclose(crp[key].detach().numpy(), p.detach().numpy(), rtol=1e-12,
                                       atol=1e-13)


@pytest.mark.parametrize("name, kw", CONFIGS, ids=IDS)
def test_float32_steps_are_checked(name, kw):
    crp, opt, thp, th_opt = _pair(name, kw, dtype="float32")
    for step in range(STEPS):
        _backward(crp, thp, step)
        report = cr.explain_step(opt, step=True)
        th_opt.step()
        assert report.checked is True, str(report)
        for key, p in thp.items():
            np.testing.assert_allclose(report.new_value(key), p.detach().numpy(), rtol=1e-5,
                                       atol=1e-6)


def _snapshot(opt, params):
    return ([(p.detach().numpy().copy(), p._version,
              p.grad.detach().numpy().copy() if p.grad is not None else None)
             for p in params],
            {id(p): copy.deepcopy(s) for p, s in opt.state.items()},
            copy.deepcopy(opt.param_groups[0] | {"params": None}))


def _assert_same(a, b):
    (params_a, state_a, group_a), (params_b, state_b, group_b) = a, b
    for (da, va, ga), (db, vb, gb) in zip(params_a, params_b):
        np.testing.assert_array_equal(da, db)
        assert va == vb
        np.testing.assert_array_equal(ga, gb)
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        assert state_a[key].keys() == state_b[key].keys()
        for name in state_a[key]:
            np.testing.assert_array_equal(state_a[key][name], state_b[key][name])
    assert group_a == group_b


@pytest.mark.parametrize("name, kw", CONFIGS, ids=IDS)
def test_explaining_changes_nothing(name, kw):
    crp, opt, thp, _ = _pair(name, kw)
    params = list(crp.values())
    for step in range(2):
        _backward(crp, thp, step)
        before = _snapshot(opt, params)
        first = cr.explain_step(opt)
        cr.explain_step(opt, lr=0.5)  # a what-if does not stick either
        _assert_same(before, _snapshot(opt, params))
        second = cr.explain_step(opt)  # so explaining twice gives the same numbers
        for key in crp:
            np.testing.assert_array_equal(first.new_value(key), second.new_value(key))
            assert first.lines(key) == second.lines(key)
        assert not first.stepped and first.checked is None
        opt.step()


def test_a_fresh_optimizer_gets_no_state_from_explaining():
    for cls in (cr.optim.SGD, cr.optim.Adam, cr.optim.RMSprop):
        w = cr.tensor([1.0, 2.0], requires_grad=True)
        opt = cls([w], lr=0.1, momentum=0.9) if cls is not cr.optim.Adam else cls([w])
        (w * w).sum().backward()
        cr.explain_step(opt)
        assert w not in opt.state


def _text(name, kw, lang):
    crp, opt, thp, _ = _pair(name, kw)
    _backward(crp, thp, 0)
    opt.step()  # a second step shows the buffers' previous values
    _backward(crp, thp, 1)
    return cr.explain_step(opt, lang=lang).to_text()


@pytest.mark.parametrize("name, kw, en, zh", [
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3),
     ["momentum buffer: buf = momentum × buf + (1 - dampening) × g = 0.9 ×", "0.7 ×"],
     ["动量缓存"]),
    ("Adam", dict(lr=0.05, amsgrad=True), ["AMSGrad: v_max = max(v_max, v)", "v̂ = v_max /"],
     ["偏差修正", "v̂ = v_max /"]),
    ("AdamW", dict(lr=0.05, weight_decay=0.1), ["decoupled weight decay: W = W × (1 - lr × wd)"],
     ["解耦权重衰减"]),
    ("RMSprop", dict(lr=0.01, alpha=0.9), ["square average v = α × v + (1 - α) × g² = 0.9 ×",
                                           "denominator avg = √v + ε", "s_new = s_old - lr × g"],
     ["梯度平方的滑动平均", "分母", "学习率"]),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5),
     ["gradient average (centered)", "avg = √(v - ḡ²) + ε", "buf = momentum × buf + g / avg",
      "b_new = b_old - lr × buf"],
     ["梯度的滑动平均", "动量缓存"]),
    ("Adagrad", dict(lr=0.1, lr_decay=0.5),
     ["step t = 2", "sum of squared gradients: s = s + g²",
      "clr = lr / (1 + (t - 1) × lr_decay) = 0.1000 / (1 + 1 × 0.5) = 0.0667",
      "W_new = W_old - clr × g / (√s + ε)"],
     ["步数 t = 2", "梯度平方和", "衰减后的学习率"]),
])
def test_sentences_in_both_languages(name, kw, en, zh):
    text_en, text_zh = _text(name, kw, "en"), _text(name, kw, "zh")
    for phrase in en:
        assert phrase in text_en, text_en
    for phrase in zh:
        assert phrase in text_zh, text_zh
    assert "learning rate" not in text_zh and "momentum buffer" not in text_zh


def test_adagrad_first_step_by_hand():
    w = cr.tensor(1.0, requires_grad=True, name="w")
    opt = cr.optim.Adagrad([w], lr=0.5, initial_accumulator_value=5.0)
    (w * 2.0).backward()
    rep = cr.explain_step(opt)
    # s = 5 + 4 = 9, w = 1 - 0.5 * 2 / 3
    assert round(rep.new_value("w"), 6) == round(1 - 1 / 3, 6)
    assert "s = s + g² = 5.0000 + 4.0000 = 9.0000" in str(rep)


def test_rmsprop_first_step_by_hand():
    w = cr.tensor(1.0, requires_grad=True, name="w", dtype=cr.float64)
    opt = cr.optim.RMSprop([w], lr=0.01, alpha=0.75, eps=0.0)
    (w * 2.0).backward()
    rep = cr.explain_step(opt)
    # v = 0.25 * 4 = 1, avg = 1, w = 1 - 0.01 * 2
    assert rep.new_value("w") == pytest.approx(0.98, abs=1e-15)
    assert "v = α × v + (1 - α) × g² = 0.75 × 0.0000 + 0.25 × 4.0000 = 1.0000" in str(rep)


def test_an_optimizer_subclass_without_sentences_is_refused():
    class SignSGD(cr.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        def _hyper(self, group):
            return (group["lr"],)

        def _update(self, h, w, g, state, terms=None):
            w -= h[0] * np.sign(g)

    w = cr.tensor([1.0, -1.0], requires_grad=True)
    (w * w).sum().backward()
    with pytest.raises(TypeError, match="SignSGD is not supported"):
        cr.explain_step(SignSGD([w]))


@pytest.mark.parametrize("module", ["chainrule.explain.updates", "chainrule.explain.step"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
