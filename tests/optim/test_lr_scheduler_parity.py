"""Representative optimizer configurations under every scheduler match PyTorch for 20 steps:
parameters, learning rates and cycled momenta after each step."""

import math

import numpy as np
import pytest
import torch
from optim_twin import SCHEDULED, Twin

import chainrule as cr

STEPS = 20
# A validation metric with plateaus, near-ties at the threshold and improvements.
METRICS = [1.0, 0.9, 0.9, 0.95, 0.89995, 0.9, 0.91, 0.8, 0.8, 0.8, 0.8, 0.79999, 0.7, 0.7,
           0.71, 0.72, 0.73, 0.6, 0.6, 0.6]


def _cycles(opt):
    return "momentum" in opt.defaults or "betas" in opt.defaults


def _sched(name, build, metric=None):
    """build(lr_scheduler module, optimizer) makes the same scheduler in either framework;
    metric(step) is the value a ReduceLROnPlateau is stepped with."""
    return pytest.param(build, metric, id=name)


SCHEDULERS = [
    _sched("none", lambda m, o: None),
    _sched("step", lambda m, o: m.StepLR(o, step_size=5, gamma=0.5)),
    _sched("multistep", lambda m, o: m.MultiStepLR(o, milestones=[12, 3, 7, 7], gamma=0.5)),
    _sched("exponential", lambda m, o: m.ExponentialLR(o, gamma=0.9)),
    _sched("cosine", lambda m, o: m.CosineAnnealingLR(o, T_max=8, eta_min=1e-3)),
    _sched("linear", lambda m, o: m.LinearLR(o, start_factor=0.25, end_factor=0.9,
                                             total_iters=6)),
    _sched("lambda", lambda m, o: m.LambdaLR(o, lambda e: 1.0 / (1.0 + 0.3 * e))),
    _sched("multiplicative", lambda m, o: m.MultiplicativeLR(o, lambda e: 0.95)),
    _sched("constant", lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=4)),
    _sched("polynomial", lambda m, o: m.PolynomialLR(o, total_iters=15, power=2.0)),
    _sched("onecycle-cos", lambda m, o: m.OneCycleLR(
        o, max_lr=0.1, total_steps=STEPS, cycle_momentum=_cycles(o))),
    _sched("onecycle-linear-3phase", lambda m, o: m.OneCycleLR(
        o, max_lr=0.05, epochs=4, steps_per_epoch=5, pct_start=0.25, anneal_strategy="linear",
        three_phase=True, base_momentum=0.8, max_momentum=0.9, div_factor=10.0,
        final_div_factor=100.0, cycle_momentum=_cycles(o))),
    _sched("sequential-warmup-cosine", lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.2, total_iters=5),
            m.CosineAnnealingLR(o, T_max=15, eta_min=1e-3)], milestones=[5])),
    _sched("warm-restarts", lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=1e-3)),
    _sched("cyclic-triangular2", lambda m, o: m.CyclicLR(
        o, base_lr=0.005, max_lr=0.05, step_size_up=3, step_size_down=4, mode="triangular2",
        cycle_momentum=_cycles(o))),
    _sched("plateau-min-rel", lambda m, o: m.ReduceLROnPlateau(
        o, factor=0.5, patience=1, threshold=1e-3, cooldown=1, min_lr=0.004),
        metric=lambda i: METRICS[i]),
    _sched("plateau-max-abs", lambda m, o: m.ReduceLROnPlateau(
        o, mode="max", factor=0.7, patience=1, threshold=0.005, threshold_mode="abs"),
        metric=lambda i: 1.0 - METRICS[i]),
]


def _momentum(group):
    return group["betas"][0] if "betas" in group else group.get("momentum")


@pytest.mark.parametrize("build, metric", SCHEDULERS)
@pytest.mark.parametrize("make_cr, make_th", SCHEDULED)
def test_optimizer_under_scheduler_matches_torch(make_cr, make_th, build, metric):
    twin = Twin()
    opt_cr, opt_th = make_cr(twin.cr_params), make_th(twin.th_params)
    sched_cr, sched_th = build(cr.optim.lr_scheduler, opt_cr), build(
        torch.optim.lr_scheduler, opt_th)
    lrs = []
    for step in range(STEPS):
        twin.cr_step(opt_cr)
        twin.th_step(opt_th)
        twin.assert_close(where=f"after step {step}")
        if sched_cr is not None:
            if metric is not None:
                sched_cr.step(metric(step))
                sched_th.step(metric(step))
            else:
                sched_cr.step()
                sched_th.step()
            np.testing.assert_allclose(sched_cr.get_last_lr(), sched_th.get_last_lr(),
                                       rtol=1e-12, atol=1e-15)
            assert sched_cr.last_epoch == sched_th.last_epoch
        for g_cr, g_th in zip(opt_cr.param_groups, opt_th.param_groups):
            assert g_cr["lr"] == pytest.approx(g_th["lr"], rel=1e-12, abs=1e-15)
            if _momentum(g_th) is not None:
                assert _momentum(g_cr) == pytest.approx(_momentum(g_th), rel=1e-12)
        lrs.append(opt_cr.param_groups[0]["lr"])
    if sched_cr is not None:
        assert len(set(lrs)) > 1, "the schedule never changed the lr"
    assert all(math.isfinite(lr) for lr in lrs)


class Decay:
    """A scale function object (its attributes travel in CyclicLR's state dict)."""

    def __init__(self):
        self.rate = 0.97

    def __call__(self, x):
        return self.rate ** x


CYCLIC = [
    ("triangular", dict(base_lr=0.01, max_lr=0.1, step_size_up=7)),
    ("triangular-asymmetric", dict(base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=5,
                                   step_size_down=11, base_momentum=[0.8, 0.7],
                                   max_momentum=[0.9, 0.95])),
    ("triangular2", dict(base_lr=0.01, max_lr=0.1, step_size_up=4, mode="triangular2")),
    ("exp-range", dict(base_lr=0.001, max_lr=0.1, step_size_up=6, mode="exp_range",
                       gamma=0.99)),
    ("scale-fn-cycle", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, scale_fn=Decay())),
    ("scale-fn-iterations", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, scale_fn=Decay(),
                                 scale_mode="iterations")),
    ("no-momentum-cycling", dict(base_lr=0.05, max_lr=0.2, step_size_up=4,
                                 cycle_momentum=False)),
]


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "NAdam"])
@pytest.mark.parametrize("kwargs", [k for _, k in CYCLIC], ids=[n for n, _ in CYCLIC])
def test_cyclic_lr_over_many_steps_matches_torch(kwargs, optimizer):
    def build(lib, params):
        options = {"momentum": 0.9} if optimizer == "SGD" else {}
        opt = getattr(lib.optim, optimizer)(
            [{"params": params[:2]}, {"params": params[2:]}], lr=0.01, **options)
        return opt, lib.optim.lr_scheduler.CyclicLR(opt, **kwargs)

    twin = Twin()
    opt_cr, sched_cr = build(cr, twin.cr_params)
    opt_th, sched_th = build(torch, twin.th_params)
    seen = set()
    for step in range(120):
        for g_cr, g_th in zip(opt_cr.param_groups, opt_th.param_groups):
            assert g_cr["lr"] == pytest.approx(g_th["lr"], rel=1e-12, abs=1e-15)
            assert _momentum(g_cr) == pytest.approx(_momentum(g_th), rel=1e-12)
        if step < 20:  # the parameters for a while (with momentum this large they blow up)
            twin.cr_step(opt_cr)
            twin.th_step(opt_th)
            twin.assert_close(where=f"after step {step}")
        else:
            opt_cr.step()
            opt_th.step()
        sched_cr.step()
        sched_th.step()
        assert sched_cr.last_epoch == sched_th.last_epoch
        np.testing.assert_allclose(sched_cr.get_last_lr(), sched_th.get_last_lr(), rtol=1e-12,
                                   atol=1e-15)
        seen.add(round(sched_cr.get_last_lr()[0], 12))
    assert len(seen) >= 5


def test_scheduler_names_are_pytorchs():
    assert sorted(cr.optim.lr_scheduler.__all__) == sorted(torch.optim.lr_scheduler.__all__)
    for name in torch.optim.lr_scheduler.__all__:
        assert hasattr(cr.optim.lr_scheduler, name), name
