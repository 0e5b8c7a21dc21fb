"""``cr.autograd.graph.saved_tensors_hooks``: every array an op keeps for backward goes through
``pack`` and comes back through ``unpack``.

The op table (``test_ops.py``) is replayed under hooks that move each saved array out of the
graph (into a store, as a file would): afterwards no node holds an array, not even the fused
ones (attention, the LSTM layer, convolution, GELU, layer norm, cross entropy), and the
gradients equal those of the plain run bit for bit. The float16 round trip is compared with
PyTorch under the same hooks.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from _oracle import CR, as_tuple, make_inputs
from chainrule.autograd import graph as cr_graph
from chainrule.autograd.saved import Packed, SavedEdge
from test_ops import ROWS, _arrays

saved_tensors_hooks = cr.autograd.graph.saved_tensors_hooks


class Store:
    """pack: move the array into a dict and hand out its key; unpack: give back a copy."""

    def __init__(self) -> None:
        self.arrays: dict = {}
        self.packed = self.unpacked = 0

    def pack(self, t):
        self.packed += 1
        key = len(self.arrays)
        self.arrays[key] = np.array(t.detach().numpy(), copy=True)
        return key

    def unpack(self, key):
        self.unpacked += 1
        return cr.from_numpy(self.arrays[key].copy())


def _nodes(outputs) -> list:
    seen, stack = [], [o._node for o in outputs if o._node is not None]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.append(n)
        stack.extend(t._node for t in n.inputs if t._node is not None)
    return seen


def _arrays_in(obj, found: list) -> list:
    """Every ndarray or Tensor inside ``obj`` (tuples, lists, dicts)."""
    if isinstance(obj, (np.ndarray, cr.Tensor)):
        found.append(obj)
    elif isinstance(obj, (tuple, list)):
        for v in obj:
            _arrays_in(v, found)
    elif isinstance(obj, dict):
        for v in obj.values():
            _arrays_in(v, found)
    return found


def _check_nothing_kept(nodes) -> None:
    for n in nodes:
        assert n.out is None and type(n.saved) is Packed, n
        for t in n.inputs:  # leaves that require grad stay (their .grad is filled in)
            assert type(t) is SavedEdge or (t.requires_grad and t._node is None)
        held = _arrays_in(n.attrs, [])
        assert not held, f"{n.op.name} keeps {len(held)} arrays in its attributes unpacked"
        assert all(isinstance(i, int) for i in n.saved.items)


def _grads(row, arrays, hooks=None):
    xs = make_inputs(arrays, "cr")
    if hooks is None:
        outs = as_tuple(row.fn(CR, *xs))
    else:
        with saved_tensors_hooks(hooks.pack, hooks.unpack):
            outs = as_tuple(row.fn(CR, *xs))
    outs = [o for o in outs if o.requires_grad]
    nodes = _nodes(outs)
    if hooks is not None:  # before backward frees them: what do the nodes hold?
        _check_nothing_kept(nodes)
    wrt = [x for x in xs if x.requires_grad]
    seeds = [cr.tensor(np.random.default_rng(5).standard_normal(o.shape)).to(o.dtype)
             for o in outs]
    gs = cr.autograd.grad(outs, wrt, grad_outputs=seeds, allow_unused=True)
    return [o.detach().numpy() for o in outs], gs, nodes


def _case_ids():
    return [pytest.param(r, i, id=f"{r.name}-{i}") for r in ROWS for i in range(len(r.cases))]


@pytest.mark.parametrize("row,case", _case_ids())
def test_every_op_packs_everything_it_saves_and_gets_it_back(row, case):
    arrays = _arrays(row, row.cases[case], seed=2)
    want_out, want, _ = _grads(row, arrays)
    store = Store()
    got_out, got, nodes = _grads(row, arrays, store)
    if nodes:  # (a few rows record nothing: t() of a vector, squeeze of no size-1 dim)
        assert store.packed > 0 and store.unpacked > 0
    for a, b in zip(got_out, want_out):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(got, want):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a.numpy(), b.numpy())


# ---- against PyTorch ---------------------------------------------------------------------------


def _mlp(L, x, w1, b1, w2, b2, y):
    h = L.nn.functional.gelu(L.nn.functional.linear(x, w1, b1))
    h = L.nn.functional.layer_norm(h, (h.shape[-1],))
    return L.nn.functional.cross_entropy(L.nn.functional.linear(h, w2, b2), y)


def _mlp_inputs(lib, rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((6, 5), (7, 5), (7,), (3, 7),
                                                                   (3,))]
    y = np.array([0, 2, 1, 1, 0, 2])
    if lib == "cr":
        ts = [cr.tensor(a, requires_grad=True) for a in arrays]
        return ts + [cr.tensor(y)]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ts + [torch.tensor(y)]


@pytest.mark.parametrize("dtype", ["float16", "float64"])
def test_pack_to_another_dtype_matches_torch(dtype):
    def hooks(lib):
        dt = getattr(lib, dtype)
        return (lambda t: t.to(dt) if t.dtype == lib.float32 else t,
                lambda t: t.to(lib.float32) if t.dtype == dt else t)

    xs_c, xs_t = _mlp_inputs("cr"), _mlp_inputs("torch")
    with cr.autograd.graph.saved_tensors_hooks(*hooks(cr)):
        loss_c = _mlp(cr, *xs_c)
    with torch.autograd.graph.saved_tensors_hooks(*hooks(torch)):
        loss_t = _mlp(torch, *xs_t)
    loss_c.backward()
    loss_t.backward()
    for a, b in zip(xs_c[:5], xs_t[:5]):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=2e-3, atol=2e-4)
    if dtype == "float16":  # the round trip is visible: not the plain gradients
        plain = _mlp_inputs("cr")
        _mlp(cr, *plain).backward()
        assert not np.allclose(plain[0].grad.numpy(), xs_c[0].grad.numpy(), rtol=1e-6,
                               atol=0)


def test_float16_round_trip_gradient_is_the_rule_on_rounded_values():
    # y = sum(x * w): dy/dx = w as float16 rounded it, dy/dw = x rounded.
    x = cr.tensor([1.0 / 3.0, 0.1], requires_grad=True)
    w = cr.tensor([2.0 / 3.0, 0.7], requires_grad=True)
    with saved_tensors_hooks(lambda t: t.to(cr.float16), lambda t: t.to(cr.float32)):
        y = (x * w).sum()
    y.backward()
    rounded = lambda t: t.detach().numpy().astype(np.float16).astype(np.float32)  # noqa: E731
    np.testing.assert_array_equal(x.grad.numpy(), rounded(w))
    np.testing.assert_array_equal(w.grad.numpy(), rounded(x))


def test_pack_to_files_and_back(tmp_path):
    paths = []

    def pack(t):
        path = os.path.join(tmp_path, f"saved{len(paths)}.npy")
        np.save(path, t.numpy())
        paths.append(path)
        return path

    def unpack(path):
        return cr.from_numpy(np.load(path))

    lin1, lin2 = cr.nn.Linear(4, 8), cr.nn.Linear(8, 2)
    params = list(lin1.parameters()) + list(lin2.parameters())
    x = cr.randn(3, 4)
    lin2(lin1(x).relu()).square().sum().backward()
    want = [p.grad.numpy().copy() for p in params]
    for p in params:
        p.grad = None
    with saved_tensors_hooks(pack, unpack):
        loss = lin2(lin1(x).relu()).square().sum()
    assert len(paths) >= 6 and all(os.path.exists(p) for p in paths)
    loss.backward()
    got = [p.grad.numpy() for p in params]
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_torch_twin_hooks_are_called_for_saved_values():
    # Both libraries call pack while recording and unpack during backward, never otherwise.
    for lib in (cr, torch):
        log: list = []

        def pack(t, log=log):
            log.append("pack")
            return t

        def unpack(t, log=log):
            log.append("unpack")
            return t

        x = lib.ones(3, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = (x.exp() * 2).sum()
        assert log and set(log) == {"pack"}
        n = len(log)
        y.backward()
        assert log[n:] and set(log[n:]) == {"unpack"}


def test_nested_hooks_use_the_innermost_and_restore():
    outer, inner = Store(), Store()
    x = cr.randn(3, requires_grad=True)
    with saved_tensors_hooks(outer.pack, outer.unpack):
        a = x.exp()
        with saved_tensors_hooks(inner.pack, inner.unpack):
            b = a.sin()
        c = b * a
    n_outer, n_inner = outer.packed, inner.packed
    assert n_outer > 0 and n_inner > 0
    c.sum().backward()
    assert outer.unpacked == n_outer and inner.unpacked == n_inner
    xd = x.detach().numpy()
    want = np.cos(np.exp(xd)) * np.exp(xd) * np.exp(xd) + np.sin(np.exp(xd)) * np.exp(xd)
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-5)
    assert cr_graph._make_node is cr_graph.Node  # no hooks left open: the plain path again


def test_hooks_are_per_thread():
    store = Store()
    started, go = threading.Event(), threading.Event()
    other = {}

    def work():
        x = cr.randn(4, requires_grad=True)
        started.set()
        go.wait(5)
        y = x.exp()
        other["packed"] = type(y._node.saved) is Packed

    th = threading.Thread(target=work)
    th.start()
    started.wait(5)
    with saved_tensors_hooks(store.pack, store.unpack):
        go.set()
        th.join(5)
        mine = cr.randn(2, requires_grad=True).exp()
    assert other["packed"] is False and type(mine._node.saved) is Packed


def test_no_hooks_means_the_plain_node_class_and_nothing_packed():
    assert cr_graph._make_node is cr_graph.Node
    x = cr.randn(3, requires_grad=True)
    y = x.exp()
    assert y._node.out is y._data and y._node.inputs[0] is x


def test_retain_graph_unpacks_again_and_create_graph_works():
    store = Store()
    x = cr.tensor([0.3, -1.2], requires_grad=True, dtype=cr.float64)
    with saved_tensors_hooks(store.pack, store.unpack):
        y = (x.sin() * x).sum()
    (g,) = cr.autograd.grad(y, x, create_graph=True)
    (gg,) = cr.autograd.grad(g.sum(), x)
    xd = x.detach().numpy()
    np.testing.assert_allclose(g.detach().numpy(), np.cos(xd) * xd + np.sin(xd))
    np.testing.assert_allclose(gg.numpy(), 2 * np.cos(xd) - xd * np.sin(xd))


def test_create_graph_through_a_parameter_packed_to_another_value():
    # The second derivative must reach the leaf through the unpacked copy of its value.
    for lib in (cr, torch):
        w = lib.tensor([0.5, 2.0], dtype=lib.float64, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
            y = (w * w * w).sum()
        (g,) = lib.autograd.grad(y, w, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), w)
        np.testing.assert_allclose(gg.detach().numpy(), [3.0, 12.0])


def test_custom_function_saved_tensors_go_through_the_hooks():
    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    store = Store()
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with saved_tensors_hooks(store.pack, store.unpack):
        y = Cube.apply(x)
    node = y._node
    assert node.attrs["ctx"]._saved == () and store.packed >= 2
    before = store.unpacked
    y.sum().backward()
    assert store.unpacked > before
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 12.0])


def test_in_place_change_of_a_saved_input_is_caught():
    x = cr.randn(3, requires_grad=True)
    store = Store()
    with saved_tensors_hooks(store.pack, store.unpack):
        h = x * 2
        y = (h * h).sum()
    with cr.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_in_place_write_into_an_output_keeps_the_recorded_gradient():
    # As without hooks: a no_grad write into a graph output keeps the recorded function's
    # gradient (the node packs a copy of the old values).
    def run(hooks):
        x = cr.tensor([0.5, 1.5], requires_grad=True)
        ctx = saved_tensors_hooks(lambda t: t, lambda t: t) if hooks else None
        if ctx:
            with ctx:
                y = x.exp()
        else:
            y = x.exp()
        with cr.no_grad():
            y.mul_(3.0)
        y.sum().backward()
        return x.grad.numpy()

    np.testing.assert_array_equal(run(True), run(False))


def test_unpack_must_return_the_same_shape_and_dtype():
    x = cr.randn(3, 2, requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: t.to(cr.float16)):
        y = (x * x).sum()
    with pytest.raises(RuntimeError, match="unpack hook.*dtype float16"):
        y.backward()
    with saved_tensors_hooks(lambda t: t, lambda t: 5):
        y = (x * x).sum()
    with pytest.raises(TypeError, match="must return a Tensor"):
        y.backward()


def test_bad_arguments_and_disable():
    with pytest.raises(TypeError, match="callable"):
        saved_tensors_hooks(1, lambda t: t)
    with cr.autograd.graph.disable_saved_tensors_hooks("not here"):
        with pytest.raises(RuntimeError, match="not here"):
            with saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with saved_tensors_hooks(lambda t: t, lambda t: t):  # allowed again afterwards
        pass


def test_save_on_cpu_keeps_gradients_as_torch():
    rng = np.random.default_rng(4)
    xa, wa = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    xc, wc = cr.tensor(xa, requires_grad=True), cr.tensor(wa, requires_grad=True)
    xt, wt = torch.tensor(xa, requires_grad=True), torch.tensor(wa, requires_grad=True)
    with cr.autograd.graph.save_on_cpu(pin_memory=False):
        yc = F.softmax(xc @ wc, dim=1)[:, 0].sum()
    with torch.autograd.graph.save_on_cpu(pin_memory=False):
        yt = torch.softmax(xt @ wt, dim=1)[:, 0].sum()
    yc.backward()
    yt.backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(wc.grad.numpy(), wt.grad.numpy(), rtol=1e-12)


def test_disable_saved_tensors_hooks_as_torch():
    with cr.autograd.graph.disable_saved_tensors_hooks("no hooks in cr"):
        with pytest.raises(RuntimeError, match="no hooks in cr"):
            with cr.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with torch.autograd.graph.disable_saved_tensors_hooks("no hooks in torch"):
        with pytest.raises(RuntimeError, match="no hooks in torch"):
            with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass


def test_tools_that_need_values_say_so():
    x = cr.randn(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        h = x.exp()
        y = h.sin().sum()
    edge = y._node.inputs[0]
    assert type(edge) is SavedEdge and edge.shape == (3,)
    with pytest.raises(RuntimeError, match="packed by saved_tensors_hooks"):
        _ = edge._data
    with pytest.raises(RuntimeError, match="packed by saved_tensors_hooks"):
        cr.explain(y)  # it shows every forward value: it needs them
    y.backward()  # backward itself is unaffected
    np.testing.assert_allclose(x.grad.numpy(), np.cos(h.detach().numpy()) * h.detach().numpy(),
                               rtol=1e-6)
