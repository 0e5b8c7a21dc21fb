"""MultiMarginLoss, MultiLabelMarginLoss, TripletMarginWithDistanceLoss, NLLLoss2d and pdist
against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_twin import close

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn


def _compare(ours, theirs, xs, others, what):
    cx = [cr.tensor(x, requires_grad=True) for x in xs]
    tx = [torch.tensor(x, requires_grad=True) for x in xs]
    co = ours(*cx, *[cr.tensor(o) for o in others])
    to = theirs(*tx, *[torch.tensor(o) for o in others])
    close(co, to, np.float64, what)
    u = np.random.default_rng(4).standard_normal(to.shape)
    co.backward(cr.tensor(u))
    to.backward(torch.tensor(u))
    for a, b in zip(cx, tx):
        close(a.grad, b.grad, np.float64, f"grad of {what}")


@pytest.mark.parametrize("kw", [{}, {"p": 2}, {"margin": 0.3}, {"reduction": "sum"},
                                {"reduction": "none"}, {"weight": "w"},
                                {"p": 2, "weight": "w", "reduction": "none"}])
@pytest.mark.parametrize("batched", [True, False])
def test_multi_margin_loss(kw, batched):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4) if batched else (4,))
    y = rng.integers(0, 4, 5) if batched else np.array(2)
    kw = dict(kw)
    if kw.get("weight") == "w":
        w = rng.uniform(0.5, 2.0, 4)
        ours = nn.MultiMarginLoss(**{**kw, "weight": cr.tensor(w)})
        theirs = torch.nn.MultiMarginLoss(**{**kw, "weight": torch.tensor(w)})
    else:
        ours, theirs = nn.MultiMarginLoss(**kw), torch.nn.MultiMarginLoss(**kw)
    _compare(ours, theirs, [x], [y], "multi_margin_loss")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_multilabel_margin_loss(reduction):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 5))
    y = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 0, 0, 0, 0], [2, 2, 4, -1, 0]])
    _compare(nn.MultiLabelMarginLoss(reduction=reduction),
             torch.nn.MultiLabelMarginLoss(reduction=reduction), [x], [y], "multilabel")
    _compare(lambda a, b: F.multilabel_margin_loss(a, b, reduction=reduction),
             lambda a, b: TF.multilabel_margin_loss(a, b, reduction=reduction), [x[0]], [y[0]],
             "multilabel unbatched")


@pytest.mark.parametrize("kw", [{}, {"swap": True, "margin": 2.0}, {"reduction": "none"},
                                {"distance_function": "cosine"}])
def test_triplet_margin_with_distance_loss(kw):
    rng = np.random.default_rng(2)
    a, p, n = (rng.standard_normal((6, 3)) for _ in range(3))
    kw = dict(kw)
    if kw.get("distance_function") == "cosine":
        ours = nn.TripletMarginWithDistanceLoss(
            distance_function=lambda u, v: 1.0 - F.cosine_similarity(u, v))
        theirs = torch.nn.TripletMarginWithDistanceLoss(
            distance_function=lambda u, v: 1.0 - TF.cosine_similarity(u, v))
    else:
        ours = nn.TripletMarginWithDistanceLoss(**kw)
        theirs = torch.nn.TripletMarginWithDistanceLoss(**kw)
    _compare(ours, theirs, [a, p, n], [], "triplet with distance")


def test_nll_loss_2d_and_loss_errors():
    x = np.log(np.random.default_rng(3).dirichlet(np.ones(3), size=(2, 4, 4))).transpose(0, 3, 1,
                                                                                         2)
    y = np.random.default_rng(3).integers(0, 3, (2, 4, 4))
    with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated"):
        ours = nn.NLLLoss2d()
    with pytest.warns(FutureWarning):
        theirs = torch.nn.NLLLoss2d()
    _compare(ours, theirs, [np.ascontiguousarray(x)], [y], "nll2d")
    with pytest.raises(ValueError, match="only p = 1 or 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(IndexError,
                       match=r"multi_margin_loss\(\): argument 'target' holds 4, out of range"):
        F.multi_margin_loss(cr.zeros(2, 4), cr.tensor([0, 4]))
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        nn.TripletMarginWithDistanceLoss(margin=0.0)
    with pytest.raises(ValueError, match="target must have the input's shape"):
        F.multilabel_margin_loss(cr.zeros(2, 4), cr.zeros(2, 3, dtype=cr.int64))


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf"), 0.0])
@pytest.mark.parametrize("n", [2, 5])
def test_pdist(p, n):
    x = np.random.default_rng(5).standard_normal((n, 3))
    if p == 0.0:
        x[1, 0] = x[0, 0]  # one coordinate equal: counted as no difference
        close(F.pdist(cr.tensor(x), p), TF.pdist(torch.tensor(x), p), np.float64, "pdist p=0")
        return
    _compare(lambda t: F.pdist(t, p), lambda t: TF.pdist(t, p), [x], [], f"pdist p={p}")
    with pytest.raises(ValueError, match="pdist: input must be a 2-D tensor"):
        F.pdist(cr.zeros(3))
