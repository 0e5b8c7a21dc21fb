"""``cr.utils.checkpoint``: checkpoint and checkpoint_sequential keep only the segments' inputs,
recompute in backward, and give the gradients of the run without checkpointing (dropout
included: the RNG state is replayed). Compared with PyTorch's non-reentrant checkpoint where
both frameworks compute the same thing (float64, no randomness), and with chainrule's own plain
run everywhere else, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.utils.checkpoint as tcp

import chainrule as cr
import chainrule.utils.checkpoint as ccp
from chainrule.autograd.saved import Packed
from chainrule.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential


def _mlp(lib, depth=6, width=8, dropout=0.0, seed=0):
    nn = lib.nn
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.Tanh()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    net = nn.Sequential(*layers).double()
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in net.parameters():
            p.copy_(lib.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape))))
    return net


def _grads(net, x, run):
    for p in net.parameters():
        p.grad = None
    if x.requires_grad:
        x.grad = None
    y = run()
    (y * y).sum().backward()
    out = [p.grad.detach().numpy().copy() for p in net.parameters()]
    if x.requires_grad:
        out.append(x.grad.detach().numpy().copy())
    return y.detach().numpy().copy(), out


def _same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("segments", [1, 2, 3, 5])
def test_checkpoint_sequential_matches_torch(segments):
    x_np = np.random.default_rng(1).standard_normal((4, 8))
    net_c, net_t = _mlp(cr), _mlp(torch)
    xc = cr.tensor(x_np, requires_grad=True)
    xt = torch.tensor(x_np, requires_grad=True)
    yc, gc = _grads(net_c, xc, lambda: ccp.checkpoint_sequential(net_c, segments, xc,
                                                                 use_reentrant=False))
    yt, gt = _grads(net_t, xt, lambda: tcp.checkpoint_sequential(net_t, segments, xt,
                                                                 use_reentrant=False))
    np.testing.assert_allclose(yc, yt, rtol=1e-12, atol=1e-12)
    for a, b in zip(gc, gt):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_checkpoint_matches_torch_with_kwargs_and_constant_input():
    # The input does not require grad: the parameters inside still get their gradients.
    rng = np.random.default_rng(2)
    w, b, x = rng.standard_normal((3, 5)), rng.standard_normal(3), rng.standard_normal((2, 5))
    lin_c, lin_t = cr.nn.Linear(5, 3).double(), torch.nn.Linear(5, 3).double()
    with cr.no_grad(), torch.no_grad():
        lin_c.weight.copy_(cr.tensor(w))
        lin_c.bias.copy_(cr.tensor(b))
        lin_t.weight.copy_(torch.tensor(w))
        lin_t.bias.copy_(torch.tensor(b))

    def f_c(t, *, scale):
        return cr.tanh(lin_c(t)) * scale

    def f_t(t, *, scale):
        return torch.tanh(lin_t(t)) * scale

    yc = ccp.checkpoint(f_c, cr.tensor(x), scale=2.0, use_reentrant=False)
    yt = tcp.checkpoint(f_t, torch.tensor(x), scale=2.0, use_reentrant=False)
    assert yc.requires_grad and yt.requires_grad
    yc.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(lin_c.weight.grad.numpy(), lin_t.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(lin_c.bias.grad.numpy(), lin_t.bias.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("segments", [2, 4])
def test_dropout_gradients_equal_the_plain_run(segments):
    net = _mlp(cr, depth=8, dropout=0.3)
    x = cr.randn(5, 8, dtype=cr.float64, requires_grad=True)

    def seeded(fn):
        def run():
            cr.manual_seed(7)
            return fn()
        return run

    y0, g0 = _grads(net, x, seeded(lambda: net(x)))
    y1, g1 = _grads(net, x, seeded(lambda: checkpoint_sequential(net, segments, x)))
    np.testing.assert_array_equal(y0, y1)
    _same(g0, g1)
    # The generator goes on as after the plain run: the recomputation put it back.
    cr.manual_seed(7)
    net(x)
    want = cr.rand(3).numpy()
    cr.manual_seed(7)
    checkpoint_sequential(net, segments, x).sum().backward()
    np.testing.assert_array_equal(cr.rand(3).numpy(), want)


def test_without_preserve_rng_state_the_masks_differ():
    net = _mlp(cr, depth=4, dropout=0.5)
    x = cr.randn(6, 8, dtype=cr.float64)

    def run(preserve):
        cr.manual_seed(3)
        return checkpoint(net, x, preserve_rng_state=preserve)

    _, g_plain = _grads(net, x, lambda: (cr.manual_seed(3), net(x))[1])
    _, g_kept = _grads(net, x, lambda: run(True))
    _, g_lost = _grads(net, x, lambda: run(False))
    _same(g_plain, g_kept)
    assert any(not np.array_equal(a, b) for a, b in zip(g_plain, g_lost))


def test_only_the_segment_inputs_are_kept():
    net = _mlp(cr, depth=4)
    x = cr.randn(3, 8, dtype=cr.float64, requires_grad=True)
    y = checkpoint(net, x)
    nodes, stack = [], [y._node]
    while stack:
        n = stack.pop()
        if n is None or n in nodes:
            continue
        nodes.append(n)
        stack.extend(t._node for t in n.inputs)
    assert len(nodes) == 8  # 4 linear + 4 tanh
    for n in nodes:
        assert n.out is None and type(n.saved) is Packed
        assert all(type(i) is ccp._Handle for i in n.saved.items)
    frames = {i.frame for n in nodes for i in n.saved.items}
    assert len(frames) == 1
    (frame,) = frames
    assert [a is x._data for a in frame.kept_arrays()] == [True]


def test_nested_checkpoints():
    net = _mlp(cr, depth=6, dropout=0.2)
    x = cr.randn(4, 8, dtype=cr.float64, requires_grad=True)
    mods = list(net.children())

    def inner(h):
        return checkpoint(lambda t: mods[4](mods[3](mods[2](t))), h)

    def outer(h):
        h = mods[1](mods[0](h))
        h = inner(h)
        for m in mods[5:]:
            h = checkpoint(m, h)
        return h

    def seeded(fn):
        cr.manual_seed(11)
        return fn()

    y0, g0 = _grads(net, x, lambda: seeded(lambda: net(x)))
    y1, g1 = _grads(net, x, lambda: seeded(lambda: checkpoint(outer, x)))
    np.testing.assert_array_equal(y0, y1)
    _same(g0, g1)


def test_non_tensor_arguments_and_outputs():
    lin = cr.nn.Linear(3, 3).double()
    x = cr.randn(2, 3, dtype=cr.float64, requires_grad=True)

    def f(t, factor, options, name=None):
        h = lin(t) * factor
        return {"h": h, "n": options["n"], "label": name, "pair": (h.sum(), 7)}

    out = checkpoint(f, x, 3.0, {"n": 5}, name="seg")
    assert out["n"] == 5 and out["label"] == "seg" and out["pair"][1] == 7
    (out["h"].square().sum() + out["pair"][0]).backward()
    got = (x.grad.numpy().copy(), lin.weight.grad.numpy().copy())
    x.grad = lin.weight.grad = lin.bias.grad = None
    plain = f(x, 3.0, {"n": 5})
    (plain["h"].square().sum() + plain["pair"][0]).backward()
    np.testing.assert_array_equal(got[0], x.grad.numpy())
    np.testing.assert_array_equal(got[1], lin.weight.grad.numpy())


def test_autograd_grad_and_retain_graph():
    net = _mlp(cr, depth=3)
    x = cr.randn(2, 8, dtype=cr.float64, requires_grad=True)
    params = list(net.parameters())
    y = checkpoint(net, x).sum()
    g1 = cr.autograd.grad(y, params + [x], retain_graph=True)
    g2 = cr.autograd.grad(y, params + [x])  # the segment is recomputed again
    want = cr.autograd.grad(net(x).sum(), params + [x])
    for a, b, c in zip(g1, g2, want):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), c.numpy())
    assert all(p.grad is None for p in params)  # autograd.grad fills no .grad


def test_second_order_through_a_checkpoint():
    x = cr.tensor([0.4, -0.7], dtype=cr.float64, requires_grad=True)
    y = checkpoint(lambda t: (t.sin() * t).sum(), x)
    (g,) = cr.autograd.grad(y, x, create_graph=True)
    (gg,) = cr.autograd.grad(g.sum(), x)
    xd = x.detach().numpy()
    np.testing.assert_allclose(gg.numpy(), 2 * np.cos(xd) - xd * np.sin(xd))


def test_custom_function_inside_a_checkpoint():
    class Square(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * g * x

    x = cr.tensor([1.0, -2.0, 3.0], dtype=cr.float64, requires_grad=True)
    y = checkpoint(lambda t: Square.apply(t.exp()).sum(), x)
    y.backward()
    xd = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(2 * xd))


@pytest.mark.parametrize("use_reentrant", [None, True, False])
def test_every_use_reentrant_value_gives_the_plain_gradients(use_reentrant):
    net = _mlp(cr, depth=2)
    x = cr.randn(2, 8, dtype=cr.float64)
    _, g0 = _grads(net, x, lambda: net(x))
    _, g1 = _grads(net, x, lambda: checkpoint(net, x, use_reentrant=use_reentrant))
    _same(g0, g1)


def test_under_no_grad_it_is_a_plain_call():
    net = _mlp(cr, depth=2)
    x = cr.randn(2, 8, dtype=cr.float64)
    with cr.no_grad():
        y = checkpoint(net, x)
    assert not y.requires_grad
    np.testing.assert_array_equal(y.numpy(), net(x).detach().numpy())


def test_context_fn_wraps_forward_and_recomputation():
    log = []

    class Ctx:
        def __init__(self, name):
            self.name = name

        def __enter__(self):
            log.append(self.name)

        def __exit__(self, *exc):
            return False

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = checkpoint(lambda t: (t * t).sum(), x, context_fn=lambda: (Ctx("fwd"), Ctx("re")))
    assert log == ["fwd"]
    y.backward()
    assert log == ["fwd", "re"]


def test_a_function_that_changes_between_runs_is_refused():
    calls = []

    def f(t):
        calls.append(1)
        return t.exp() if len(calls) == 1 else t.exp().exp()

    x = cr.tensor([0.1, 0.2], requires_grad=True)
    y = checkpoint(f, x).sum()
    with pytest.raises(CheckpointError, match="same operations"):
        y.backward()

    shapes = iter([2, 1])

    def g(t):
        return t[:next(shapes)].exp()

    x3 = cr.tensor([0.1, 0.2, 0.3], requires_grad=True)
    y = checkpoint(g, x3).sum()
    with pytest.raises(CheckpointError, match="same thing"):
        y.backward()
    y = checkpoint(lambda t: t.exp(), x3, determinism_check="none").sum()
    y.backward()
    np.testing.assert_allclose(x3.grad.numpy(), np.exp([0.1, 0.2, 0.3]), rtol=1e-6)


def test_an_input_changed_in_place_is_refused():
    x = cr.tensor([0.1, 0.2], requires_grad=True)
    h = x * 1.0
    y = checkpoint(lambda t: t.exp(), h).sum()
    with cr.no_grad():
        h.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_bad_arguments():
    x = cr.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="callable"):
        checkpoint(3, x)
    with pytest.raises(ValueError, match="determinism_check"):
        checkpoint(lambda t: t, x, determinism_check="strict")
    net = cr.nn.Sequential(cr.nn.Linear(2, 2), cr.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="segments"):
        checkpoint_sequential(net, 0, x)
    with pytest.raises(ValueError, match="at most one per function"):
        checkpoint_sequential(net, 3, x)
    with pytest.raises(ValueError, match="unexpected keyword"):
        checkpoint_sequential(net, 1, x, speed=2)


def test_plain_lists_of_functions():
    fns = [lambda t: t * 2.0, cr.tanh, lambda t: t + 1.0, cr.sin]
    x = cr.tensor([0.3, 0.6], dtype=cr.float64, requires_grad=True)
    checkpoint_sequential(fns, 2, x).sum().backward()
    got = x.grad.numpy().copy()
    x.grad = None
    h = x
    for f in fns:
        h = f(h)
    h.sum().backward()
    np.testing.assert_array_equal(got, x.grad.numpy())
