"""The one per-parameter update: its float path agrees with its array path, its named terms are
PyTorch's buffers, and the loop in Optimizer.step serves any subclass."""

import doctest
import importlib

import numpy as np
import pytest
import torch
from optim_twin import CLASS_NAMES, OPTIMIZERS

import chainrule as cr

CONFIGS = [p.values[0] for p in OPTIMIZERS] + [
    lambda ps: cr.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.3, nesterov=False),
    lambda ps: cr.optim.SGD(ps, lr=0.1, weight_decay=0.2),
    lambda ps: cr.optim.SGD(ps, lr=0.1, maximize=True),
    lambda ps: cr.optim.AdamW(ps, lr=0.05, weight_decay=0.1, amsgrad=True, maximize=True),
    lambda ps: cr.optim.RMSprop(ps, lr=0.01, momentum=0.5),
]
IDS = [p.id for p in OPTIMIZERS] + ["sgd-dampening", "sgd-wd", "sgd-maximize-plain",
                                    "adamw-amsgrad-maximize", "rmsprop-momentum"]


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-14), ("float32", 2e-6)])
@pytest.mark.parametrize("shape", [(), (1,), (1, 1)], ids=str)
@pytest.mark.parametrize("make", CONFIGS, ids=IDS)
def test_float_path_agrees_with_array_path(make, shape, dtype, rtol):
    rng = np.random.default_rng(1)
    start = np.array(rng.standard_normal(shape), dtype=dtype)
    w_one, w_arr = (cr.tensor(start.copy(), requires_grad=True) for _ in range(2))
    opt = make([w_one, w_arr])
    h = opt._hyper(opt.param_groups[0])
    s_one, s_arr = opt.state[w_one], opt.state[w_arr]
    for _ in range(6):
        g = np.array(rng.standard_normal(shape), dtype=dtype)
        opt._update_one(h, w_one.detach().numpy(), g, s_one)
        opt._update(h, w_arr.detach().numpy(), g, s_arr)
        np.testing.assert_allclose(w_one.detach().numpy(), w_arr.detach().numpy(), rtol=rtol,
                                   atol=rtol)
        assert s_one.keys() == s_arr.keys()
        for key in s_arr:
            np.testing.assert_allclose(s_one[key], s_arr[key], rtol=rtol, atol=rtol)
            assert np.asarray(s_one[key]).dtype == np.asarray(s_arr[key]).dtype
    assert not np.array_equal(w_arr.detach().numpy(), start)


# term name -> (torch state key, how the term follows from torch's state after the step)
_FROM_TORCH = {
    "buf": ("momentum_buffer", lambda s, hp: s["momentum_buffer"]),
    "m": ("exp_avg", lambda s, hp: s["exp_avg"]),
    "v": ("exp_avg_sq", lambda s, hp: s["exp_avg_sq"]),
    "vmax": ("max_exp_avg_sq", lambda s, hp: s["max_exp_avg_sq"]),
    "m_hat": ("exp_avg", lambda s, hp: s["exp_avg"] / (1 - hp["betas"][0] ** s["step"])),
    "v_hat": ("exp_avg_sq", lambda s, hp: s.get("max_exp_avg_sq", s["exp_avg_sq"])
              / (1 - hp["betas"][1] ** s["step"])),
    "square_avg": ("square_avg", lambda s, hp: s["square_avg"]),
    "grad_avg": ("grad_avg", lambda s, hp: s["grad_avg"]),
    "sum": ("sum", lambda s, hp: s["sum"]),
    "t": ("step", lambda s, hp: s["step"]),
    "acc_delta": ("acc_delta", lambda s, hp: s["acc_delta"]),
    "exp_inf": ("exp_inf", lambda s, hp: s["exp_inf"]),
    "mu_product": ("mu_product", lambda s, hp: s["mu_product"]),
    "ax": ("ax", lambda s, hp: s["ax"]),
}


@pytest.mark.parametrize("make_cr, make_th", OPTIMIZERS)
def test_recorded_terms_are_pytorchs_values(make_cr, make_th):
    rng = np.random.default_rng(2)
    start = rng.standard_normal((3, 2))
    w = cr.tensor(start, dtype="float64", requires_grad=True)
    tw = torch.tensor(start, requires_grad=True)
    opt, th_opt = make_cr([w]), make_th([tw])
    seen = set()
    for _ in range(4):
        g = rng.standard_normal((3, 2))
        w.grad, tw.grad = cr.tensor(g, dtype="float64"), torch.tensor(g)
        u = opt.update_terms(w)
        th_opt.step()
        opt.step()
        np.testing.assert_allclose(u.new, tw.detach().numpy(), rtol=1e-13, atol=1e-14)
        np.testing.assert_array_equal(u.grad, g)
        state = {k: (v.numpy() if isinstance(v, torch.Tensor) else v)
                 for k, v in th_opt.state[tw].items()}
        state["step"] = int(state.get("step", 0))
        hp = th_opt.param_groups[0]
        for name, value in u.terms.items():
            assert name in type(opt).terms, f"{name} is not declared"
            if name in _FROM_TORCH:
                np.testing.assert_allclose(value, _FROM_TORCH[name][1](state, hp), rtol=1e-12,
                                           err_msg=name)
            seen.add(name)
    assert "g" in seen


def test_every_declared_term_is_recorded_somewhere():
    recorded = {}
    for make in CONFIGS:
        w = cr.tensor([0.5, -1.5], dtype="float64", requires_grad=True)
        opt = make([w])
        # eight steps: RAdam's rectified step starts at the sixth
        for step in range(8):
            w.grad = cr.tensor([1.0, 2.0 - step], dtype="float64")
            # AdamW shares Adam's declaration: key by the declaring dict
            recorded.setdefault(id(type(opt).terms), set()).update(opt.update_terms(w).terms)
            opt.step()
    for name in CLASS_NAMES:
        cls = getattr(cr.optim, name)
        assert set(cls.terms) == recorded[id(cls.terms)], cls.__name__


def test_update_terms_arguments():
    w, v = cr.tensor([1.0, 2.0], requires_grad=True), cr.tensor([1.0], requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.1)
    assert opt.update_terms(w) is None  # no gradient: step() would leave it alone
    (w * w).sum().backward()
    np.testing.assert_allclose(opt.update_terms(w, lr=0.5).new, [0.0, 0.0])
    np.testing.assert_allclose(opt.update_terms(w).new, [0.8, 1.6])
    assert opt.param_groups[0]["lr"] == 0.1
    with pytest.raises(ValueError, match="not one of this optimizer's parameters"):
        opt.update_terms(v)


class SignSGD(cr.optim.Optimizer):
    """A subclass that writes only its update: Optimizer.step supplies the loop."""

    terms = {"d": "the sign of the gradient"}

    def __init__(self, params, lr=0.1):
        super().__init__(params, dict(lr=lr))

    def _hyper(self, group):
        return (group["lr"],)

    def _update(self, h, w, g, state, terms=None):
        state["steps"] = state.get("steps", 0) + 1
        d = np.sign(g)
        if terms is not None:
            terms["d"] = d
        w -= h[0] * d


def test_the_loop_in_step_serves_a_subclass():
    a, b = cr.tensor([1.0, -2.0], requires_grad=True), cr.tensor(3.0, requires_grad=True)
    unused = cr.tensor([5.0], requires_grad=True)
    opt = SignSGD([{"params": [a, unused]}, {"params": [b], "lr": 0.5}])
    (a * a).sum().backward()
    (b * 2).backward()
    versions = a._version, b._version, unused._version
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9, -1.9])
    assert b.item() == 2.5  # the one-element path falls back to _update
    assert (a._version, b._version, unused._version) == (versions[0] + 1, versions[1] + 1,
                                                         versions[2])
    assert unused not in opt.state and opt.state[a] == {"steps": 1}
    assert opt.update_terms(a)["d"].tolist() == [1.0, -1.0]
    assert opt.state[a] == {"steps": 1}


def test_an_optimizer_without_an_update_says_so():
    class Nothing(cr.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})

    w = cr.tensor([1.0], requires_grad=True)
    (w * 2).sum().backward()
    with pytest.raises(NotImplementedError, match="Nothing does not define its update"):
        Nothing([w]).step()


def test_plain_sgd_keeps_no_state_like_pytorch():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert len(opt.state) == 0


@pytest.mark.parametrize("module", ["optimizer", "sgd", "adam", "adamw", "rmsprop", "adagrad",
                                    "adadelta", "adamax", "nadam", "radam", "asgd", "lbfgs",
                                    "sparse_adam", "_checks", "_torch_options",
                                    "lr_scheduler"])
def test_docstring_examples_run(module):
    mod = importlib.import_module(f"chainrule.optim.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD"])
def test_explain_step_refuses_optimizers_without_sentences_and_points_to_update_terms(name):
    w = cr.tensor([1.0, -2.0], requires_grad=True)
    opt = getattr(cr.optim, name)([w])
    (w * w).sum().backward()
    with pytest.raises(TypeError, match=rf"{name} is not supported .*{name}.update_terms\(p\)"):
        cr.explain_step(opt)
    u = opt.update_terms(w)
    assert u.new.shape == (2,) and not np.array_equal(u.new, u.old) and "g" in u
