"""The speed paths keep PyTorch's semantics: accuracy of the vectorized erf and GELU, the
in-place rules that write into an upstream gradient the engine owns, and the fused primitives
(LSTM layer, attention, layer norm, embedding backward, bias in the GEMM) against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.ops import _special

# ---- erf ------------------------------------------------------------------------------------


def _ulps(got, want):
    want = np.asarray(want)
    return np.abs(got.astype(np.float64) - want) / np.spacing(np.abs(want).astype(got.dtype))


def test_erf_float64_within_two_ulp_of_libm_on_a_dense_grid():
    x = np.concatenate([np.linspace(-7.0, 7.0, 400_001), np.geomspace(1e-300, 1.0, 2001),
                        -np.geomspace(1e-300, 1.0, 2001), [5.9, 5.93, 5.95, 6.0, 6.5, 27.0, 1e300]])
    want = np.array([math.erf(v) for v in x])
    assert _ulps(_special.erf(x), want).max() <= 2


def test_erf_float32_rounds_like_libm():
    x = np.linspace(-5.0, 5.0, 200_001, dtype=np.float32)
    want = np.array([math.erf(float(v)) for v in x], dtype=np.float32)
    got = _special.erf(x)
    assert got.dtype == np.float32
    assert _ulps(got, want.astype(np.float64)).max() <= 1


def test_erf_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-320])
    got = _special.erf(x)
    np.testing.assert_array_equal(got[:4], [0.0, -0.0, 1.0, -1.0])
    assert np.signbit(got[1]) and np.isnan(got[4]) and got[5] == math.erf(1e-320)
    assert _special.erf(np.array([1, 2])).dtype == np.float64  # integers compute as float64
    assert _special.erf(np.float64(0.5)) == pytest.approx(math.erf(0.5), rel=1e-16)


def test_cr_erf_matches_torch():
    x = np.linspace(-6, 6, 1001)
    for dt in (np.float32, np.float64):
        a = cr.tensor(x.astype(dt), requires_grad=True)
        t = torch.tensor(x.astype(dt), requires_grad=True)
        cr.erf(a).sum().backward()
        torch.erf(t).sum().backward()
        np.testing.assert_allclose(cr.erf(a).detach().numpy(), torch.erf(t).detach().numpy(),
                                   rtol=2e-7 if dt == np.float32 else 1e-15, atol=0)
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-12)


# ---- exact GELU -----------------------------------------------------------------------------


def _gelu_reference(x):
    """x Phi(x) and Phi(x) + x phi(x) in float64 from libm (erfc keeps the lower tail)."""
    x = x.astype(np.float64)
    cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x])
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    return x * cdf, cdf + x * pdf


def test_gelu_float32_is_accurate_to_a_few_ulp_and_keeps_the_lower_tail():
    x = np.concatenate([np.linspace(-14, 14, 140_001), np.geomspace(1e-30, 14, 2001),
                        -np.geomspace(1e-30, 14, 2001)]).astype(np.float32)
    y, d = _special.gelu_float32(x)
    want_y, want_d = _gelu_reference(x)
    normal = np.abs(want_y) > 1e-30
    ulps = _ulps(y[normal], want_y[normal])
    a = np.abs(x[normal])
    # PyTorch's float32 GELU: up to 9 ulp in [-1, 1), 544 in [-3, -1), wrong below -5.5
    assert ulps[a <= 1].max() <= 5 and ulps[a <= 3].max() <= 10 and ulps[a <= 6].max() <= 40
    # in the far lower tail (where PyTorch's 1 + erf cancels to 0) relative error stays small
    assert (np.abs(y[normal] - want_y[normal]) / np.abs(want_y[normal])).max() < 1e-5
    assert np.abs(d - want_d).max() < 3e-7


def test_gelu_forward_and_gradient_match_torch():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(5000) * 3, np.linspace(-8, 8, 501)])
    for dt, tol in ((np.float32, 1e-6), (np.float64, 1e-12)):
        a = cr.tensor(x.astype(dt), requires_grad=True)
        t = torch.tensor(x.astype(dt), requires_grad=True)
        up = rng.standard_normal(x.shape).astype(dt)
        ya, yt = F.gelu(a), torch.nn.functional.gelu(t)
        ya.backward(cr.tensor(up))
        yt.backward(torch.tensor(up))
        np.testing.assert_allclose(ya.detach().numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)
        assert ya.dtype == np.dtype(dt) and a.grad.dtype == np.dtype(dt)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_special_values_match_torch(dtype):
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 20.0, -20.0], dtype=dtype)
    a = cr.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    F.gelu(a).sum().backward()
    torch.nn.functional.gelu(t).sum().backward()
    np.testing.assert_array_equal(F.gelu(a).detach().numpy(),
                                  torch.nn.functional.gelu(t).detach().numpy())
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-30)


def test_gelu_float16_rounds_the_float32_result():
    x = np.linspace(-4, 4, 101).astype(np.float16)
    y = F.gelu(cr.tensor(x)).numpy()
    assert y.dtype == np.float16
    np.testing.assert_array_equal(y, _special.gelu_float32(x.astype(np.float32))[0].astype(
        np.float16))


def test_gelu_large_arrays_cross_chunk_boundaries():
    x = np.random.default_rng(1).standard_normal(_special.GELU_CHUNK * 2 + 7).astype(np.float32)
    y, d = _special.gelu_float32(x)
    y2, d2 = zip(*(_special.gelu_float32(x[i:i + 1000]) for i in range(0, x.size, 1000)))
    np.testing.assert_array_equal(y, np.concatenate(y2))
    np.testing.assert_array_equal(d, np.concatenate(d2))


# ---- rules that write into an upstream gradient the engine owns ------------------------------


def _owned_upstream(name):
    """f(x) * 3 then summed: the product's gradient is new and the engine's, so f's rule gets
    it with ``owns_g`` and may work in place. Compared with PyTorch, and the leaf's gradient
    must not alias anything."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 6, 8))
    mask = rng.random((6, 8)) > 0.5
    fns = {
        "gelu": (lambda m, v: m.nn.functional.gelu(v)),
        "softmax": (lambda m, v: m.softmax(v, -1)),
        "masked_fill": (lambda m, v: v.masked_fill(m.tensor(mask), -2.0)),
        "relu": (lambda m, v: m.relu(v)),
    }
    fn = fns[name]
    a = cr.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    ((fn(cr, a) * 3.0) * cr.tensor(x)).sum().backward()
    ((fn(torch, t) * 3.0) * torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["gelu", "softmax", "masked_fill", "relu"])
def test_in_place_rules_on_owned_gradients_match_torch(name):
    _owned_upstream(name)


def test_masked_fill_gradient_is_exactly_zero_under_the_mask_even_for_inf():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.masked_fill(cr.tensor([True, False, True]), 0.0)
    y.backward(cr.tensor([np.inf, 1.0, np.nan]))
    assert x.grad.tolist()[0] == 0.0 and x.grad.tolist()[1] == 1.0 and x.grad.tolist()[2] == 0.0


def test_dropout_in_place_backward_and_keep_rate():
    cr.manual_seed(3)
    x = cr.ones(200_000, requires_grad=True)
    y = F.dropout(x, 0.3)
    kept = (y.detach().numpy() != 0).mean()
    assert abs(kept - 0.7) < 0.005
    (y * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2.0 * y.detach().numpy())


def test_dropout_mask_follows_a_batch_innermost_layout():
    x = cr.randn(8, 4, 6, 6).permute(1, 2, 3, 0).contiguous().permute(3, 0, 1, 2)
    assert not x._data.flags.c_contiguous
    x.requires_grad_(True)
    y = F.dropout(x, 0.5)
    assert y._data.strides == x._data.strides
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy() != 0, y.detach().numpy() != 0)


# ---- fused primitives against PyTorch ---------------------------------------------------------


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_module_matches_torch(bidirectional, batch_first):
    torch.manual_seed(0)
    th = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=bidirectional,
                       batch_first=batch_first).double()
    ours = cr.nn.LSTM(3, 5, num_layers=2, bidirectional=bidirectional,
                      batch_first=batch_first, dtype=cr.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in th.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 3) if batch_first else (4, 2, 3))
    h0 = rng.standard_normal((4 if bidirectional else 2, 2, 5))
    c0 = rng.standard_normal(h0.shape)
    xc, hc, cc = (cr.tensor(a, requires_grad=True) for a in (x, h0, c0))
    xt, ht, ct = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    oc, (hnc, cnc) = ours(xc, (hc, cc))
    ot, (hnt, cnt) = th(xt, (ht, ct))
    ups = [rng.standard_normal(o.shape) for o in (ot, hnt, cnt)]
    sum((o * cr.tensor(u)).sum() for o, u in zip((oc, hnc, cnc), ups)).backward()
    sum((o * torch.tensor(u)).sum() for o, u in zip((ot, hnt, cnt), ups)).backward()
    for a, b in zip((oc, hnc, cnc, xc.grad, hc.grad, cc.grad),
                    (ot, hnt, cnt, xt.grad, ht.grad, ct.grad)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
    for (name, p), (_, q) in zip(ours.named_parameters(), th.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)


def test_sdpa_with_dropout_uses_one_mask_for_forward_and_backward():
    rng = np.random.default_rng(0)
    q, k, v = (cr.tensor(rng.standard_normal((2, 5, 4)), requires_grad=True) for _ in range(3))
    cr.manual_seed(1)
    y = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    keep = y.grad_fn.attrs["keep"]
    assert set(np.unique(keep)) <= {0.0, 2.0}
    qt, kt, vt = (torch.tensor(a.detach().numpy(), requires_grad=True) for a in (q, k, v))
    w = torch.softmax(qt @ kt.transpose(-1, -2) / 2.0, -1) * torch.tensor(keep)
    yt = w @ vt
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    up = rng.standard_normal(yt.shape)
    y.backward(cr.tensor(up))
    yt.backward(torch.tensor(up))
    for a, b in ((q, qt), (k, kt), (v, vt)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_multihead_attention_without_weights_matches_torch_in_training_mode():
    torch.manual_seed(0)
    th = torch.nn.MultiheadAttention(8, 2, dropout=0.0).double()
    ours = cr.nn.MultiheadAttention(8, 2, dtype=cr.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in th.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3, 8))
    mask = np.triu(np.ones((5, 5), dtype=bool), 1)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    oc = ours(xc, xc, xc, attn_mask=cr.tensor(mask), need_weights=False)[0]
    ot = th(xt, xt, xt, attn_mask=torch.tensor(mask), need_weights=False)[0]
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=1e-10, atol=1e-12)
    oc.sum().backward()
    ot.sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape,normalized", [((3, 5, 8), (8,)), ((2, 4, 6), (4, 6)),
                                              ((7, 16), (16,))])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_torch(shape, normalized, affine):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 3 + 1
    w = rng.standard_normal(normalized) if affine else None
    b = rng.standard_normal(normalized) if affine else None
    ins = [a for a in (x, w, b) if a is not None]
    ci = [cr.tensor(a, requires_grad=True) for a in ins]
    ti = [torch.tensor(a, requires_grad=True) for a in ins]
    yc = F.layer_norm(ci[0], normalized, *ci[1:])
    yt = torch.nn.functional.layer_norm(ti[0], normalized, *ti[1:])
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    up = rng.standard_normal(shape)
    yc.backward(cr.tensor(up))
    yt.backward(torch.tensor(up))
    for a, t in zip(ci, ti):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-11)
    assert cr.gradcheck(lambda *a: F.layer_norm(a[0], normalized, *a[1:]),
                        [cr.tensor(a[:2] if a.ndim == 3 else a, requires_grad=True)
                         for a in ins])


def test_embedding_backward_with_many_repeats_matches_add_at():
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 7, (40, 9))
    w = cr.tensor(rng.standard_normal((7, 5)).astype(np.float32), requires_grad=True)
    up = rng.standard_normal((40, 9, 5)).astype(np.float32)
    F.embedding(cr.tensor(idx), w).backward(cr.tensor(up))
    want = np.zeros((7, 5), np.float32)
    np.add.at(want, idx, up)
    np.testing.assert_array_equal(w.grad.numpy(), want)
    x = cr.tensor(rng.standard_normal((6, 3)), requires_grad=True)  # negative indices too
    x[cr.tensor(np.array([-1, 0, -1] * 10))].sum().backward()
    assert x.grad.numpy()[:, 0].tolist() == [10.0, 0, 0, 0, 0, 20.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_with_the_bias_in_the_gemm_matches_torch(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 100, 64)).astype(dtype)  # 300 x 256 outputs: the BLAS path
    w = rng.standard_normal((256, 64)).astype(dtype)
    b = rng.standard_normal(256).astype(dtype)
    yc = F.linear(cr.tensor(x), cr.tensor(w), cr.tensor(b)).numpy()
    yt = torch.nn.functional.linear(*map(torch.tensor, (x, w, b))).numpy()
    np.testing.assert_allclose(yc, yt, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-4 if dtype == np.float32 else 1e-11)
    xt = x[0].T.copy().T  # a transposed (column-major) input: its gradient in the same layout
    xc = cr.tensor(xt, requires_grad=True)
    F.linear(xc, cr.tensor(w), cr.tensor(b)).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), np.ones((100, 256), dtype) @ w, rtol=1e-5,
                               atol=1e-4)
