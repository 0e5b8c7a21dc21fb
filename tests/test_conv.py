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
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    for c, t in zip(cs, ts):
        np.testing.assert_allclose(c.grad.detach().numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


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
    assert np.isclose(np.sum(u.detach().numpy() * c), np.sum(x * folded.detach().numpy()))


def test_conv2d_rejects_mismatched_channels():
    with pytest.raises(ValueError, match=r"conv2d\(\).*\(2, 3, 5, 5\).*\(4, 2, 3, 3\)"):
        cr.conv2d(cr.ones(2, 3, 5, 5), cr.ones(4, 2, 3, 3))


def test_conv2d_rejects_too_small_input():
    with pytest.raises(ValueError, match="too small"):
        cr.conv2d(cr.ones(1, 1, 2, 2), cr.ones(1, 1, 3, 3))


def test_pool_rejects_non_image_input():
    with pytest.raises(ValueError, match=r"max_pool2d\(\).*4-D.*3-D.*\(3, 4\)"):
        cr.max_pool2d(cr.ones(3, 4), 2)


# ---- the batch-innermost storage of convolution outputs ---------------------------------------


@pytest.mark.parametrize("geom", GEOMETRIES)
def test_conv_output_is_stored_batch_innermost_and_chains_like_torch(geom):
    """A conv output keeps its (C, H, W, N) storage through ReLU, (padded) pooling, a second
    conv and flatten; every value and gradient must still be torch's."""
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((8, 2, 11, 10)), rng.standard_normal((4, 2, 3, 3)),
              rng.standard_normal(4), rng.standard_normal((5, 4, 2, 2)), rng.standard_normal(5)]

    def net(F, x, w1, b1, w2, b2, flat):
        h = F.max_pool2d(F.relu(F.conv2d(x, w1, b1, **geom)), 2, stride=1, padding=1)
        h = F.relu(F.conv2d(h, w2, b2, padding=1))
        return flat(F.max_pool2d(h, 2)) * 1.5

    _pair_run(lambda *a: net(cr, *a, lambda t: t.flatten(1)),
              lambda *a: net(TF, *a, lambda t: t.flatten(1)), arrays)
    y = cr.conv2d(cr.tensor(arrays[0]), cr.tensor(arrays[1]), **geom)
    assert y.detach().numpy().transpose(1, 2, 3, 0).flags.c_contiguous  # stored as (C, H, W, N)
    assert not y.is_contiguous()


def test_contiguous_copies_a_conv_output_and_keeps_the_gradient():
    rng = np.random.default_rng(5)
    x = cr.tensor(rng.standard_normal((3, 2, 6, 6)), requires_grad=True)
    w = cr.tensor(rng.standard_normal((4, 2, 3, 3)))
    y = cr.conv2d(x, w)
    c = y.contiguous()
    assert c.is_contiguous() and c is not y
    np.testing.assert_array_equal(c.detach().numpy(), y.detach().numpy())
    assert c.contiguous() is c  # already row-major: the same tensor
    (c * c).sum().backward()
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    (TF.conv2d(tx, torch.tensor(w.detach().numpy())) ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), tx.grad.numpy(), rtol=1e-10)


def test_layout_helpers():
    from chainrule.ops._util import dense_order, in_layout_of, inverse_order

    store = np.arange(2 * 3 * 4 * 50.0).reshape(2, 3, 4, 50)
    x = store.transpose(3, 0, 1, 2)  # (50, 2, 3, 4) stored batch innermost
    assert dense_order(x) == (1, 2, 3, 0)
    assert dense_order(x[::2]) is None  # not dense: every other row
    assert dense_order(np.ones((2, 3))) == (0, 1)
    assert inverse_order((1, 2, 3, 0)) == (3, 0, 1, 2)
    a = np.ascontiguousarray(x) + 1.0  # row-major, same shape
    b = in_layout_of(a, x)
    np.testing.assert_array_equal(b, a)
    assert b.strides == x.strides
    assert in_layout_of(x, x) is x
