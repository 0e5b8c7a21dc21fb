"""Property tests: invariants of the engine that must hold for any shapes and values."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from _oracle import CR, TH

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "maximum": lambda a, b: cr.maximum(a, b) if isinstance(a, cr.Tensor) else torch.maximum(a, b),
    "minimum": lambda a, b: cr.minimum(a, b) if isinstance(a, cr.Tensor) else torch.minimum(a, b),
    "where": lambda a, b: (cr if isinstance(a, cr.Tensor) else torch).where(a > 1.2, a, b),
}


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast together: a common shape with dims dropped or set to 1."""
    full = draw(st.lists(st.integers(1, 3), min_size=0, max_size=3))

    def variant():
        keep = draw(st.integers(0, len(full)))
        dims = full[len(full) - keep:]
        return tuple(d if draw(st.booleans()) else 1 for d in dims)

    return variant(), variant()


@given(name=st.sampled_from(sorted(BINARY)), shapes=broadcast_pair(),
       seed=st.integers(0, 2 ** 16))
def test_binary_gradient_shape_equals_input_shape(name, shapes, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes
    da, db = rng.uniform(0.5, 2.0, sa), rng.uniform(0.5, 2.0, sb)
    a = cr.tensor(da, requires_grad=True)
    b = cr.tensor(db, requires_grad=True)
    y = BINARY[name](a, b)
    assert y.shape == np.broadcast_shapes(sa, sb)
    y.sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb
    at = torch.tensor(da, requires_grad=True)
    bt = torch.tensor(db, requires_grad=True)
    BINARY[name](at, bt).sum().backward()
    np.testing.assert_allclose(a.grad.detach().numpy(), at.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.grad.detach().numpy(), bt.grad.numpy(), rtol=1e-10, atol=1e-12)


@given(batch=broadcast_pair(), n=st.integers(1, 3), k=st.integers(1, 3), m=st.integers(1, 3))
def test_matmul_gradient_shapes_under_batch_broadcasting(batch, n, k, m):
    sa, sb = batch[0] + (n, k), batch[1] + (k, m)
    a = cr.randn(*sa, requires_grad=True)
    b = cr.randn(*sb, requires_grad=True)
    (a @ b).sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb


UNARY = [cr.exp, cr.tanh, cr.sigmoid, cr.sin, lambda t: t * t, lambda t: t.softmax(-1),
         lambda t: t.sum(-1, keepdim=True), lambda t: t.flip(0)]


@given(i=st.integers(0, len(UNARY) - 1), j=st.integers(0, len(UNARY) - 1),
       shape=st.lists(st.integers(1, 3), min_size=1, max_size=3), seed=st.integers(0, 999))
def test_tensor_used_twice_gets_the_sum_of_both_paths(i, j, shape, seed):
    data = np.random.default_rng(seed).standard_normal(shape)
    f, g = UNARY[i], UNARY[j]

    x = cr.tensor(data, requires_grad=True)
    (f(x).sum() + g(x).sum()).backward()
    both = x.grad.detach().numpy().copy()

    x1 = cr.tensor(data, requires_grad=True)
    f(x1).sum().backward()
    x2 = cr.tensor(data, requires_grad=True)
    g(x2).sum().backward()
    np.testing.assert_allclose(both, x1.grad.detach().numpy() + x2.grad.detach().numpy(),
                               rtol=1e-12, atol=1e-12)


@given(i=st.integers(0, len(UNARY) - 1), shape=st.lists(st.integers(1, 3), min_size=1,
                                                        max_size=3))
def test_no_grad_records_no_graph(i, shape):
    x = cr.randn(*shape, requires_grad=True)
    with cr.no_grad():
        y = UNARY[i](x * 2 + 1)
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=3), times=st.integers(1, 4))
def test_gradients_accumulate_linearly(shape, times):
    x = cr.randn(*shape, dtype=cr.float64, requires_grad=True)
    for _ in range(times):
        (x.tanh() * 3).sum().backward()
    one = cr.tensor(x.detach().numpy(), requires_grad=True)
    (one.tanh() * 3).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), times * one.grad.detach().numpy(),
                               rtol=1e-12)


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), seed=st.integers(0, 999))
def test_reshape_permute_round_trip_keeps_gradient(shape, seed):
    data = np.random.default_rng(seed).standard_normal(shape)
    x = cr.tensor(data, requires_grad=True)
    perm = tuple(np.random.default_rng(seed).permutation(len(shape)))
    y = x.permute(*perm).reshape(-1).reshape(*[shape[p] for p in perm])
    (y * cr.tensor(data.transpose(perm))).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), data)


# ---- random programs against PyTorch -------------------------------------------------------
# Each step applies one op to values already computed (so values fan out and the graph is a
# DAG, not a chain); every op keeps values bounded so float64 results compare tightly.

_UNARY_STEPS = {
    "tanh": lambda L, a: a.tanh(),
    "sigmoid": lambda L, a: a.sigmoid(),
    "sin": lambda L, a: a.sin(),
    "exp_tanh": lambda L, a: a.tanh().exp(),
    "square": lambda L, a: a * a,
    "softmax": lambda L, a: a.softmax(-1),
    "mean_keep": lambda L, a: a.mean(-1, keepdim=True),
    "sum0_keep": lambda L, a: a.sum(0, keepdim=True),
    "flip": lambda L, a: a.flip(0),
    "transpose_back": lambda L, a: a.transpose(0, 1).transpose(0, 1),
    "amax_keep": lambda L, a: L.amax(a, dim=1, keepdim=True),
}
_BINARY_STEPS = {
    "add": lambda L, a, b: a + b,
    "sub": lambda L, a, b: a - b,
    "mul": lambda L, a, b: a * b,
    "div": lambda L, a, b: a / (1 + b * b),
    "maximum": lambda L, a, b: L.maximum(a, b),
    "where": lambda L, a, b: L.where(a > b, a, b * 0.5),
}


@st.composite
def programs(draw):
    steps = []
    for k in range(draw(st.integers(1, 8))):
        n_values = 2 + k  # two inputs, then one value per step
        if draw(st.booleans()):
            name = draw(st.sampled_from(sorted(_UNARY_STEPS)))
            steps.append((name, (draw(st.integers(0, n_values - 1)),)))
        else:
            name = draw(st.sampled_from(sorted(_BINARY_STEPS)))
            steps.append((name, (draw(st.integers(0, n_values - 1)),
                                 draw(st.integers(0, n_values - 1)))))
    return steps


def _run(L, program, inputs):
    ns = CR if L is cr else TH
    values = list(inputs)
    for name, args in program:
        fn = _UNARY_STEPS.get(name) or _BINARY_STEPS[name]
        values.append(fn(ns, *(values[i] for i in args)))
    return values[-1]


@given(program=programs(), seed=st.integers(0, 2 ** 16))
def test_random_programs_match_torch(program, seed):
    rng = np.random.default_rng(seed)
    data = [rng.standard_normal((2, 3)), rng.standard_normal((2, 3))]
    xs = [cr.tensor(d, requires_grad=True) for d in data]
    ts = [torch.tensor(d, requires_grad=True) for d in data]
    y, yt = _run(cr, program, xs), _run(torch, program, ts)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    if not yt.requires_grad:
        return
    v = rng.standard_normal(tuple(yt.shape))
    y.backward(cr.tensor(v))
    yt.backward(torch.tensor(v))
    for x, xt in zip(xs, ts):
        want = np.zeros(x.shape) if xt.grad is None else xt.grad.numpy()
        got = np.zeros(x.shape) if x.grad is None else x.grad.detach().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(program=programs(), seed=st.integers(0, 2 ** 16))
def test_random_programs_second_order_match_torch(program, seed):
    rng = np.random.default_rng(seed)
    data = [rng.standard_normal((2, 3)), rng.standard_normal((2, 3))]
    v = rng.standard_normal((2, 3))
    xs = [cr.tensor(d, requires_grad=True) for d in data]
    ts = [torch.tensor(d, requires_grad=True) for d in data]
    y, yt = _run(cr, program, xs), _run(torch, program, ts)
    if not yt.requires_grad:
        return
    gs = cr.autograd.grad(y.sum(), xs, create_graph=True, allow_unused=True)
    gts = torch.autograd.grad(yt.sum(), ts, create_graph=True, allow_unused=True)
    lin = sum((g * cr.tensor(v)).sum() for g in gs if g is not None and g.requires_grad)
    lint = sum((g * torch.tensor(v)).sum() for g in gts if g is not None and g.requires_grad)
    if not isinstance(lint, torch.Tensor) or not lint.requires_grad:
        return
    hs = cr.autograd.grad(lin, xs, allow_unused=True) if isinstance(lin, cr.Tensor) else (
        None, None)
    hts = torch.autograd.grad(lint, ts, allow_unused=True)
    for h, ht in zip(hs, hts):
        want = np.zeros((2, 3)) if ht is None else ht.numpy()
        got = np.zeros((2, 3)) if h is None else h.detach().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
