"""Convolution and pooling: parity with PyTorch, finite-difference checks, errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr

GEOMETRIES = [
    dict(),
    dict(stride=2),
    dict(padding=1),
    dict(stride=(2, 1), padding=(1, 0), dilation=(2, 1)),
]


def _pair_run(cr_fn, torch_fn, arrays, seed=0):
    rng = np.random.default_rng(seed)
    cs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = cr_fn(*cs), torch_fn(*ts)
    g = rng.standard_normal(tuple(tout.shape))
    out.backward(cr.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    for c, t in zip(cs, ts):
        np.testing.assert_allclose(c.grad.data, t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("geom", GEOMETRIES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_torch(geom, bias):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2))]
    if bias:
        arrays.append(rng.standard_normal(4))
    _pair_run(lambda *a: cr.conv2d(*a, **geom), lambda *a: TF.conv2d(*a, **geom), arrays)


def test_conv2d_same_padding_matches_torch():
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))]
    _pair_run(lambda *a: cr.conv2d(*a, padding="same"),
              lambda *a: TF.conv2d(*a, padding="same"), arrays)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=(2, 3), stride=1)])
@pytest.mark.parametrize("pool", ["max", "avg"])
def test_pooling_matches_torch(kw, pool):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 7, 6))
    crf = cr.max_pool2d if pool == "max" else cr.avg_pool2d
    tf = TF.max_pool2d if pool == "max" else TF.avg_pool2d
    _pair_run(lambda a: crf(a, **kw), lambda a: tf(a, **kw), [x])


def test_max_pool_nan_is_the_maximum_and_gets_the_gradient():
    x = np.arange(32, dtype=np.float64).reshape(1, 2, 4, 4)
    x[0, 0, 1, 0] = np.nan  # one window of channel 0 holds a NaN
    _pair_run(lambda a: cr.max_pool2d(a, 2), lambda a: TF.max_pool2d(a, 2), [x])


def test_unfold_fold_match_torch():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 5, 6))
    _pair_run(lambda a: cr.unfold(a, (2, 3), padding=1, stride=2),
              lambda a: TF.unfold(a, (2, 3), padding=1, stride=2), [x])
    cols = rng.standard_normal((2, 3 * 4, 12))
    _pair_run(lambda a: cr.fold(a, (4, 5), 2), lambda a: TF.fold(a, (4, 5), 2), [cols])


@pytest.mark.parametrize("shape", [(1, 1, 3, 3), (2, 2, 5, 4)])
def test_conv_and_pool_gradients_first_and_second_order(shape):
    rng = np.random.default_rng(5)
    x = cr.tensor(rng.standard_normal(shape), requires_grad=True)
    w = cr.tensor(rng.standard_normal((2, shape[1], 2, 2)), requires_grad=True)
    b = cr.tensor(rng.standard_normal(2), requires_grad=True)
    assert cr.gradcheck(lambda a, k, c: cr.conv2d(a, k, c, padding=1), (x, w, b))
    assert cr.gradgradcheck(lambda a, k: cr.conv2d(a, k, stride=2, padding=1), (x, w))
    assert cr.gradcheck(lambda a: cr.max_pool2d(a, 2, 1), (x,))
    assert cr.gradgradcheck(lambda a: cr.max_pool2d(a, 2, 1) * a.sum(), (x,))
    assert cr.gradcheck(lambda a: cr.avg_pool2d(a, 2, 1, 1), (x,))


def test_fold_is_the_adjoint_of_unfold():
    # <unfold(x), c> == <x, fold(c)> for every x and c: the defining property of the pair.
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 6, 5))
    u = cr.unfold(cr.tensor(x), 3, padding=1, stride=2)
    c = rng.standard_normal(u.shape)
    folded = cr.fold(cr.tensor(c), (6, 5), 3, padding=1, stride=2)
    assert np.isclose(np.sum(u.data * c), np.sum(x * folded.data))


def test_conv2d_rejects_mismatched_channels():
    with pytest.raises(ValueError, match=r"conv2d\(\).*\(2, 3, 5, 5\).*\(4, 2, 3, 3\)"):
        cr.conv2d(cr.ones(2, 3, 5, 5), cr.ones(4, 2, 3, 3))


def test_conv2d_rejects_too_small_input():
    with pytest.raises(ValueError, match="too small"):
        cr.conv2d(cr.ones(1, 1, 2, 2), cr.ones(1, 1, 3, 3))


def test_pool_rejects_non_image_input():
    with pytest.raises(ValueError, match=r"max_pool2d\(\).*\(N, C, H, W\)"):
        cr.max_pool2d(cr.ones(3, 4), 2)
