"""Activations beyond the engine's primitives: gradients, in-place semantics, random ones."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_twin import close, run_pair

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

SHAPES = [(6,), (3, 4), (2, 3, 4)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name,kw", [("glu", {}), ("glu", {"dim": 0}),
                                     ("hardshrink", {"lambd": 0.3}), ("softshrink", {}),
                                     ("threshold", {"threshold": 0.2, "value": 2.0}),
                                     ("rrelu", {})])
def test_functional_gradcheck_and_parity(name, kw, shape):
    if name == "glu" and shape[kw.get("dim", -1)] % 2:
        shape = shape[:-1] + (shape[-1] * 2,) if kw.get("dim", -1) == -1 else (6,) + shape[1:]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    x[np.abs(np.abs(x) - 0.3) < 1e-3] += 0.01  # keep finite differences off the kinks
    x[np.abs(x - 0.2) < 1e-3] += 0.01
    cx = cr.tensor(x, requires_grad=True)
    assert cr.gradcheck(lambda t: getattr(F, name)(t, **kw), (cx,))
    tx = torch.tensor(x, requires_grad=True)
    co, to = getattr(F, name)(cx, **kw), getattr(TF, name)(tx, **kw)
    close(co, to, np.float64, name)
    u = rng.standard_normal(to.shape)
    co.backward(cr.tensor(u))
    to.backward(torch.tensor(u))
    close(cx.grad, tx.grad, np.float64, f"grad of {name}")


def test_softmax2d_matches_torch():
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    run_pair(nn.Softmax2d(), torch.nn.Softmax2d(), x, np.float64)
    run_pair(nn.Softmax2d(), torch.nn.Softmax2d(), x[0], np.float64)
    with pytest.raises(ValueError, match="Softmax2d: expected a 3-D or 4-D"):
        nn.Softmax2d()(cr.zeros(2, 3))


@pytest.mark.parametrize("name,args", [("relu_", ()), ("elu_", ()), ("leaky_relu_", (0.2,)),
                                       ("hardtanh_", ()), ("celu_", ()), ("selu_", ()),
                                       ("threshold_", (0.1, 5.0)), ("rrelu_", ())])
def test_inplace_variants_write_into_an_input_outside_any_graph(name, args):
    x = np.random.default_rng(2).standard_normal((3, 4))
    ours, theirs = cr.tensor(x), torch.tensor(x)
    out = getattr(F, name)(ours, *args)
    getattr(TF, name)(theirs, *args)
    assert out is ours
    close(ours, theirs, np.float64, name)


def test_inplace_inside_a_graph_computes_out_of_place_and_keeps_gradients():
    x = cr.tensor([-1.0, 2.0], requires_grad=True)
    h = x * 2
    y = F.relu(h, inplace=True)
    assert y is not h and h.tolist() == [-2.0, 4.0]  # the recorded tensor is not overwritten
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 2.0]
    frozen = cr.tensor([-1.0, 2.0])
    nn.ReLU(inplace=True)(frozen)
    assert frozen.tolist() == [0.0, 2.0]  # as torch: written in place outside a graph


def test_rrelu_training_slopes_are_uniform_in_range():
    x = -cr.ones(20000, dtype=cr.float64)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = -y.numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean() - 0.2) < 0.005 and abs(slopes.std() - 0.2 / np.sqrt(12)) < 0.003
    assert F.rrelu(cr.ones(3), training=True).tolist() == [1.0, 1.0, 1.0]
    a = cr.tensor([-1.0, 1.0], requires_grad=True)
    out = nn.RReLU()(a)
    out.sum().backward()
    assert -out.tolist()[0] == pytest.approx(a.grad.tolist()[0])


def test_gumbel_softmax():
    cr.manual_seed(0)
    logits = cr.tensor(np.log([[0.7, 0.2, 0.1]]).repeat(4000, 0), requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.sum(dim=-1).detach().numpy(), 1.0, rtol=1e-12)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    counts = hard.detach().numpy().sum(axis=0) / 4000
    np.testing.assert_allclose(counts, [0.7, 0.2, 0.1], atol=0.03)  # Gumbel-max sampling
    (hard * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert logits.grad is not None and np.abs(logits.grad.numpy()).sum() > 0


@pytest.mark.filterwarnings("ignore:keyword argument `max_value`")
def test_hardtanh_old_argument_names_and_errors():
    with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
        th = torch.nn.Hardtanh(min_value=-0.5, max_value=0.5)
    with pytest.warns(FutureWarning, match="`min_value` is deprecated and renamed to `min_val`"):
        ours = nn.Hardtanh(min_value=-0.5, max_value=0.5)
    run_pair(ours, th, np.linspace(-1, 1, 9), np.float64)
    with pytest.raises(ValueError, match="max_val"):
        nn.Hardtanh(1.0, 0.0)
    with pytest.raises(ValueError, match=r"glu\(\): dim -1 of input"):
        F.glu(cr.zeros(2, 3))
    with pytest.raises(ValueError, match="rrelu"):
        F.rrelu(cr.zeros(2), 0.5, 0.1)
