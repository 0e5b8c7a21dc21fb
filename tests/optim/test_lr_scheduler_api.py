"""Scheduler behaviour beyond the lr sequence: resuming from state dicts, composing
schedulers, per-group settings and input validation."""

import json
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.optim.lr_scheduler as lrs


def _sgd(n_groups=1, lr=0.1, momentum=0.9):
    groups = [{"params": [cr.zeros(2, requires_grad=True)]} for _ in range(n_groups)]
    return cr.optim.SGD(groups, lr=lr, momentum=momentum)


def _torch_sgd(n_groups=1, lr=0.1, momentum=0.9):
    groups = [{"params": [torch.zeros(2, requires_grad=True)]} for _ in range(n_groups)]
    return torch.optim.SGD(groups, lr=lr, momentum=momentum)


class Halving:
    """A callable object: its attributes travel in LambdaLR's state dict."""

    def __init__(self):
        self.rate = 0.5

    def __call__(self, epoch):
        return self.rate ** epoch


RESUMABLE = [
    ("step", lambda m, o: m.StepLR(o, step_size=3, gamma=0.5)),
    ("multistep", lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5, 9])),
    ("exponential", lambda m, o: m.ExponentialLR(o, gamma=0.8)),
    ("cosine", lambda m, o: m.CosineAnnealingLR(o, T_max=6, eta_min=0.01)),
    ("linear", lambda m, o: m.LinearLR(o, start_factor=0.1, total_iters=8)),
    ("lambda", lambda m, o: m.LambdaLR(o, Halving())),
    ("onecycle", lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=16, three_phase=True)),
    ("plateau", lambda m, o: m.ReduceLROnPlateau(o, patience=1, cooldown=1, factor=0.5)),
    ("sequential", lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.5, total_iters=2), m.ExponentialLR(o, gamma=0.8),
            m.StepLR(o, step_size=2)], milestones=[3, 8])),
    ("chained", lambda m, o: m.ChainedScheduler(
        [m.LinearLR(o, start_factor=0.5, total_iters=4), m.ExponentialLR(o, gamma=0.9)])),
    ("warm-restarts", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=3)),
    ("cyclic", lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.2, step_size_up=3,
                                       step_size_down=2, mode="triangular2")),
    ("cyclic-scale-fn", lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.2, step_size_up=2,
                                                scale_fn=Halving())),
]
METRICS = [3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5]


def _advance(opt, sched, epochs, start=0):
    lrs_seen = []
    for epoch in range(start, start + epochs):
        opt.step()
        if isinstance(sched, lrs.ReduceLROnPlateau):
            sched.step(METRICS[epoch])
        else:
            sched.step()
        lrs_seen.append((sched.get_last_lr(), dict(opt.param_groups[0]).get("momentum")))
    return lrs_seen


@pytest.mark.parametrize("build", [b for _, b in RESUMABLE], ids=[n for n, _ in RESUMABLE])
def test_state_dicts_resume_the_schedule_exactly(build, tmp_path):
    opt = _sgd()
    straight = _advance(opt, build(lrs, opt), 15)

    opt = _sgd()
    sched = build(lrs, opt)
    _advance(opt, sched, 6)
    json.dumps(sched.state_dict())  # plain values only: any checkpoint format can hold it
    path = str(tmp_path / "ckpt.safetensors")
    cr.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, path)
    _advance(opt, sched, 2)  # training went on after the checkpoint

    opt2 = _sgd()
    sched2 = build(lrs, opt2)  # built first, as in PyTorch, then both states are loaded
    ckpt = cr.load(path)
    opt2.load_state_dict(ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    assert _advance(opt2, sched2, 9, start=6) == straight[6:]


def test_lambda_state_dict_keeps_callable_object_attributes():
    opt = _sgd()
    fn = Halving()
    sched = lrs.LambdaLR(opt, [fn])
    fn.rate = 0.25
    other = Halving()
    sched2 = lrs.LambdaLR(_sgd(), other)
    sched2.load_state_dict(sched.state_dict())
    assert other.rate == 0.25
    assert lrs.LambdaLR(opt, lambda e: 1.0).state_dict()["lr_lambdas"] == [None]


def test_two_schedulers_on_one_optimizer_compose_like_torch():
    opt, th = _sgd(), _torch_sgd()
    ours = [lrs.StepLR(opt, step_size=3, gamma=0.5), lrs.ExponentialLR(opt, gamma=0.9),
            lrs.MultiStepLR(opt, milestones=[4], gamma=0.1)]
    theirs = [torch.optim.lr_scheduler.StepLR(th, step_size=3, gamma=0.5),
              torch.optim.lr_scheduler.ExponentialLR(th, gamma=0.9),
              torch.optim.lr_scheduler.MultiStepLR(th, milestones=[4], gamma=0.1)]
    for _ in range(10):
        opt.step()
        th.step()
        for a, b in zip(ours, theirs):
            a.step()
            b.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(th.param_groups[0]["lr"], rel=1e-13)
        assert ours[-1].get_last_lr() == pytest.approx(theirs[-1].get_last_lr(), rel=1e-13)


PER_GROUP = [
    ("lambda", lambda m, o: m.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: 1.0 / (e + 1)])),
    ("onecycle", lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 2.0], total_steps=10,
                                           base_momentum=[0.8, 0.7], max_momentum=0.9,
                                           anneal_strategy="linear")),
    ("plateau", lambda m, o: m.ReduceLROnPlateau(o, patience=0, factor=0.5,
                                                 min_lr=[0.05, 0.001])),
]


@pytest.mark.parametrize("build", [b for _, b in PER_GROUP], ids=[n for n, _ in PER_GROUP])
def test_per_group_settings_match_torch(build):
    opt, th = _sgd(2), _torch_sgd(2)
    ours, theirs = build(lrs, opt), build(torch.optim.lr_scheduler, th)
    for _ in range(10):
        opt.step()
        th.step()
        if isinstance(ours, lrs.ReduceLROnPlateau):
            ours.step(cr.tensor(1.0))  # a one-element tensor works as the metric
            theirs.step(1.0)
        else:
            ours.step()
            theirs.step()
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-13)
        for g, h in zip(opt.param_groups, th.param_groups):
            assert g["momentum"] == pytest.approx(h["momentum"], rel=1e-13)
    assert len(set(ours.get_last_lr())) == 2


def test_get_last_lr_is_a_copy_and_submodule_is_exposed():
    opt = _sgd()
    sched = lrs.StepLR(opt, step_size=1)
    sched.get_last_lr().append(5.0)
    assert sched.get_last_lr() == [0.1]
    assert cr.optim.lr_scheduler is lrs
    assert opt.param_groups[0]["initial_lr"] == 0.1


def test_onecycle_cycles_adam_beta1_and_stops_at_total_steps():
    w = cr.zeros(2, requires_grad=True)
    opt = cr.optim.Adam([w], lr=0.1, betas=(0.9, 0.99))
    sched = lrs.OneCycleLR(opt, max_lr=0.1, total_steps=4, base_momentum=0.8)
    assert opt.param_groups[0]["betas"] == (0.95, 0.99)
    for _ in range(4):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="total_steps"):
        sched.step()


BAD_SCHEDULERS = [
    lambda o: lrs.StepLR(o, step_size=0),
    lambda o: lrs.StepLR(o, step_size=2.5),
    lambda o: lrs.MultiStepLR(o, milestones=[2, -1]),
    lambda o: lrs.CosineAnnealingLR(o, T_max=0),
    lambda o: lrs.LinearLR(o, start_factor=0.0),
    lambda o: lrs.LinearLR(o, end_factor=1.5),
    lambda o: lrs.LinearLR(o, total_iters=0),
    lambda o: lrs.ConstantLR(o, factor=2.0),
    lambda o: lrs.PolynomialLR(o, total_iters=0),
    lambda o: lrs.LambdaLR(o, [lambda e: 1.0, lambda e: 1.0]),
    lambda o: lrs.OneCycleLR(o, max_lr=1.0),
    lambda o: lrs.OneCycleLR(o, max_lr=1.0, total_steps=0),
    lambda o: lrs.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1.5),
    lambda o: lrs.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="exp"),
    lambda o: lrs.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=10),
    lambda o: lrs.ReduceLROnPlateau(o, factor=1.0),
    lambda o: lrs.ReduceLROnPlateau(o, mode="lowest"),
    lambda o: lrs.ReduceLROnPlateau(o, threshold_mode="relative"),
    lambda o: lrs.ReduceLROnPlateau(o, patience=-1),
    lambda o: lrs.ReduceLROnPlateau(o, cooldown=-2),
    lambda o: lrs.ReduceLROnPlateau(o, min_lr=[0.1, 0.2]),
    lambda o: lrs.ExponentialLR(o, gamma=0.5, last_epoch=3),  # resuming needs initial_lr
    lambda o: lrs.CyclicLR(o, base_lr=0.1, max_lr=1.0, step_size_up=0),
    lambda o: lrs.CyclicLR(o, base_lr=0.1, max_lr=1.0, step_size_down=-1),
    lambda o: lrs.CyclicLR(o, base_lr=0.1, max_lr=1.0, mode="sawtooth"),
    lambda o: lrs.CyclicLR(o, base_lr=0.1, max_lr=1.0, scale_mode="epochs"),
    lambda o: lrs.CyclicLR(o, base_lr=[0.1, 0.2], max_lr=1.0),
]


@pytest.mark.parametrize("build", BAD_SCHEDULERS)
def test_bad_scheduler_arguments_raise_value_error(build):
    with pytest.raises(ValueError):
        build(_sgd())


def test_onecycle_momentum_needs_an_optimizer_with_momentum():
    opt = cr.optim.Adagrad([cr.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="momentum"):
        lrs.OneCycleLR(opt, max_lr=1.0, total_steps=5)
    lrs.OneCycleLR(opt, max_lr=1.0, total_steps=5, cycle_momentum=False)
    with pytest.raises(ValueError, match="momentum"):
        lrs.CyclicLR(opt, base_lr=0.1, max_lr=1.0)
    lrs.CyclicLR(opt, base_lr=0.1, max_lr=1.0, cycle_momentum=False)


def test_cyclic_after_another_scheduler_starts_like_torch():
    # PyTorch takes the first lr from the groups' initial_lr, which an earlier scheduler set.
    opt, th = _sgd(lr=0.3), _torch_sgd(lr=0.3)
    lrs.ExponentialLR(opt, gamma=0.5)
    torch.optim.lr_scheduler.ExponentialLR(th, gamma=0.5)
    ours = lrs.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=2)
    theirs = torch.optim.lr_scheduler.CyclicLR(th, base_lr=0.01, max_lr=0.1, step_size_up=2)
    for _ in range(6):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-13)
        opt.step()
        th.step()
        ours.step()
        theirs.step()


@pytest.mark.parametrize("cls", [lrs.StepLR, lrs.ExponentialLR, lrs.CosineAnnealingLR,
                                 lrs.OneCycleLR, lrs.ReduceLROnPlateau, lrs.LambdaLR,
                                 lrs.MultiStepLR, lrs.LinearLR])
def test_scheduler_on_a_non_optimizer_raises_type_error(cls):
    torch_opt = _torch_sgd()
    with pytest.raises(TypeError, match="Optimizer"):
        cls(torch_opt, 1)
    with pytest.raises(TypeError, match="Optimizer"):
        lrs.CyclicLR(torch_opt, 0.1, 1.0)


def test_load_state_dict_rejects_foreign_keys():
    sched = lrs.StepLR(_sgd(), step_size=2)
    with pytest.raises(ValueError, match="unexpected"):
        sched.load_state_dict({"T_max": 3})


def test_stepping_the_scheduler_before_the_optimizer_warns():
    opt = _sgd()
    sched = lrs.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match="before optimizer.step"):
        sched.step()
    opt = _sgd()
    sched = lrs.StepLR(opt, step_size=1)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()
        opt.step()
        sched.step()


COMPOSITE = [
    ("sequential-3", lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.5, total_iters=2), m.ExponentialLR(o, gamma=0.8),
            m.MultiStepLR(o, milestones=[1, 3])], milestones=[3, 8])),
    ("sequential-4", lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.25, total_iters=3), m.PolynomialLR(o, total_iters=4),
            m.CosineAnnealingLR(o, T_max=3), m.StepLR(o, step_size=2)],
        milestones=[4, 6, 9])),
    ("chained", lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.1, total_iters=3), m.ExponentialLR(o, gamma=0.9)])),
    ("warm-restarts-mult1", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=4, eta_min=0.01)),
]


@pytest.mark.parametrize("build", [b for _, b in COMPOSITE], ids=[n for n, _ in COMPOSITE])
def test_composite_schedules_match_torch(build):
    opt, th = _sgd(), _torch_sgd()
    ours, theirs = build(lrs, opt), build(torch.optim.lr_scheduler, th)
    seen = []
    for _ in range(14):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-13, abs=1e-16)
        assert opt.param_groups[0]["lr"] == pytest.approx(th.param_groups[0]["lr"], rel=1e-13)
        seen.append(ours.get_last_lr()[0])
        opt.step()
        th.step()
        ours.step()
        theirs.step()
    assert len(set(seen)) > 3


def test_warm_restarts_with_fractional_epochs_match_torch():
    opt, th = _sgd(), _torch_sgd()
    ours = lrs.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.001)
    theirs = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(th, T_0=2, T_mult=2,
                                                                  eta_min=0.001)
    for epoch in range(9):
        for i in range(3):
            opt.step()
            th.step()
            ours.step(epoch + i / 3)
            theirs.step(epoch + i / 3)
            assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-13)
            assert ours.last_epoch == theirs.last_epoch and ours.T_i == theirs.T_i
    with pytest.raises(ValueError, match="epoch"):
        ours.step(-1)


def test_composite_scheduler_arguments_are_checked():
    opt, other = _sgd(), _sgd()
    a, b = lrs.StepLR(opt, step_size=2), lrs.ExponentialLR(opt, gamma=0.5)
    with pytest.raises(ValueError, match="milestone"):
        lrs.SequentialLR(opt, [a, b], milestones=[1, 2])
    with pytest.raises(ValueError, match="different optimizer"):
        lrs.SequentialLR(other, [a, b], milestones=[2])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        lrs.ChainedScheduler([a, lrs.ReduceLROnPlateau(opt)])
    with pytest.raises(TypeError, match="not a scheduler"):
        lrs.SequentialLR(opt, [a, "cosine"], milestones=[2])
    with pytest.raises(ValueError, match="at least one"):
        lrs.ChainedScheduler([])
    with pytest.raises(ValueError):
        lrs.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError):
        lrs.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
    with pytest.raises(TypeError, match="Optimizer"):
        lrs.SequentialLR(_torch_sgd(), [a], milestones=[])


def test_training_with_a_scheduler_resumes_exactly_from_a_checkpoint(tmp_path):
    from optim_twin import Twin

    def setup():
        twin = Twin()
        opt = cr.optim.Adam(twin.cr_params, lr=0.01, amsgrad=True)
        return twin, opt, lrs.OneCycleLR(opt, max_lr=0.1, total_steps=20)

    def train(twin, opt, sched, steps):
        for _ in range(steps):
            twin.cr_step(opt)
            sched.step()

    straight = setup()
    train(*straight, 20)

    first = setup()
    train(*first, 10)
    twin, opt, sched = first
    path = str(tmp_path / "ckpt.safetensors")
    cr.save({"params": [p.detach().numpy() for p in twin.cr_params], "optimizer": opt.state_dict(),
             "scheduler": sched.state_dict()}, path)

    twin, opt, sched = resumed = setup()
    ckpt = cr.load(path)
    for p, saved in zip(twin.cr_params, ckpt["params"]):
        p.detach().numpy()[...] = saved.detach().numpy()
    opt.load_state_dict(ckpt["optimizer"])
    sched.load_state_dict(ckpt["scheduler"])
    train(*resumed, 10)
    for a, b in zip(twin.cr_params, straight[0].cr_params):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert opt.param_groups[0]["betas"] == straight[1].param_groups[0]["betas"]
