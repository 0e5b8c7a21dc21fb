"""Ownership of gradient arrays: nothing the user sees is ever changed by the engine, and nothing
the engine keeps is an array the user holds.

The regression tests replay each aliasing bug that was found (each was checked against PyTorch
2.13, which gives the other answer). The property test runs random programs with hooks,
``retain_grad``, reused leaves, views and custom Functions in chainrule and in PyTorch, then
writes in place into every gradient the user got: no other value the user saw may move, and
every value equals PyTorch's (float64).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn as nn
from chainrule.autograd.grad_mode import DEBUG
from chainrule.nn.utils import clip_grad_norm_

# ---- the reported repros --------------------------------------------------------------------


def test_gradient_a_hook_logged_is_not_changed_by_clipping_the_leaf_grads():
    cr.manual_seed(0)
    emb = nn.Embedding(5, 3)
    pos = cr.randn(4, 3, requires_grad=True)
    log = []
    e = emb(cr.tensor([0, 1, 2, 3]))
    e.register_hook(log.append)
    ((e + pos) * 10).sum().backward()
    np.testing.assert_array_equal(log[0].detach().numpy(), np.full((4, 3), 10.0))
    clip_grad_norm_(list(emb.parameters()) + [pos], 1.0)
    np.testing.assert_array_equal(log[0].detach().numpy(), np.full((4, 3), 10.0))
    assert not np.shares_memory(log[0].detach().numpy(), pos.grad.detach().numpy())


def test_custom_function_return_the_user_holds_never_becomes_the_grad():
    held = cr.ones(3)

    class ReturnsHeld(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return held

    x = cr.zeros(3, requires_grad=True)
    ReturnsHeld.apply(x).sum().backward()
    assert x.grad is not held and not np.shares_memory(x.grad.detach().numpy(),
                                                       held.detach().numpy())
    ReturnsHeld.apply(x).sum().backward()
    assert held.tolist() == [1.0, 1.0, 1.0] and x.grad.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("make", [lambda x: x + 0, lambda x: x.clone(), lambda x: x.reshape(3),
                                  lambda x: x], ids=["add", "clone", "reshape", "leaf"])
def test_backward_with_inputs_twice_leaves_the_callers_seed_alone(make):
    x = cr.ones(3, requires_grad=True)
    y = make(x)
    v = cr.ones(3)
    y.backward(gradient=v, inputs=[x], retain_graph=True)
    y.backward(gradient=v, inputs=[x], retain_graph=True)
    assert v.tolist() == [1.0, 1.0, 1.0] and x.grad.tolist() == [2.0, 2.0, 2.0]


def test_grad_of_a_scalar_is_writable_and_the_callers_own():
    x = cr.tensor(2.0, requires_grad=True)
    (g,) = cr.autograd.grad(x + 0, x)
    g.add_(1)
    assert g.item() == 2.0
    (g2,) = cr.autograd.grad(x + 0, x)
    assert g2.item() == 1.0  # the shared seed of ones was not touched


def test_grad_returns_a_copy_of_grad_outputs_passed_through():
    x = cr.ones(3, requires_grad=True)
    v = cr.tensor([1.0, 2.0, 3.0])
    (g,) = cr.autograd.grad(x + 0, x, grad_outputs=v)
    g.mul_(10)
    assert v.tolist() == [1.0, 2.0, 3.0]


def test_same_input_twice_gets_two_independent_arrays():
    x = cr.ones(3, requires_grad=True)
    g1, g2 = cr.autograd.grad((x * x).sum(), [x, x])
    assert not np.shares_memory(g1.detach().numpy(), g2.detach().numpy())
    g1.zero_()
    assert g2.tolist() == [2.0, 2.0, 2.0]


def test_grad_mode_is_per_thread():
    started, release = threading.Event(), threading.Event()
    seen = {}

    def evaluator():
        with cr.no_grad():
            started.set()
            release.wait(10)
            seen["evaluator"] = (cr.ones(2, requires_grad=True) * 2).requires_grad

    def trainer():
        started.wait(10)
        w = cr.ones(2, requires_grad=True)
        seen["trainer"] = (w * 2).requires_grad
        seen["enabled"] = cr.is_grad_enabled()
        release.set()

    threads = [threading.Thread(target=evaluator), threading.Thread(target=trainer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"evaluator": False, "trainer": True, "enabled": True}
    assert cr.is_grad_enabled()


def test_anomaly_mode_is_process_wide():
    seen = {}
    with cr.autograd.detect_anomaly():
        t = threading.Thread(target=lambda: seen.setdefault(
            "on", cr.autograd.is_anomaly_enabled()))
        t.start()
        t.join(10)
    assert seen == {"on": True}


@pytest.mark.parametrize("call", [lambda x: x.to("cuda"), lambda x: x.cuda(),
                                  lambda x: x.to("cuda:0", cr.float64),
                                  lambda x: x.to(device="mps")])
def test_unavailable_device_is_a_clear_error(call):
    with pytest.raises(RuntimeError, match="not available.*CPU"):
        call(cr.ones(2))


def test_to_keeps_pytorch_call_forms():
    x = cr.tensor([1.5, 2.5])
    assert x.to("cpu") is x and x.cpu() is x
    assert x.to(cr.float64).dtype == np.float64
    assert x.to("cpu", cr.float64).dtype == np.float64
    assert x.to(dtype=cr.int64, device="cpu").tolist() == [1, 2]
    assert x.to(cr.zeros(1, dtype=cr.float64)).dtype == np.float64


# ---- the debug check of fresh_grads rules -------------------------------------------------


def _liar_op():
    from chainrule.ops import Op

    class ClaimsFresh(Op):
        """x * 1, whose rule hands back its upstream array while claiming fresh arrays."""

        public = None
        fresh_grads = True

        def forward(x):
            return x * 1

        def backward(F, g, out, x):
            return (g,)

    return ClaimsFresh


def test_debug_check_names_a_rule_that_breaks_its_fresh_promise():
    from chainrule.ops import unregister

    op = _liar_op()
    try:
        x = cr.ones(3, requires_grad=True)
        with pytest.raises(AssertionError, match="claims_fresh.*fresh_grads"):
            op.record(x).backward(cr.ones(3))
        DEBUG.check_ownership = False
        try:
            op.record(x).backward(cr.ones(3))  # unchecked: no cost on the normal path
        finally:
            DEBUG.check_ownership = True
        DEBUG.check_ownership = False
        with cr.autograd.detect_anomaly(), pytest.raises(AssertionError, match="fresh_grads"):
            op.record(x).backward(cr.ones(3))
    finally:
        DEBUG.check_ownership = True
        unregister(op)


# ---- random programs: hooks, retain_grad, views, custom Functions -------------------------


def _function_class(lib, mode, held):
    """An identity Function whose backward returns g, 2g, or a tensor the user holds."""
    base = torch.autograd.Function if lib is torch else cr.autograd.Function

    class Ident(base):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            if mode == "same":
                return g
            if mode == "double":
                return g * 2
            return held

    return Ident


_UNARY = {
    "tanh": lambda L, a: a.tanh(),
    "sigmoid": lambda L, a: a.sigmoid(),
    "relu": lambda L, a: L.relu(a),
    "neg": lambda L, a: -a,
    "square": lambda L, a: a * a,
    "exp_tanh": lambda L, a: a.tanh().exp(),
    "plus_zero": lambda L, a: a + 0,
    "times_one": lambda L, a: a * 1,
    "clone": lambda L, a: a.clone(),
    "view": lambda L, a: a.reshape(6).reshape(2, 3),
    "transpose": lambda L, a: a.t().t(),
    "slice": lambda L, a: a[0:2],
    "expand_sum": lambda L, a: a.expand(2, 2, 3).sum(0),
    "softmax": lambda L, a: a.softmax(-1),
}
_BINARY = {
    "add": lambda L, a, b: a + b,
    "sub": lambda L, a, b: a - b,
    "mul": lambda L, a, b: a * b,
}


@st.composite
def _programs(draw):
    steps = []
    for k in range(draw(st.integers(1, 7))):
        n = 3 + k  # three leaves, then one value per step
        kind = draw(st.sampled_from(["unary", "binary", "bias", "function"]))
        if kind == "unary":
            steps.append(("unary", draw(st.sampled_from(sorted(_UNARY))),
                          draw(st.integers(0, n - 1))))
        elif kind == "binary":
            steps.append(("binary", draw(st.sampled_from(sorted(_BINARY))),
                          draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))))
        elif kind == "bias":  # broadcasting with the (3,) leaf
            steps.append(("bias", draw(st.integers(0, n - 1))))
        else:
            steps.append(("function", draw(st.sampled_from(["same", "double", "held"])),
                          draw(st.integers(0, n - 1))))
    n_values = 3 + len(steps)
    hooks = draw(st.lists(st.tuples(st.integers(0, n_values - 1),
                                    st.sampled_from(["log", "scale", "held"])), max_size=3))
    retained = draw(st.lists(st.integers(3, n_values - 1), max_size=2))
    finish = draw(st.sampled_from(["backward", "backward_twice", "inputs", "grad"]))
    return steps, hooks, retained, finish


class _World:
    """One library's run of a program, keeping every tensor the user saw."""

    def __init__(self, lib, program, data, held_data):
        self.lib = lib
        L = cr if lib is cr else torch
        steps, hooks, retained, finish = program
        self.leaves = [L.tensor(d.copy(), requires_grad=True) for d in data]
        self.held = {name: L.tensor(a.copy()) for name, a in held_data.items()}
        self.hook_args: list = []  # (tensor object the hook got, its value then)
        self.calls: list = []  # per hook: the values it was called with, in order
        values = list(self.leaves)
        values[2] = self.leaves[0]  # the (3,) leaf enters only through the "bias" steps
        for step in steps:
            if step[0] == "unary":
                values.append(_UNARY[step[1]](L, values[step[2]]))
            elif step[0] == "binary":
                values.append(_BINARY[step[1]](L, values[step[2]], values[step[3]]))
            elif step[0] == "bias":
                base = values[step[1]]
                values.append(base + self.leaves[2] if base.shape == (2, 3) else base * 1)
            else:
                fn = _function_class(lib, step[1], self.held["fn"])
                values.append(fn.apply(values[step[2]]))
        values[2] = self.leaves[2]
        for i, how in hooks:
            if values[i].requires_grad:
                values[i].register_hook(self._hook(how))
        self.retained = []
        for i in retained:
            if values[i].requires_grad and values[i].grad_fn is not None and not any(
                    values[i] is r for r in self.retained):
                values[i].retain_grad()
                self.retained.append(values[i])
        self.out = values[-1]
        self.finish = finish
        self.results = []

    def _hook(self, how):
        calls = []
        self.calls.append(calls)

        def hook(g):
            self.hook_args.append((g, g.detach().numpy().copy() if self.lib is torch
                                   else g.detach().numpy().copy()))
            calls.append(self.hook_args[-1][1])
            if how == "scale":
                return g * 3
            if how == "held":
                return self.held["hook"] if tuple(g.shape) == (2, 3) else None
            return None

        return hook

    def run(self, seed):
        if not self.out.requires_grad:
            return False
        L = self.lib
        v = L.tensor(seed.copy())
        self.held["seed"] = v
        if self.finish == "grad":
            self.results = list(L.autograd.grad(self.out, self.leaves, v, allow_unused=True))
        elif self.finish == "inputs":
            self.out.backward(v, inputs=self.leaves[:2])
        else:
            self.out.backward(v, retain_graph=self.finish == "backward_twice")
            if self.finish == "backward_twice":
                self.out.backward(v)
        return True

    def grads(self):
        """Every gradient tensor handed to the user: leaf, retained, returned."""
        got = [t.grad for t in self.leaves + self.retained] + self.results
        return [g for g in got if g is not None]


def _arr(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy()


@settings(max_examples=int(__import__('os').environ.get('OWN_EXAMPLES', 60)), deadline=None)
@given(program=_programs(), seed=st.integers(0, 2 ** 16))
def test_random_programs_never_alias_what_the_user_sees(program, seed):
    rng = np.random.default_rng(seed)
    data = [rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), rng.standard_normal(3)]
    held = {"fn": rng.standard_normal((2, 3)), "hook": rng.standard_normal((2, 3))}
    v = rng.standard_normal((2, 3))
    mine, theirs = _World(cr, program, data, held), _World(torch, program, data, held)
    ran = mine.run(v)
    assert ran == theirs.run(v)
    if not ran:
        return
    # every value equals PyTorch's
    for got, want in zip([t.grad for t in mine.leaves + mine.retained] + mine.results,
                         [t.grad for t in theirs.leaves + theirs.retained] + theirs.results):
        assert (got is None) == (want is None)
        if got is not None:
            np.testing.assert_allclose(got.detach().numpy(), want.numpy(), rtol=1e-10, atol=1e-12)
    # each hook saw what PyTorch's saw (leaf hooks may run at another moment: engine.md)
    for got_calls, want_calls in zip(mine.calls, theirs.calls):
        assert len(got_calls) == len(want_calls)
        for got, want in zip(got_calls, want_calls):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    # hooks kept what they saw; the held tensors are unchanged
    for g, then in mine.hook_args:
        np.testing.assert_array_equal(g.detach().numpy(), then)
    for name, t in mine.held.items():
        want = v if name == "seed" else held[name]
        np.testing.assert_array_equal(t.detach().numpy(), want)
    # writing into one gradient moves nothing else the user holds
    seen = [t for t in mine.grads()] + [g for g, _ in mine.hook_args] + list(mine.held.values())
    snapshot = [t.detach().numpy().copy() for t in seen]
    for i, g in enumerate(mine.grads()):
        with cr.no_grad():
            g.mul_(3.0).add_(1.0)
        snapshot[i] = g.detach().numpy().copy()
        for t, then in zip(seen, snapshot):
            np.testing.assert_array_equal(t.detach().numpy(), then)


def test_a_hook_that_keeps_its_argument_and_a_second_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    kept = []
    y.register_hook(kept.append)
    z = y + 0
    z.backward(cr.ones(2), retain_graph=True)
    z.backward(cr.ones(2))
    assert [k.tolist() for k in kept] == [[1.0, 1.0], [1.0, 1.0]]
    assert x.grad.tolist() == [2.0, 2.0]


def test_retained_grad_is_a_new_tensor_after_the_second_backward_like_pytorch():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    (y * 3).sum().backward(retain_graph=True)
    first = y.grad
    (y * 3).sum().backward()
    assert first.tolist() == [3.0, 3.0] and y.grad.tolist() == [6.0, 6.0]
    leaf_first = x.grad
    assert leaf_first.tolist() == [12.0, 12.0]  # a leaf's .grad is added to in place


def test_owned_array_is_handed_to_the_grad_without_a_copy():
    """The usual training step: the dense layer's weight gradient is the engine's own array and
    becomes .grad as it is; a gradient the rule shares (Add's) is copied."""
    x = cr.randn(4, 3)
    w = cr.randn(2, 3, requires_grad=True)
    b = cr.randn(4, 2, requires_grad=True)
    out = cr.linear(x, w) + b
    seen = []
    out.register_hook(seen.append)
    out.sum().backward()
    assert not np.shares_memory(b.grad.detach().numpy(), seen[0].detach().numpy())
    assert w.grad.detach().numpy().base is None and w.grad.detach().numpy().flags.writeable


def test_a_retained_grad_and_a_leaf_hook_never_share_an_array():
    """Found by the property test: the retained gradient of ``a + b`` is also what reaches the
    hook of ``a``; the retained .grad must be its own copy."""
    a = cr.randn(2, 3, requires_grad=True)
    b = cr.randn(3, requires_grad=True)
    seen = []
    a.register_hook(seen.append)
    h = a + b
    h.retain_grad()
    h.tanh().exp().sum().backward()
    assert not np.shares_memory(h.grad.detach().numpy(), seen[0].detach().numpy())
    before = seen[0].detach().numpy().copy()
    with cr.no_grad():
        h.grad.mul_(2)
    np.testing.assert_array_equal(seen[0].detach().numpy(), before)


def test_hooks_of_tensors_off_the_path_to_inputs_do_not_run():
    a = cr.ones(2, requires_grad=True)
    b = cr.ones(2, requires_grad=True)
    calls = []
    b.register_hook(lambda g: calls.append("b"))
    hb = b * 2
    hb.register_hook(lambda g: calls.append("hb"))
    (a * hb).sum().backward(inputs=[a])
    (g,) = cr.autograd.grad((a * hb).sum(), [a])
    assert calls == [] and b.grad is None and g.tolist() == [2.0, 2.0]
