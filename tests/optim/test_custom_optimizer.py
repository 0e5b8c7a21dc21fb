"""An optimizer written the PyTorch way (a subclass with its own ``@no_grad`` step over
``param_groups``, ``p.grad`` and ``self.state``) runs the same program as its PyTorch twin under
every scheduler, with no false "scheduler stepped before the optimizer" warning, and its state
dict round-trips."""

import warnings

import numpy as np
import pytest
import torch
from optim_twin import Twin

import chainrule as cr


def momentum_sgd(lib, through_data: bool):
    """The same source for both libraries: ``lib`` is ``torch`` or ``chainrule``."""

    class MomentumSGD(lib.optim.Optimizer):
        def __init__(self, params, lr=0.1, momentum=0.9, weight_decay=0.0):
            if lr < 0.0:
                raise ValueError(f"Invalid learning rate: {lr}")
            super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

        @lib.no_grad()
        def step(self, closure=None):
            loss = None
            if closure is not None:
                with lib.enable_grad():
                    loss = closure()
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    d_p = p.grad
                    if group["weight_decay"] != 0:
                        d_p = d_p.add(p, alpha=group["weight_decay"])
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        buf = state["momentum_buffer"] = lib.clone(d_p).detach()
                    else:
                        buf = state["momentum_buffer"]
                        buf.mul_(group["momentum"]).add_(d_p)
                    if through_data:
                        p.data.add_(buf, alpha=-group["lr"])
                    else:
                        p.add_(buf, alpha=-group["lr"])
            return loss

    return MomentumSGD


STEPS = 25
SCHEDULERS = [
    ("lambda", lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e)),
    ("multiplicative", lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97)),
    ("step", lambda m, o: m.StepLR(o, step_size=4, gamma=0.5)),
    ("multistep", lambda m, o: m.MultiStepLR(o, milestones=[3, 9, 14], gamma=0.6)),
    ("constant", lambda m, o: m.ConstantLR(o, factor=0.4, total_iters=5)),
    ("linear", lambda m, o: m.LinearLR(o, start_factor=0.2, total_iters=8)),
    ("exponential", lambda m, o: m.ExponentialLR(o, gamma=0.93)),
    ("polynomial", lambda m, o: m.PolynomialLR(o, total_iters=20, power=1.5)),
    ("cosine", lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=0.005)),
    ("warm-restarts", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2)),
    ("cyclic", lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                       mode="triangular2")),
    ("onecycle", lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=STEPS)),
    ("sequential", lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5),
            m.ExponentialLR(o, gamma=0.9)], milestones=[5])),
    ("chained", lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.5, total_iters=3), m.ExponentialLR(o, gamma=0.95)])),
    ("plateau", lambda m, o: m.ReduceLROnPlateau(o, factor=0.5, patience=1)),
]


@pytest.mark.parametrize("through_data", [False, True], ids=["p.add_", "p.data.add_"])
@pytest.mark.parametrize("build", [b for _, b in SCHEDULERS], ids=[n for n, _ in SCHEDULERS])
def test_a_pytorch_style_optimizer_matches_torch_under_every_scheduler(build, through_data):
    twin = Twin()
    groups = lambda ps: [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.05,  # noqa: E731
                                              "weight_decay": 0.01}]
    opt_cr = momentum_sgd(cr, through_data)(groups(twin.cr_params), lr=0.1)
    opt_th = momentum_sgd(torch, through_data)(groups(twin.th_params), lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning, the false order warning above all
        sched_cr, sched_th = build(cr.optim.lr_scheduler, opt_cr), build(
            torch.optim.lr_scheduler, opt_th)
        lrs = []
        for step in range(STEPS):
            loss_cr, loss_th = twin.cr_step(opt_cr), twin.th_step(opt_th)
            twin.assert_close(where=f"after step {step}")
            if isinstance(sched_cr, cr.optim.lr_scheduler.ReduceLROnPlateau):
                sched_cr.step(round(loss_cr, 1))
                sched_th.step(round(loss_th, 1))
            else:
                sched_cr.step()
                sched_th.step()
            np.testing.assert_allclose(sched_cr.get_last_lr(), sched_th.get_last_lr(),
                                       rtol=1e-12, atol=1e-15)
            for g_cr, g_th in zip(opt_cr.param_groups, opt_th.param_groups):
                assert g_cr["momentum"] == pytest.approx(g_th["momentum"], rel=1e-12)
            lrs.append(sched_cr.get_last_lr()[0])
    assert len(set(lrs)) > 1, "the schedule never changed the lr"
    assert twin.moved() > 1e-2


def test_the_order_warning_still_fires_for_a_pytorch_style_optimizer():
    opt = momentum_sgd(cr, False)(Twin().cr_params)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before optimizer.step"):
        sched.step()


def test_a_step_that_calls_the_base_step_counts_and_updates():
    class Logged(cr.optim.SGD):
        calls = 0

        def step(self, closure=None):
            Logged.calls += 1
            return super().step(closure)

    twin = Twin()
    opt = Logged(twin.cr_params, lr=0.1)
    sched = cr.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        twin.cr_step(opt)
        sched.step()
    assert Logged.calls == 1 and opt._steps_taken >= 1 and twin.moved() > 0


def _train(opt, twin, steps):
    for _ in range(steps):
        twin.cr_step(opt)


def test_a_pytorch_style_optimizer_state_dict_round_trips(tmp_path):
    cls = momentum_sgd(cr, True)
    straight = Twin()
    _train(cls(straight.cr_params), straight, 8)

    first = Twin()
    opt = cls(first.cr_params)
    _train(opt, first, 4)
    sd = opt.state_dict()
    path = str(tmp_path / "custom.safetensors")
    cr.save(sd, path)
    _train(opt, first, 2)  # the snapshot must not follow later steps
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"].numpy(),
                                  cr.load(path)["state"][0]["momentum_buffer"].numpy())

    resumed = Twin()
    replay = Twin()
    _train(cls(replay.cr_params), replay, 4)
    for p, q in zip(resumed.cr_params, replay.cr_params):
        p.data.copy_(q.detach())
    opt2 = cls(resumed.cr_params)
    opt2.load_state_dict(cr.load(path))
    buf = opt2.state[resumed.cr_params[0]]["momentum_buffer"]
    assert isinstance(buf, cr.Tensor)  # as the step stored it
    _train(opt2, resumed, 4)
    for a, b in zip(resumed.cr_params, straight.cr_params):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
