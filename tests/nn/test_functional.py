"""The functional API: parity of the functions not covered through the layers, and errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_twin import close

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn


def test_one_hot_matches_torch():
    y = np.array([[0, 3], [2, 1]])
    np.testing.assert_array_equal(F.one_hot(cr.tensor(y)).detach().numpy(),
                                  TF.one_hot(torch.tensor(y)))
    np.testing.assert_array_equal(F.one_hot(cr.tensor(y), 6).detach().numpy(),
                                  TF.one_hot(torch.tensor(y), 6))
    assert F.one_hot(cr.tensor(y)).dtype == np.int64
    with pytest.raises(ValueError, match="one_hot"):
        F.one_hot(cr.tensor([0, -1]), 3)
    with pytest.raises(ValueError, match="one_hot"):
        F.one_hot(cr.tensor([0, 3]), 3)
    with pytest.raises(TypeError, match="integer"):
        F.one_hot(cr.tensor([0.0]), 3)


@pytest.mark.parametrize("training", [True, False])
def test_functional_batch_norm_updates_running_stats_like_torch(training):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3, 4))
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    crm, crv = cr.tensor(rm), cr.tensor(rv)
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    ours = F.batch_norm(cr.tensor(x), crm, crv, training=training, momentum=0.3)
    theirs = TF.batch_norm(torch.tensor(x), trm, trv, training=training, momentum=0.3)
    close(ours, theirs, np.float64, "output")
    close(crm, trm, np.float64, "running mean")
    close(crv, trv, np.float64, "running var")


def test_functional_dropout_and_linear():
    x = cr.randn(3, 4)
    assert F.dropout(x, 0.5, training=False) is x
    with pytest.raises(ValueError, match="dropout"):
        F.dropout(x, -0.1)
    w, b = np.random.randn(2, 4), np.random.randn(2)
    close(F.linear(cr.tensor(x.detach().numpy().astype(np.float64)), cr.tensor(w), cr.tensor(b)),
          TF.linear(torch.tensor(x.detach().numpy().astype(np.float64)), torch.tensor(w),
                    torch.tensor(b)),
          np.float64, "linear")


@pytest.mark.parametrize("fn", ["relu", "sigmoid", "tanh", "silu", "gelu", "elu", "softplus",
                                "relu6", "hardtanh", "softsign", "mish", "hardsigmoid"])
def test_functional_activations(fn):
    x = np.random.default_rng(1).standard_normal((3, 5)) * 4
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    cy, ty = getattr(F, fn)(cx), getattr(TF, fn)(tx)
    close(cy, ty, np.float64, fn)
    cy.sum().backward()
    ty.sum().backward()
    if fn == "hardsigmoid":  # torch's backward uses 1/6 rounded to float32
        np.testing.assert_allclose(cx.grad.detach().numpy(), tx.grad.numpy(), rtol=1e-7)
    else:
        close(cx.grad, tx.grad, np.float64, f"{fn} grad")


@pytest.mark.filterwarnings("ignore:size_average and reduce args")
def test_legacy_size_average_and_reduce_arguments():
    x, y = np.random.randn(4, 3), np.array([0, 1, 2, 1])
    for sa, red in [(False, None), (None, False), (True, True)]:
        ours = F.cross_entropy(cr.tensor(x), cr.tensor(y), size_average=sa, reduce=red)
        theirs = TF.cross_entropy(torch.tensor(x), torch.tensor(y), size_average=sa, reduce=red)
        close(ours, theirs, np.float64, f"size_average={sa}, reduce={red}")


def test_loss_argument_errors():
    x = cr.randn(4, 3)
    with pytest.raises(ValueError, match="cross_entropy: reduction must be"):
        F.cross_entropy(x, cr.tensor([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, cr.tensor([0, 1, 2, 0]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="ignore_index is not supported"):
        F.cross_entropy(x, F.softmax(x, dim=1), ignore_index=0)
    with pytest.raises(ValueError, match="float target of shape \\(4, 2\\)"):
        F.cross_entropy(x, cr.zeros(4, 2))
    with pytest.raises(TypeError, match="floating-point"):
        F.cross_entropy(cr.tensor([[1, 2]]), cr.tensor([0]))
    with pytest.raises(ValueError, match="pos_weight of shape \\(2,\\)"):
        F.binary_cross_entropy_with_logits(x, x, pos_weight=cr.ones(2))
    with pytest.raises(ValueError, match="weight of shape \\(5,\\)"):
        F.binary_cross_entropy_with_logits(x, x, weight=cr.ones(5))
    with pytest.raises(ValueError, match=r"huber_loss\(\): argument 'delta' must be > 0"):
        F.huber_loss(x, x, delta=0)
    with pytest.raises(ValueError, match=r"kl_div\(\): argument 'reduction'"):
        F.kl_div(x, x, reduction="avg")
    with pytest.raises(ValueError, match="layer_norm"):
        F.layer_norm(x, (4,))


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
@pytest.mark.parametrize("dim", [1, -1, 0])
def test_normalize(p, dim):
    x = np.random.default_rng(4).standard_normal((3, 4))
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    cy, ty = F.normalize(cx, p=p, dim=dim), TF.normalize(tx, p=p, dim=dim)
    close(cy, ty, np.float64, "normalize")
    (cy * cr.tensor(x)).sum().backward()
    (ty * torch.tensor(x)).sum().backward()
    close(cx.grad, tx.grad, np.float64, "normalize grad")


def test_cosine_similarity_and_pairwise_distance_modules():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    for ours, theirs in [(nn.CosineSimilarity(dim=1), torch.nn.CosineSimilarity(dim=1)),
                         (nn.PairwiseDistance(p=3.0), torch.nn.PairwiseDistance(p=3.0)),
                         (nn.PairwiseDistance(keepdim=True), torch.nn.PairwiseDistance(
                             keepdim=True))]:
        ca, cb = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
        ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        cy, ty = ours(ca, cb), theirs(ta, tb)
        close(cy, ty, np.float64, type(ours).__name__)
        cy.sum().backward()
        ty.sum().backward()
        close(ca.grad, ta.grad, np.float64, "grad x1")
        close(cb.grad, tb.grad, np.float64, "grad x2")
