"""Embedding's options (max_norm, scale_grad_by_freq, sparse) and EmbeddingBag against
PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_twin import close, copy_weights

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn


def _grads_match(ours, theirs, c_args, t_args, c_kw=None, t_kw=None):
    co, to = ours(*c_args, **(c_kw or {})), theirs(*t_args, **(t_kw or {}))
    close(co, to, np.float64, "output")
    u = np.random.default_rng(5).standard_normal(to.shape)
    co.backward(cr.tensor(u))
    to.backward(torch.tensor(u))
    g = theirs.weight.grad
    close(ours.weight.grad, g.to_dense() if g.is_sparse else g, np.float64, "weight grad")
    close(ours.weight, theirs.weight.detach(), np.float64, "weight after the call")


@pytest.mark.parametrize("kw", [dict(max_norm=1.0), dict(max_norm=0.5, norm_type=1.0),
                                dict(scale_grad_by_freq=True), dict(sparse=True),
                                dict(padding_idx=2, scale_grad_by_freq=True, max_norm=1.5)])
def test_embedding_options(kw):
    theirs = torch.nn.Embedding(6, 4, dtype=torch.float64, **kw)
    ours = nn.Embedding(6, 4, dtype=np.float64, **kw)
    copy_weights(theirs, ours)
    idx = np.array([[1, 2, 1, 5], [0, 1, 3, 2]])
    _grads_match(ours, theirs, (cr.tensor(idx),), (torch.tensor(idx),))
    assert repr(ours) == repr(theirs)


BAGS = [
    dict(mode="sum"), dict(mode="mean"), dict(mode="max"),
    dict(mode="mean", padding_idx=1), dict(mode="max", padding_idx=3),
    dict(mode="sum", include_last_offset=True), dict(mode="mean", max_norm=1.0),
]


@pytest.mark.parametrize("kw,layout", [(kw, "offsets") for kw in BAGS] +
                         [(kw, "2d") for kw in BAGS if not kw.get("include_last_offset")])
def test_embedding_bag(kw, layout):
    theirs = torch.nn.EmbeddingBag(7, 3, dtype=torch.float64, **kw)
    ours = nn.EmbeddingBag(7, 3, dtype=np.float64, **kw)
    copy_weights(theirs, ours)
    assert repr(ours) == repr(theirs)
    if layout == "2d":
        idx = np.array([[1, 3, 3], [6, 0, 1], [1, 1, 1]])
        _grads_match(ours, theirs, (cr.tensor(idx),), (torch.tensor(idx),))
        return
    idx = np.array([1, 3, 3, 6, 0, 1, 2, 5, 1])
    offsets = np.array([0, 3, 3, 6]) if not kw.get("include_last_offset") else \
        np.array([0, 3, 3, 6, 9])
    _grads_match(ours, theirs, (cr.tensor(idx), cr.tensor(offsets)),
                 (torch.tensor(idx), torch.tensor(offsets)))


def test_embedding_bag_per_sample_weights_and_gradcheck():
    theirs = torch.nn.EmbeddingBag(5, 2, mode="sum", dtype=torch.float64)
    ours = nn.EmbeddingBag(5, 2, mode="sum", dtype=np.float64)
    copy_weights(theirs, ours)
    idx, off = np.array([0, 2, 4, 2, 1]), np.array([0, 2])
    w = np.random.default_rng(1).standard_normal(5)
    cw, tw = cr.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    _grads_match(ours, theirs, (cr.tensor(idx), cr.tensor(off)),
                 (torch.tensor(idx), torch.tensor(off)), dict(per_sample_weights=cw),
                 dict(per_sample_weights=tw))
    close(cw.grad, tw.grad, np.float64, "per_sample_weights grad")
    weight = cr.randn(5, 2, dtype=cr.float64, requires_grad=True)
    for mode in ("sum", "mean", "max"):
        assert cr.gradcheck(lambda t, mode=mode: F.embedding_bag(cr.tensor(idx), t,
                                                                 cr.tensor(off), mode=mode),
                            (weight,))


def test_embedding_bag_errors_and_from_pretrained():
    bag = nn.EmbeddingBag(4, 2)
    with pytest.raises(ValueError, match="a 1-D input needs offsets"):
        bag(cr.tensor([0, 1]))
    with pytest.raises(ValueError, match="offsets must be None when input is 2-D"):
        bag(cr.tensor([[0, 1]]), cr.tensor([0]))
    with pytest.raises(ValueError, match="must start at 0"):
        bag(cr.tensor([0, 1]), cr.tensor([1]))
    with pytest.raises(ValueError, match="per_sample_weights is only supported for mode='sum'"):
        bag(cr.tensor([0, 1]), cr.tensor([0]), per_sample_weights=cr.ones(2))
    with pytest.raises(ValueError, match="mode must be"):
        nn.EmbeddingBag(4, 2, mode="median")
    table = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    pre = nn.EmbeddingBag.from_pretrained(table, mode="sum")
    assert not pre.weight.requires_grad
    assert pre(cr.tensor([[0, 1]])).tolist() == [[4.0, 6.0]]
    want = TF.embedding_bag(torch.tensor([[0, 1]]), torch.tensor(table.numpy()), mode="sum")
    assert want.tolist() == [[4.0, 6.0]]


def test_embedding_bag_scale_grad_by_freq_divides_by_each_index_count():
    # As nn.Embedding does. PyTorch 2.13's CPU EmbeddingBag divides some rows by the counts of
    # other indices (e.g. input [1, 2, 1] gives row 2 half its gradient); chainrule does not
    # copy that, so the reference here is torch's Embedding summed per bag.
    idx, off = np.array([1, 3, 3, 6, 0, 1, 2, 5, 1]), np.array([0, 3, 3, 6])
    w = np.random.default_rng(2).standard_normal((7, 3))
    ours = nn.EmbeddingBag(7, 3, mode="sum", scale_grad_by_freq=True, dtype=np.float64)
    ours.load_state_dict({"weight": w})
    tw = torch.tensor(w, requires_grad=True)
    rows = TF.embedding(torch.tensor(idx), tw, scale_grad_by_freq=True)
    bags = torch.stack([rows[a:b].sum(0) for a, b in zip(off, list(off[1:]) + [len(idx)])])
    co = ours(cr.tensor(idx), cr.tensor(off))
    close(co, bags, np.float64, "bag sums")
    u = np.random.default_rng(3).standard_normal(bags.shape)
    co.backward(cr.tensor(u))
    bags.backward(torch.tensor(u))
    close(ours.weight.grad, tw.grad, np.float64, "weight grad")
