"""LBFGS matches PyTorch step by step (both line-search settings, a short history, early exits),
resumes exactly from its state dict, and refuses what it cannot do with a clear message."""

import numpy as np
import pytest
import torch
from optim_twin import Twin

import chainrule as cr

# With the default lr=1 and no line search this problem overshoots (the loss jumps from 1.4 to
# 4.0) and both libraries' last-bit rounding differences grow to 1e-8: no configuration here is
# chaotic, so float64 results agree to 1e-10.
CONFIGS = [
    pytest.param(dict(lr=0.3), id="fixed-step"),
    pytest.param(dict(lr=0.5, max_iter=7, history_size=3), id="fixed-step-short-history"),
    pytest.param(dict(line_search_fn="strong_wolfe"), id="strong-wolfe"),
    pytest.param(dict(line_search_fn="strong_wolfe", max_iter=6, max_eval=9, history_size=2),
                 id="strong-wolfe-eval-budget"),
    pytest.param(dict(lr=0.8, max_iter=4, tolerance_change=1e-4, tolerance_grad=1e-3),
                 id="loose-tolerances"),
]


def _closures(twin, opt_cr, opt_th):
    def cr_closure():
        opt_cr.zero_grad()
        loss = twin.cr_loss()
        loss.backward()
        return loss

    def th_closure():
        opt_th.zero_grad()
        loss = twin.th_loss()
        loss.backward()
        return loss

    return cr_closure, th_closure


def _state_matches(opt_cr, p_cr, opt_th, p_th):
    ours, theirs = opt_cr.state[p_cr], opt_th.state[p_th]
    assert set(ours) == set(theirs)
    assert ours["func_evals"] == theirs["func_evals"]
    assert ours["n_iter"] == theirs["n_iter"]
    assert len(ours["old_dirs"]) == len(theirs["old_dirs"])
    np.testing.assert_allclose(ours["d"], theirs["d"].numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kwargs", CONFIGS)
def test_lbfgs_matches_torch_float64(kwargs):
    twin = Twin()
    opt_cr = cr.optim.LBFGS(twin.cr_params, **kwargs)
    opt_th = torch.optim.LBFGS(twin.th_params, **kwargs)
    cr_closure, th_closure = _closures(twin, opt_cr, opt_th)
    losses = []
    for step in range(5):
        loss_cr, loss_th = opt_cr.step(cr_closure), opt_th.step(th_closure)
        assert isinstance(loss_cr, cr.Tensor)
        assert loss_cr.item() == pytest.approx(loss_th.item(), rel=1e-11)
        twin.assert_close(where=f"after step {step}")
        _state_matches(opt_cr, twin.cr_params[0], opt_th, twin.th_params[0])
        losses.append(loss_cr.item())
    assert losses[-1] < 0.1 * losses[0]


# float32: a dozen iterations per step amplify the libraries' different last-bit rounding of
# sums and dot products, so two steps of configurations that converge steadily, at 5e-5.
@pytest.mark.parametrize("kwargs", [
    dict(lr=0.5, max_iter=7, history_size=3),
    dict(line_search_fn="strong_wolfe", max_iter=6, max_eval=9, history_size=2),
    dict(lr=0.8, max_iter=4, tolerance_change=1e-4, tolerance_grad=1e-3),
])
def test_lbfgs_matches_torch_float32(kwargs):
    twin = Twin(dtype="float32")
    opt_cr = cr.optim.LBFGS(twin.cr_params, **kwargs)
    opt_th = torch.optim.LBFGS(twin.th_params, **kwargs)
    cr_closure, th_closure = _closures(twin, opt_cr, opt_th)
    for step in range(2):
        opt_cr.step(cr_closure)
        opt_th.step(th_closure)
        twin.assert_close(atol=5e-5, where=f"after step {step}")
    state = opt_cr.state[twin.cr_params[0]]
    assert state["d"].dtype == np.float32 and state["prev_flat_grad"].dtype == np.float32


def test_lbfgs_skips_parameters_without_gradient_like_torch():
    twin = Twin()
    extra_cr = cr.tensor(np.ones(3), dtype="float64", requires_grad=True)
    extra_th = torch.ones(3, dtype=torch.float64, requires_grad=True)
    opt_cr = cr.optim.LBFGS([*twin.cr_params, extra_cr], max_iter=5)
    opt_th = torch.optim.LBFGS([*twin.th_params, extra_th], max_iter=5)
    cr_closure, th_closure = _closures(twin, opt_cr, opt_th)
    for step in range(3):
        opt_cr.step(cr_closure)
        opt_th.step(th_closure)
        twin.assert_close(where=f"after step {step}")
    np.testing.assert_array_equal(extra_cr.detach().numpy(), 1.0)


def test_lbfgs_with_a_scheduler_matches_torch():
    twin = Twin()
    opt_cr = cr.optim.LBFGS(twin.cr_params, lr=0.9, max_iter=3)
    opt_th = torch.optim.LBFGS(twin.th_params, lr=0.9, max_iter=3)
    sched_cr = cr.optim.lr_scheduler.StepLR(opt_cr, step_size=2, gamma=0.5)
    sched_th = torch.optim.lr_scheduler.StepLR(opt_th, step_size=2, gamma=0.5)
    cr_closure, th_closure = _closures(twin, opt_cr, opt_th)
    for step in range(6):
        opt_cr.step(cr_closure)
        opt_th.step(th_closure)
        sched_cr.step()
        sched_th.step()
        twin.assert_close(where=f"after step {step}")
        assert sched_cr.get_last_lr() == sched_th.get_last_lr()


def _run(kwargs, steps, start=None, state=None):
    twin = Twin()
    if start is not None:
        for p, q in zip(twin.cr_params, start):
            p.data.copy_(cr.tensor(q))
    opt = cr.optim.LBFGS(twin.cr_params, **kwargs)
    if state is not None:
        opt.load_state_dict(state)

    def closure():
        opt.zero_grad()
        loss = twin.cr_loss()
        loss.backward()
        return loss

    for _ in range(steps):
        opt.step(closure)
    return twin, opt


@pytest.mark.parametrize("kwargs", [dict(max_iter=4, history_size=3),
                                    dict(max_iter=3, line_search_fn="strong_wolfe")],
                         ids=["fixed-step", "strong-wolfe"])
def test_lbfgs_resumes_exactly_from_a_saved_state_dict(kwargs, tmp_path):
    straight, _ = _run(kwargs, 6)
    first, opt = _run(kwargs, 3)
    path = str(tmp_path / "lbfgs.safetensors")
    cr.save(opt.state_dict(), path)
    history = [a.copy() for a in opt.state[first.cr_params[0]]["old_dirs"]]
    opt.step(lambda: first.cr_loss())  # later steps must not change what was saved
    start = [p.detach().numpy().copy() for p in _run(kwargs, 3)[0].cr_params]
    resumed, _ = _run(kwargs, 3, start=start, state=cr.load(path))
    for a, b in zip(resumed.cr_params, straight.cr_params):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    saved = cr.load(path)["state"][0]["old_dirs"]
    for a, b in zip(saved, history):
        np.testing.assert_array_equal(a.detach().numpy(), b)


def test_lbfgs_state_dict_is_a_snapshot():
    twin, opt = _run(dict(max_iter=3, history_size=2), 2)
    sd = opt.state_dict()
    before = [a.copy() for a in sd["state"][0]["old_dirs"]]
    d = sd["state"][0]["d"].copy()
    _run_more = opt.step

    def closure():
        opt.zero_grad()
        loss = twin.cr_loss()
        loss.backward()
        return loss

    _run_more(closure)
    assert len(sd["state"][0]["old_dirs"]) == len(before)
    for a, b in zip(sd["state"][0]["old_dirs"], before):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(sd["state"][0]["d"], d)


def test_lbfgs_refuses_what_it_cannot_do():
    twin = Twin()
    w1, b1, w2, b2 = twin.cr_params
    with pytest.raises(ValueError, match="one group"):
        cr.optim.LBFGS([{"params": [w1, b1]}, {"params": [w2, b2]}])
    opt = cr.optim.LBFGS([w1, b1])
    with pytest.raises(ValueError, match="one group"):
        opt.add_param_group({"params": [w2, b2]})
    with pytest.raises(TypeError, match="needs a closure"):
        opt.step()
    with pytest.raises(ValueError, match=r"^LBFGS: invalid line_search_fn: 'armijo'"):
        cr.optim.LBFGS([w1], line_search_fn="armijo")
    for key in ("history_size", "max_iter", "max_eval"):
        with pytest.raises(ValueError, match=rf"^LBFGS: invalid {key}: 0"):
            cr.optim.LBFGS([w1], **{key: 0})
    with pytest.raises(ValueError, match=r"^LBFGS: invalid tolerance_grad"):
        cr.optim.LBFGS([w1], tolerance_grad=-1.0)
    w1.grad = cr.zeros_like(w1)
    with pytest.raises(NotImplementedError, match="no per-parameter update"):
        opt.update_terms(w1)
    with pytest.raises(TypeError, match="LBFGS is not supported"):
        cr.explain_step(opt)


def test_lbfgs_closure_runs_with_grad_enabled_and_steps_bump_versions():
    w = cr.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    opt = cr.optim.LBFGS([w], max_iter=2)
    modes = []

    def closure():
        modes.append(cr.is_grad_enabled())
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    version = w._version
    with cr.no_grad():
        opt.step(closure)
    assert modes and all(modes)
    assert w._version > version
