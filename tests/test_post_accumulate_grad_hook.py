"""``Tensor.register_post_accumulate_grad_hook``: called once a leaf's gradient is in ``.grad``,
as soon as the rest of the backward pass can no longer add to it (what lets
DistributedDataParallel overlap its all-reduce with backward). Compared with PyTorch: which
hooks run, in what order relative to the rules, and what they see."""

from __future__ import annotations

import gc

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd import engine


def _program(L, events):
    """A three-layer net with a custom Function in front that logs when its rule runs; every
    parameter logs when its post-accumulate hook runs, and what its ``.grad`` holds."""
    rng = np.random.default_rng(0)
    params = {name: L.tensor(rng.standard_normal(shape), requires_grad=True)
              for name, shape in [("w1", (3, 4)), ("b1", (4,)), ("w2", (4, 4)), ("b2", (4,)),
                                  ("w3", (4, 2))]}
    for name, p in params.items():
        p.register_post_accumulate_grad_hook(
            lambda t, name=name: events.append((name, t.grad.detach().numpy().copy())))

    class Log(L.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t.clone()

        @staticmethod
        def backward(ctx, g):
            events.append(("input rule", None))
            return g

    x = L.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    h = L.tanh(Log.apply(x) @ params["w1"] + params["b1"])
    h = L.tanh(Log.apply(h) @ params["w2"] + params["b2"])
    out = (Log.apply(h) @ params["w3"]).sum() + (params["w1"] ** 2).sum()
    return params, out


def test_order_and_values_match_pytorch():
    ours, theirs = [], []
    _, out = _program(cr, ours)
    out.backward()
    _, out = _program(torch, theirs)
    out.backward()
    assert [name for name, _ in ours] == [name for name, _ in theirs]
    # the last layer's weights are ready before the earlier rules run
    assert [name for name, _ in ours].index("w3") < [name for name, _ in ours].index(
        "input rule")
    for (name, a), (_, b) in zip(ours, theirs):
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=name)


def test_sees_the_accumulated_gradient_and_a_hooks_change():
    for L in (cr, torch):
        w = L.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        w.register_hook(lambda g: g * 10)
        w.register_post_accumulate_grad_hook(lambda t, seen=seen: seen.append(t.grad.tolist()))
        (w * 3).sum().backward()
        (w * w).sum().backward()
        assert seen == [[30.0, 30.0], [50.0, 70.0]], L.__name__


def test_runs_once_for_a_leaf_used_twice():
    calls = []
    w = cr.tensor(2.0, requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda t: calls.append(float(t.grad)))
    (w * w + w).backward()
    assert calls == [5.0]


@pytest.mark.parametrize("how", ["grad", "inputs", "root"])
def test_which_passes_call_it_match_pytorch(how):
    def run(L):
        calls = []
        w = L.tensor([1.0, 2.0], requires_grad=True)
        v = L.tensor([3.0, 4.0], requires_grad=True)
        for name, t in (("w", w), ("v", v)):
            t.register_post_accumulate_grad_hook(lambda t, name=name: calls.append(name))
        loss = (w * v).sum()
        if how == "grad":
            L.autograd.grad(loss, [w])
        elif how == "inputs":
            loss.backward(inputs=[w])
        else:
            w.backward(L.ones(2))
        return calls

    assert run(cr) == run(torch)


def test_remove_and_no_leak():
    before = len(engine.POST_ACCUMULATE_HOOKS)
    calls = []
    w = cr.ones(2, requires_grad=True)
    handle = w.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    w.sum().backward()
    handle.remove()
    w.sum().backward()
    assert calls == [1] and len(engine.POST_ACCUMULATE_HOOKS) == before
    w.register_post_accumulate_grad_hook(lambda t: calls.append(2))
    assert len(engine.POST_ACCUMULATE_HOOKS) == before + 1
    del w
    gc.collect()
    assert len(engine.POST_ACCUMULATE_HOOKS) == before


def test_errors_match_pytorch():
    for L in (cr, torch):
        w = L.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="non-leaf"):
            (w * 2).register_post_accumulate_grad_hook(lambda t: None)
        with pytest.raises(RuntimeError, match="doesn't require gradient"):
            L.ones(2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(TypeError, match="callable"):
        cr.ones(2, requires_grad=True).register_post_accumulate_grad_hook(3)
