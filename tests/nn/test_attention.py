"""Scaled dot-product attention and MultiheadAttention against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_twin import close, copy_weights, torch_dtype

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn


@pytest.mark.parametrize("mask", [None, "bool", "float", "causal"])
def test_scaled_dot_product_attention(mask):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s) for s in [(2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)])
    kw = {}
    if mask == "bool":
        m = rng.uniform(size=(4, 6)) > 0.3
        m[:, 0] = True  # every query may attend somewhere
        kw = {"attn_mask": m}
    elif mask == "float":
        kw = {"attn_mask": rng.standard_normal((4, 6))}
    elif mask == "causal":
        kw = {"is_causal": True}
    ours_in = [cr.tensor(a, requires_grad=True) for a in (q, k, v)]
    th_in = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    ours = F.scaled_dot_product_attention(
        *ours_in, **{k_: (cr.tensor(v_) if isinstance(v_, np.ndarray) else v_)
                     for k_, v_ in kw.items()})
    theirs = TF.scaled_dot_product_attention(
        *th_in, **{k_: (torch.tensor(v_) if isinstance(v_, np.ndarray) else v_)
                   for k_, v_ in kw.items()})
    close(ours, theirs, np.float64, "attention output")
    up = rng.standard_normal(theirs.shape)
    ours.backward(cr.tensor(up))
    theirs.backward(torch.tensor(up))
    for a, b, name in zip(ours_in, th_in, "qkv"):
        close(a.grad, b.grad, np.float64, f"grad of {name}")


def test_scaled_dot_product_attention_gradcheck():
    q, k, v = (cr.randn(2, 3, 4, dtype=cr.float64, requires_grad=True) for _ in range(3))
    assert cr.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True),
                        (q, k, v))
    assert cr.gradgradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c), (q, k, v))


def _run(ours, theirs, tensors, dtype, **kw):
    cin = [cr.tensor(a, requires_grad=True) for a in tensors]
    tin = [torch.tensor(a, requires_grad=True) for a in tensors]
    ckw = {k: cr.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    co, cw = ours(*cin, **ckw)
    to, tw = theirs(*tin, **tkw)
    close(co, to, dtype, "output")
    if tw is None:
        assert cw is None
    else:
        close(cw, tw, dtype, "attention weights")
    up = np.random.default_rng(3).standard_normal(to.shape).astype(dtype)
    loss_c, loss_t = (co * cr.tensor(up)).sum(), (to * torch.tensor(up)).sum()
    if tw is not None:
        loss_c, loss_t = loss_c + cw.sum() * 0.5, loss_t + tw.sum() * 0.5
    loss_c.backward()
    loss_t.backward()
    for a, b in zip(cin, tin):
        close(a.grad, b.grad, dtype, "input grad")
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        close(p.grad, tp[name].grad, dtype, f"grad of {name}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kw", [{}, {"average_attn_weights": False}, {"need_weights": False},
                                {"masks": True}, {"is_causal": True}])
def test_multihead_attention(batch_first, kw, dtype):
    th = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=torch_dtype(dtype))
    ours = nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=dtype)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in th.named_parameters()]
    copy_weights(th, ours)
    rng = np.random.default_rng(1)
    shape_q, shape_kv = ((3, 4, 8), (3, 5, 8)) if batch_first else ((4, 3, 8), (5, 3, 8))
    kw = dict(kw)
    if kw.pop("masks", False):
        am = rng.uniform(size=(4, 5)) > 0.7
        am[:, 0] = False
        kpm = np.zeros((3, 5), dtype=bool)
        kpm[1, 3:] = True
        kw.update(attn_mask=am, key_padding_mask=kpm)
    q = rng.standard_normal(shape_q).astype(dtype)
    if kw.get("is_causal"):
        kw["attn_mask"] = np.triu(np.ones((4, 4), dtype=bool), 1)
        _run(ours, th, [q, q, q], dtype, **kw)
        return
    kv = rng.standard_normal(shape_kv).astype(dtype)
    _run(ours, th, [q, kv, kv.copy()], dtype, **kw)


def test_multihead_attention_kdim_vdim_unbatched_and_float_mask():
    th = torch.nn.MultiheadAttention(6, 3, kdim=4, vdim=5, dtype=torch.float64)
    ours = nn.MultiheadAttention(6, 3, kdim=4, vdim=5, dtype=np.float64)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in th.named_parameters()]
    copy_weights(th, ours)
    rng = np.random.default_rng(2)
    q, k, v = rng.standard_normal((4, 6)), rng.standard_normal((7, 4)), rng.standard_normal((7, 5))
    _run(ours, th, [q, k, v], np.float64, attn_mask=rng.standard_normal((4, 7)))


def test_multihead_attention_errors_and_init():
    with pytest.raises(ValueError, match="multiple of num_heads"):
        nn.MultiheadAttention(7, 2)
    mha = nn.MultiheadAttention(8, 2)
    assert not mha.in_proj_bias.detach().numpy().any()
    assert not mha.out_proj.bias.detach().numpy().any()
    bound = np.sqrt(6 / (8 + 24))
    assert np.abs(mha.in_proj_weight.detach().numpy()).max() <= bound
    with pytest.raises(ValueError, match="do not fit"):
        mha(cr.zeros(4, 3, 6), cr.zeros(4, 3, 6), cr.zeros(4, 3, 6))
    with pytest.raises(ValueError, match="key_padding_mask of shape"):
        x = cr.zeros(4, 3, 8)
        mha(x, x, x, key_padding_mask=cr.zeros(3, 5, dtype=cr.bool))


@pytest.mark.parametrize("kw", [{}, {"need_weights": False}, {"average_attn_weights": False},
                                {"masks": True}, {"separate": True}, {"unbatched": True}])
def test_multi_head_attention_forward_matches_torch(kw):
    rng = np.random.default_rng(5)
    e, h, tgt, src, n = 6, 3, 4, 5, 2
    kw = dict(kw)
    shape_q, shape_kv = ((tgt, e), (src, e)) if kw.pop("unbatched", False) else \
        ((tgt, n, e), (src, n, e))
    q, k, v = rng.standard_normal(shape_q), rng.standard_normal(shape_kv), \
        rng.standard_normal(shape_kv)
    w_in, b_in = rng.standard_normal((3 * e, e)), rng.standard_normal(3 * e)
    w_out, b_out = rng.standard_normal((e, e)), rng.standard_normal(e)
    extra = {}
    if kw.pop("masks", False):
        am = rng.uniform(size=(tgt, src)) > 0.7
        am[:, 0] = False
        kpm = np.zeros((n, src), dtype=bool)
        kpm[1, -2:] = True
        extra = {"attn_mask": am, "key_padding_mask": kpm}
    if kw.pop("separate", False):
        ws = [rng.standard_normal((e, e)) for _ in range(3)]
        extra.update(use_separate_proj_weight=True, q_proj_weight=ws[0], k_proj_weight=ws[1],
                     v_proj_weight=ws[2])
    args = (q, k, v)
    params = (w_in, b_in, None, None, False, 0.0, w_out, b_out)

    def run(lib, F_):
        xs = [lib.tensor(a, requires_grad=True) for a in args]
        ps = [lib.tensor(p, requires_grad=True) if isinstance(p, np.ndarray) else p
              for p in params]
        ex = {k_: (lib.tensor(v_, requires_grad=v_.dtype != bool) if isinstance(v_, np.ndarray)
                   else v_) for k_, v_ in extra.items()}
        out, w = F_.multi_head_attention_forward(*xs, e, h, *ps, **ex, **kw)
        total = (out * lib.tensor(np.cos(np.arange(out.numel())).reshape(out.shape))).sum()
        if w is not None:
            total = total + w.sum() * 0.5
        total.backward()
        grads = [t.grad for t in xs] + [p.grad for p in ps if hasattr(p, "grad")]
        return out, w, grads

    co, cw, cg = run(cr, F)
    to, tw, tg = run(torch, TF)
    close(co, to, np.float64, "output")
    assert (cw is None) == (tw is None)
    if tw is not None:
        close(cw, tw, np.float64, "weights")
    for a, b in zip(cg, tg):
        assert (a is None) == (b is None)  # the unused in_proj_weight gets none in both
        if b is not None:
            close(a, b, np.float64, "gradient")
