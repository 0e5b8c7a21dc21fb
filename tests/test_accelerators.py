"""``cr.cuda``, ``cr.accelerator`` and ``cr.amp`` against a CPU-only PyTorch 2.13: the same
answers, the same no-ops, and errors of the kinds PyTorch raises (see ``_twin``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from _twin import dtype_name, same
from chainrule.devices import DeviceUnavailableError


# ---- cr.cuda ------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda L: L.cuda.is_available(), lambda L: L.cuda.device_count(),
    lambda L: L.cuda.is_initialized(), lambda L: L.cuda.is_bf16_supported(),
    lambda L: L.cuda.is_bf16_supported(including_emulation=False),
    lambda L: L.cuda.is_tf32_supported(), lambda L: L.cuda.get_arch_list(),
    lambda L: L.cuda.manual_seed(0), lambda L: L.cuda.manual_seed_all(0),
    lambda L: L.cuda.seed(), lambda L: L.cuda.seed_all(), lambda L: L.cuda.get_rng_state_all(),
    lambda L: L.cuda.set_rng_state_all([]), lambda L: L.cuda.empty_cache(),
    lambda L: L.cuda.memory_allocated(), lambda L: L.cuda.memory_allocated(0),
    lambda L: L.cuda.max_memory_allocated(), lambda L: L.cuda.memory_reserved(),
    lambda L: L.cuda.max_memory_reserved(), lambda L: dict(L.cuda.memory_stats()),
    # refused
    lambda L: L.cuda.initial_seed(), lambda L: L.cuda.synchronize(),
    lambda L: L.cuda.current_device(), lambda L: L.cuda.get_device_name(),
    lambda L: L.cuda.get_device_name(0), lambda L: L.cuda.get_device_properties(0),
    lambda L: L.cuda.get_device_capability(), lambda L: L.cuda.init(),
    lambda L: L.cuda.ipc_collect(), lambda L: L.cuda.get_rng_state(),
    lambda L: L.cuda.current_stream(), lambda L: L.cuda.default_stream(),
    lambda L: L.cuda.mem_get_info(), lambda L: L.cuda.set_device("cpu"),
    lambda L: L.cuda.Stream(), lambda L: L.cuda.Event(),
    lambda L: _enter(L.cuda.device(0)), lambda L: _enter(L.cuda.device("cuda:1")),
    lambda L: _enter(L.cuda.device(-1)), lambda L: _enter(L.cuda.device_of(L.zeros(1))),
])
def test_cuda_answers_as_a_cpu_only_pytorch(call):
    e = same(lambda: call(torch), lambda: call(cr))
    if isinstance(e, Exception) and not isinstance(e, ValueError):
        assert isinstance(e, DeviceUnavailableError) and "cuda." in str(e)


def _enter(cm):
    with cm as v:
        return v


@pytest.mark.parametrize("call", [
    # PyTorch fails here by accident (AttributeError, KeyError); chainrule refuses clearly
    lambda: cr.cuda.set_device(0), lambda: cr.cuda.reset_peak_memory_stats(),
    lambda: cr.cuda.reset_max_memory_allocated(), lambda: cr.cuda.memory_summary(),
])
def test_cuda_calls_pytorch_trips_on_are_refused_clearly(call):
    with pytest.raises(DeviceUnavailableError, match="computes on the CPU only"):
        call()


# ---- cr.accelerator -----------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda L: L.accelerator.is_available(), lambda L: L.accelerator.current_accelerator(),
    lambda L: L.accelerator.current_accelerator(check_available=True),
    lambda L: L.accelerator.device_count(), lambda L: _enter(L.accelerator.device_index(None)),
    lambda L: L.accelerator.current_device_index(), lambda L: L.accelerator.current_device_idx(),
    lambda L: L.accelerator.set_device_index(0), lambda L: L.accelerator.synchronize(),
    lambda L: L.accelerator.current_stream(), lambda L: L.accelerator.empty_cache(),
    lambda L: L.accelerator.memory_allocated(), lambda L: L.accelerator.max_memory_allocated(),
    lambda L: L.accelerator.memory_reserved(), lambda L: L.accelerator.memory_stats(),
    lambda L: L.accelerator.reset_peak_memory_stats(), lambda L: L.accelerator.get_memory_info(),
    lambda L: _enter(L.accelerator.device_index(0)),
])
def test_accelerator_answers_as_a_cpu_only_pytorch(call):
    same(lambda: call(torch), lambda: call(cr))


def test_device_generic_code_picks_the_cpu():
    for L in (torch, cr):
        acc = L.accelerator.current_accelerator()
        device = acc if acc is not None else L.device("cpu")
        assert L.ones(2, device=device).device.type == "cpu"


# ---- GradScaler ---------------------------------------------------------------------------------
def _warned(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fn()
    return out, [x.category for x in w]


@pytest.mark.parametrize("make", [
    lambda L: L.amp.GradScaler(), lambda L: L.amp.GradScaler("cuda"),
    lambda L: L.amp.GradScaler(device="cuda", enabled=True), lambda L: L.cuda.amp.GradScaler(),
    lambda L: L.amp.GradScaler(enabled=False), lambda L: L.cuda.amp.GradScaler(enabled=False),
    lambda L: L.amp.GradScaler("cpu"), lambda L: L.amp.GradScaler("cpu", init_scale=8.0),
    lambda L: L.cpu.amp.GradScaler(), lambda L: L.amp.GradScaler("cpu", enabled=False),
])
def test_grad_scaler_enables_and_warns_as_pytorch(make):
    t, t_warn = _warned(lambda: make(torch))
    c, c_warn = _warned(lambda: make(cr))
    assert c_warn == t_warn
    assert (c.is_enabled(), c.get_scale(), c.state_dict()) == (
        t.is_enabled(), t.get_scale(), t.state_dict())


def _loop(L, scaler_args, steps=8, inf_at=(3,), clip=False, plain=False):
    """A few SGD steps of a tiny model through a GradScaler (or none); the parameters, scale
    and growth tracker after every step."""
    L.manual_seed(0)
    model = L.nn.Linear(3, 2)
    with L.no_grad():
        model.weight.copy_(L.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]))
        model.bias.copy_(L.tensor([0.01, -0.02]))
    opt = L.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = None
    if not plain:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scaler = L.amp.GradScaler(*scaler_args[0], **scaler_args[1])
    x = L.tensor([[1.0, 2.0, -1.0], [0.5, -1.5, 2.0]])
    trace = []
    with np.errstate(all="ignore"):  # the inf steps: NumPy would warn where PyTorch is silent
        _steps(L, model, opt, scaler, x, steps, inf_at, clip, trace)
    return trace


def _steps(L, model, opt, scaler, x, steps, inf_at, clip, trace):
    for i in range(steps):
        opt.zero_grad()
        loss = (model(x) ** 2).mean() * (float("inf") if i in inf_at else 1.0)
        if scaler is None:
            loss.backward()
            if clip:
                L.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            if i not in inf_at:
                opt.step()
        else:
            scaler.scale(loss).backward()
            if clip:
                scaler.unscale_(opt)
                L.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            scaler.step(opt)
            scaler.update()
        trace.append((np.array(model.weight.tolist()), np.array(model.bias.tolist()),
                      None if scaler is None else scaler.state_dict()))


@pytest.mark.parametrize("args, clip", [
    (((), {"device": "cpu", "growth_interval": 2}), False),
    (((), {"device": "cpu", "growth_interval": 2}), True),
    ((("cpu",), {"init_scale": 3.0, "growth_factor": 3.0, "backoff_factor": 0.25,
                 "growth_interval": 1}), False),
    (((), {"enabled": False}), True),
    (((), {}), False),  # 'cuda': warns, disabled
])
def test_grad_scaler_training_matches_pytorch(args, clip):
    ours, theirs = _loop(cr, args, clip=clip), _loop(torch, args, clip=clip)
    for (cw, cb, cs), (tw, tb, ts) in zip(ours, theirs):
        np.testing.assert_allclose(cw, tw, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(cb, tb, rtol=1e-5, atol=1e-6)
        assert cs == ts  # scale, factors, growth tracker: exactly PyTorch's


def test_a_disabled_scaler_loop_equals_the_plain_loop():
    for args in (((), {"enabled": False}), ((), {})):
        scaled = _loop(cr, args, inf_at=())
        plain = _loop(cr, args, inf_at=(), plain=True)
        for (sw, sb, _), (pw, pb, _) in zip(scaled, plain):
            assert np.array_equal(sw, pw) and np.array_equal(sb, pb)


def test_grad_scaler_steps_skip_on_inf_and_return_what_step_returns():
    for L in (torch, cr):
        w = L.nn.Parameter(L.ones(2))
        opt = L.optim.SGD([w], lr=1.0)
        scaler = L.amp.GradScaler("cpu", init_scale=4.0)
        scaler.scale((w * float("nan")).sum()).backward()
        assert scaler.step(opt) is None and w.tolist() == [1.0, 1.0]
        scaler.update()
        assert scaler.get_scale() == 2.0
        opt.zero_grad()
        scaler.scale((w * 2).sum()).backward()
        assert w.grad.tolist() == [4.0, 4.0]  # scaled by 2
        scaler.step(opt)
        assert w.tolist() == [-1.0, -1.0]  # unscaled before the step
        scaler.update(new_scale=L.tensor(8.0))
        assert scaler.get_scale() == 8.0


@pytest.mark.parametrize("misuse", [
    lambda L, s, o, w: (s.unscale_(o), s.unscale_(o)),
    lambda L, s, o, w: (s.step(o), s.unscale_(o)),
    lambda L, s, o, w: (s.step(o), s.step(o)),
    lambda L, s, o, w: s.step(o, closure=lambda: 0.0),
    lambda L, s, o, w: L.amp.GradScaler("cpu").load_state_dict({}),
    lambda L, s, o, w: s.scale(3),
    "float16",  # float16 gradients: refused
])
def test_grad_scaler_misuse_raises_as_pytorch(misuse):
    def run(L):
        w = L.nn.Parameter(L.ones(2, dtype=L.float16 if misuse == "float16" else L.float32))
        opt = L.optim.SGD([w], lr=1.0)
        scaler = L.amp.GradScaler("cpu")
        scaler.scale(w.sum()).backward()
        if misuse == "float16":
            scaler.unscale_(opt)
        else:
            misuse(L, scaler, opt, w)

    e = same(lambda: run(torch), lambda: run(cr))
    assert isinstance(e, Exception)


def test_grad_scaler_state_round_trips_like_pytorch():
    for L in (torch, cr):
        a = L.amp.GradScaler("cpu", growth_interval=3)
        b = L.amp.GradScaler("cpu")
        b.load_state_dict({**a.state_dict(), "scale": 1024.0, "_growth_tracker": 2})
        assert b.state_dict() == {"scale": 1024.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                                  "growth_interval": 3, "_growth_tracker": 2}
        b.set_growth_factor(4.0)
        b.set_backoff_factor(0.125)
        b.set_growth_interval(7)
        assert (b.get_growth_factor(), b.get_backoff_factor(), b.get_growth_interval()) == (
            4.0, 0.125, 7)


def test_grad_scaler_scales_lists_and_tuples_like_pytorch():
    def run(L):
        s = L.amp.GradScaler("cpu", init_scale=2.0)
        out = s.scale([L.tensor(1.0), (L.tensor(2.0), L.tensor(3.0))])
        return [out[0].item(), type(out[1]).__name__, [v.item() for v in out[1]]]

    same(lambda: run(torch), lambda: run(cr))


# ---- autocast -----------------------------------------------------------------------------------
def test_autocast_for_an_absent_device_warns_and_disables_as_pytorch():
    for make in (lambda L: L.autocast("cuda"), lambda L: L.amp.autocast(device_type="cuda"),
                 lambda L: L.autocast("cuda", dtype=L.float16)):
        for L in (torch, cr):
            with pytest.warns(UserWarning, match="(?i)not available.*disabling autocast"):
                ctx = make(L)
            with ctx:
                assert not L.is_autocast_enabled("cuda") and not L.is_autocast_enabled()
                y = L.ones(2, 2) @ L.ones(2, 2)
            assert dtype_name(y.dtype) == "float32"


def test_cpu_autocast_is_disabled_with_a_warning_and_changes_nothing():
    x, w = cr.randn(4, 3), cr.randn(3, 2)
    plain = (x @ w).numpy().copy()
    with pytest.warns(UserWarning, match="chainrule has no mixed-precision autocast"):
        ctx = cr.autocast(device_type="cpu", dtype=cr.float16)
    with ctx:
        assert not cr.is_autocast_enabled("cpu")
        y = x @ w
    assert y.dtype == np.float32 and np.array_equal(y.numpy(), plain)


@pytest.mark.parametrize("make", [
    lambda L: L.autocast("cpu", enabled=False), lambda L: L.amp.autocast("cuda", enabled=False),
    lambda L: L.autocast(device_type="cpu", dtype=L.float16, enabled=False),
])
def test_disabled_autocast_is_silent_and_reports_its_dtype_like_pytorch(make):
    for L in (torch, cr):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ctx = make(L)
        with ctx:
            inside = dtype_name(L.get_autocast_dtype(ctx.device))
            assert not L.is_autocast_enabled(ctx.device)
        assert inside == dtype_name(ctx.fast_dtype)
    same(lambda: dtype_name(torch.get_autocast_dtype(make(torch).device)),
         lambda: dtype_name(cr.get_autocast_dtype(make(cr).device)))


@pytest.mark.parametrize("call", [
    lambda L: L.autocast("bogus"), lambda L: L.autocast(L.device("cpu")),
    lambda L: L.amp.autocast(device_type=L.device("cpu")), lambda L: L.autocast("cuda:0"),
    lambda L: L.autocast("cpu", dtype=L.float64), lambda L: L.autocast("cpu", dtype=L.float32),
    lambda L: L.autocast("cpu", enabled=False)(3),
    lambda L: dtype_name(L.get_autocast_dtype("cpu")),
    lambda L: dtype_name(L.get_autocast_dtype("cuda")), lambda L: L.is_autocast_enabled(),
    lambda L: L.amp.is_autocast_available("cpu"), lambda L: L.amp.is_autocast_available("cuda"),
    lambda L: L.amp.custom_fwd(device_type=L.device("cpu")),
])
def test_autocast_arguments_as_pytorch(call):
    same(lambda: call(torch), lambda: call(cr),
         lambda v: v if isinstance(v, (str, bool)) else type(v).__name__)


def test_autocast_decorates_and_nests():
    @cr.autocast("cuda", enabled=False)
    def f(x):
        return x * 2, cr.get_autocast_dtype("cuda")

    out, dt = f(cr.ones(1))
    assert out.tolist() == [2.0] and dt == cr.float16 and f.__name__ == "f"
    with cr.autocast("cpu", dtype=cr.float16, enabled=False):
        with cr.autocast("cpu", dtype=cr.float64, enabled=False):
            assert cr.get_autocast_dtype("cpu") == cr.float64
        assert cr.get_autocast_dtype("cpu") == cr.float16
    assert dtype_name(cr.get_autocast_dtype("cpu")) == "bfloat16"


@pytest.mark.parametrize("make", [lambda L: L.cuda.amp.autocast(),
                                  lambda L: L.cuda.amp.autocast(enabled=False),
                                  lambda L: L.cpu.amp.autocast(enabled=False),
                                  lambda L: L.cuda.amp.GradScaler(enabled=False)])
def test_legacy_amp_names_warn_they_are_deprecated(make):
    for L in (torch, cr):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            make(L)
        assert any(x.category is FutureWarning and "is deprecated" in str(x.message) for x in w)


def test_custom_fwd_and_bwd_run_the_function_as_written():
    class Square(cr.autograd.Function):
        @staticmethod
        @cr.amp.custom_fwd(device_type="cpu", cast_inputs=cr.float16)
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @cr.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = cr.tensor([3.0], requires_grad=True)
    y = Square.apply(x)
    y.backward()
    assert y.dtype == np.float32 and x.grad.tolist() == [6.0]
