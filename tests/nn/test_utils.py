"""clip_grad_norm_, clip_grad_value_ and the parameter/vector conversions, against PyTorch."""

import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)


def _params(grads):
    ours, theirs = [], []
    for g in grads:
        p = nn.Parameter(cr.zeros(*g.shape, dtype=cr.float64))
        p.grad = cr.tensor(g)
        q = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        q.grad = torch.tensor(g)
        ours.append(p)
        theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    ours, theirs = _params(grads)
    n1 = clip_grad_norm_(ours, max_norm, norm_type)
    n2 = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert n1.item() == pytest.approx(n2.item(), rel=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.detach().numpy(), q.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_skips_missing_grads_and_takes_a_single_tensor():
    p = nn.Parameter(cr.zeros(2))
    q = nn.Parameter(cr.zeros(2))
    p.grad = cr.tensor([3.0, 4.0])
    assert clip_grad_norm_([p, q], 1.0).item() == pytest.approx(5.0)
    assert q.grad is None
    assert clip_grad_norm_(p, 10.0).item() == pytest.approx(1.0, rel=1e-5)
    assert clip_grad_norm_([q], 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite():
    p = nn.Parameter(cr.zeros(2))
    p.grad = cr.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert math.isinf(clip_grad_norm_([p], 1.0).item())


def test_clip_grad_value_matches_torch():
    rng = np.random.default_rng(1)
    ours, theirs = _params([rng.standard_normal((4, 4)) * 3])
    clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    np.testing.assert_array_equal(ours[0].grad.detach().numpy(), theirs[0].grad.numpy())
    with pytest.raises(ValueError):
        clip_grad_value_(ours, -1)


def test_parameters_to_vector_and_back():
    lin = nn.Linear(3, 2)
    vec = parameters_to_vector(lin.parameters())
    assert vec.shape == (8,)
    np.testing.assert_array_equal(vec.detach().numpy()[:6], lin.weight.detach().numpy().reshape(-1))
    np.testing.assert_array_equal(vec.detach().numpy()[6:], lin.bias.detach().numpy())
    vec.sum().backward()  # differentiable
    assert (lin.weight.grad.detach().numpy() == 1).all()
    vector_to_parameters(cr.arange(8.0), lin.parameters())
    np.testing.assert_array_equal(lin.weight.detach().numpy(), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(lin.bias.detach().numpy(), [6.0, 7.0])
    with pytest.raises(ValueError, match="7 entries but the parameters hold 8"):
        vector_to_parameters(cr.zeros(7), lin.parameters())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("tail", [(), (3,)])
def test_pad_sequence_matches_torch(batch_first, side, tail):
    from chainrule.nn.utils.rnn import pad_sequence

    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((n,) + tail) for n in (4, 1, 3)]
    ours_in = [cr.tensor(a, requires_grad=True) for a in arrays]
    th_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours = pad_sequence(ours_in, batch_first=batch_first, padding_value=-1.0, padding_side=side)
    theirs = torch.nn.utils.rnn.pad_sequence(th_in, batch_first=batch_first, padding_value=-1.0,
                                             padding_side=side)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    up = rng.standard_normal(theirs.shape)
    ours.backward(cr.tensor(up))
    theirs.backward(torch.tensor(up))
    for a, b in zip(ours_in, th_in):
        np.testing.assert_array_equal(a.grad.detach().numpy(), b.grad.numpy())
    with pytest.raises(ValueError, match="pad_sequence"):
        pad_sequence([cr.ones(2, 3), cr.ones(2, 4)])
