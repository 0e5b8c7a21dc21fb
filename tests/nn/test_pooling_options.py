"""Pooling with PyTorch's options (ceil_mode, count_include_pad, divisor_override, indices),
power-average, adaptive 1-3 d pooling and unpooling, against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_twin import close, run_pair

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn


def _x(shape, seed=0):
    # distinct values: no ties, so every maximum is unambiguous
    rng = np.random.default_rng(seed)
    return rng.permutation(np.prod(shape)).reshape(shape) / 7.0 - 3.0


def _check(name, x, *args, **kw):
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    co, to = getattr(F, name)(cx, *args, **kw), getattr(TF, name)(tx, *args, **kw)
    if isinstance(to, tuple):
        (co, ci), (to, ti) = co, to
        np.testing.assert_array_equal(ci.numpy(), ti.numpy())
        assert ci.dtype == np.int64
    close(co, to, np.float64, name)
    u = np.random.default_rng(9).standard_normal(to.shape)
    co.backward(cr.tensor(u))
    to.backward(torch.tensor(u))
    close(cx.grad, tx.grad, np.float64, f"grad of {name}")


MAX2D = [dict(kernel_size=2), dict(kernel_size=3, stride=2, ceil_mode=True),
         dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
         dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
         dict(kernel_size=2, return_indices=True),
         dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, return_indices=True),
         dict(kernel_size=2, stride=1, dilation=2, return_indices=True)]


@pytest.mark.parametrize("kw", MAX2D)
@pytest.mark.parametrize("shape", [(2, 3, 7, 6), (2, 5, 5)])
def test_max_pool2d(kw, shape):
    _check("max_pool2d", _x(shape), **kw)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, ceil_mode=True),
                                dict(kernel_size=3, padding=1, return_indices=True),
                                dict(kernel_size=2, stride=2, ceil_mode=True, return_indices=True)])
@pytest.mark.parametrize("shape", [(2, 3, 7), (3, 8)])
def test_max_pool1d(kw, shape):
    _check("max_pool1d", _x(shape, 1), **kw)


AVG2D = [dict(kernel_size=2), dict(kernel_size=3, stride=2, ceil_mode=True),
         dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
         dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
         dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
         dict(kernel_size=(2, 3), padding=(1, 1), divisor_override=4),
         dict(kernel_size=2, stride=3, ceil_mode=True, divisor_override=3)]


@pytest.mark.parametrize("kw", AVG2D)
@pytest.mark.parametrize("shape", [(2, 3, 7, 6), (2, 5, 5)])
def test_avg_pool2d(kw, shape):
    _check("avg_pool2d", _x(shape, 2), **kw)


@pytest.mark.parametrize("kw", [dict(kernel_size=3, stride=2, ceil_mode=True),
                                dict(kernel_size=3, padding=1, count_include_pad=False),
                                dict(kernel_size=2, stride=2, padding=1, ceil_mode=True)])
def test_avg_pool1d(kw):
    _check("avg_pool1d", _x((2, 3, 7), 3), **kw)
    _check("avg_pool1d", _x((3, 8), 3), **kw)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, ceil_mode=True)])
def test_lp_pool(p, kw):
    x = np.abs(_x((2, 3, 7, 6), 4)) + 0.1  # positive, so every power is real
    _check("lp_pool2d", x, p, **kw)
    _check("lp_pool1d", x[:, :, 0], p, **kw)
    run_pair(nn.LPPool2d(p, **kw), torch.nn.LPPool2d(p, **kw), x, np.float64)


@pytest.mark.parametrize("name,shape,size", [
    ("adaptive_avg_pool1d", (2, 3, 7), 3), ("adaptive_avg_pool1d", (3, 8), 4),
    ("adaptive_avg_pool2d", (2, 3, 7, 5), (3, 2)), ("adaptive_avg_pool2d", (3, 6, 6), (None, 4)),
    ("adaptive_avg_pool3d", (1, 2, 5, 4, 7), (2, 3, 3)), ("adaptive_avg_pool3d", (2, 3, 4, 5), 2),
    ("adaptive_max_pool1d", (2, 3, 7), 3), ("adaptive_max_pool2d", (2, 3, 7, 5), (3, 2)),
    ("adaptive_max_pool3d", (1, 2, 5, 4, 7), (2, 3, 3)),
])
def test_adaptive_pooling(name, shape, size):
    x = _x(shape, 5)
    _check(name, x, size)
    if "max" in name:
        _check(name, x, size, return_indices=True)
    assert cr.gradcheck(lambda t: getattr(F, name)(t, size), (cr.tensor(x, requires_grad=True),))


@pytest.mark.parametrize("kw,shape", [(dict(kernel_size=2), (2, 3, 6, 4)),
                                      (dict(kernel_size=3, stride=2, padding=1), (1, 2, 7, 7)),
                                      (dict(kernel_size=2), (3, 4, 4))])
def test_max_unpool2d(kw, shape):
    x = _x(shape, 6)
    y, idx = TF.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    cy = cr.tensor(y.numpy(), requires_grad=True)
    ty = y.clone().requires_grad_(True)
    size = shape[-2:]
    co = F.max_unpool2d(cy, cr.tensor(idx.numpy()), output_size=size, **kw)
    to = TF.max_unpool2d(ty, idx, output_size=size, **kw)
    close(co, to, np.float64, "max_unpool2d")
    u = np.random.default_rng(3).standard_normal(to.shape)
    co.backward(cr.tensor(u))
    to.backward(torch.tensor(u))
    close(cy.grad, ty.grad, np.float64, "grad of max_unpool2d")


def test_max_unpool1d_and_layers_round_trip():
    x = _x((2, 3, 8), 7)
    pool, tpool = nn.MaxPool1d(2, return_indices=True), torch.nn.MaxPool1d(2, return_indices=True)
    y, i = pool(cr.tensor(x))
    ty, ti = tpool(torch.tensor(x))
    close(nn.MaxUnpool1d(2)(y, i), torch.nn.MaxUnpool1d(2)(ty, ti), np.float64, "unpool1d")
    y2, i2 = nn.MaxPool2d(2, return_indices=True)(cr.tensor(_x((1, 2, 4, 4))))
    assert nn.MaxUnpool2d(2)(y2, i2, output_size=(5, 5)).shape == (1, 2, 5, 5)


@pytest.mark.parametrize("layer,kw", [
    ("MaxPool2d", dict(kernel_size=3, stride=2, ceil_mode=True)),
    ("AvgPool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("MaxPool1d", dict(kernel_size=2, ceil_mode=True)), ("AvgPool1d", dict(kernel_size=3)),
    ("AdaptiveAvgPool1d", dict(output_size=3)), ("AdaptiveMaxPool1d", dict(output_size=3)),
    ("AdaptiveAvgPool3d", dict(output_size=2)), ("AdaptiveMaxPool3d", dict(output_size=2)),
    ("LPPool1d", dict(norm_type=2, kernel_size=2)),
])
def test_pooling_layers_and_reprs(layer, kw):
    shape = {"3d": (1, 2, 4, 5, 5), "1d": (2, 3, 7)}.get(layer[-2:], (2, 3, 7, 6))
    x = np.abs(_x(shape, 8)) + 0.1
    run_pair(getattr(nn, layer)(**kw), getattr(torch.nn, layer)(**kw), x, np.float64)
    assert repr(getattr(nn, layer)(**kw)) == repr(getattr(torch.nn, layer)(**kw))


def test_pooling_errors_name_the_function_and_argument():
    with pytest.raises(ValueError, match="max_pool2d: padding .* at most half"):
        F.max_pool2d(cr.zeros(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(ValueError, match="max_pool2d: expected a 3-D .* or 4-D"):
        F.max_pool2d(cr.zeros(4, 4), 2)
    with pytest.raises(ValueError, match="avg_pool2d: divisor_override"):
        F.avg_pool2d(cr.zeros(1, 1, 4, 4), 2, divisor_override=0)
    with pytest.raises(ValueError, match="too small"):
        F.avg_pool1d(cr.zeros(1, 1, 2), 3)
    with pytest.raises(ValueError, match="adaptive_avg_pool1d: output_size must be >= 0"):
        F.adaptive_avg_pool1d(cr.zeros(1, 2, 3), -1)
    assert F.adaptive_avg_pool1d(cr.zeros(1, 2, 3), 0).shape == (1, 2, 0)  # as PyTorch
    with pytest.raises(ValueError, match="max_unpool2d: indices"):
        F.max_unpool2d(cr.zeros(1, 1, 2, 2), cr.zeros(1, 1, 2, dtype=cr.int64), 2)
    with pytest.raises(ValueError, match="outside the output"):
        F.max_unpool2d(cr.zeros(1, 1, 1, 1), cr.tensor([[[[9]]]]), 2)


POOL3D = [
    ("max_pool3d", dict(kernel_size=2)),
    ("max_pool3d", dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), padding=(1, 1, 0),
                        dilation=(1, 1, 2))),
    ("max_pool3d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                        return_indices=True)),
    ("avg_pool3d", dict(kernel_size=2)),
    ("avg_pool3d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                        count_include_pad=False)),
    ("avg_pool3d", dict(kernel_size=(2, 3, 3), padding=(1, 1, 0), divisor_override=5)),
]


@pytest.mark.parametrize("name,kw", POOL3D)
@pytest.mark.parametrize("shape", [(2, 2, 5, 6, 5), (2, 4, 5, 6)])
def test_pool3d(name, kw, shape):
    _check(name, _x(shape, 10), **kw)


def test_pool3d_layers_lp_and_unpool():
    x = np.abs(_x((1, 2, 4, 5, 6), 11)) + 0.1
    for layer, kw in (("MaxPool3d", dict(kernel_size=2, ceil_mode=True)),
                      ("AvgPool3d", dict(kernel_size=2, stride=1)),
                      ("LPPool3d", dict(norm_type=2, kernel_size=2))):
        run_pair(getattr(nn, layer)(**kw), getattr(torch.nn, layer)(**kw), x, np.float64)
        assert repr(getattr(nn, layer)(**kw)) == repr(getattr(torch.nn, layer)(**kw))
    y, i = nn.MaxPool3d(2, return_indices=True)(cr.tensor(x))
    ty, ti = torch.nn.MaxPool3d(2, return_indices=True)(torch.tensor(x))
    close(nn.MaxUnpool3d(2)(y, i, output_size=x.shape[-3:]),
          torch.nn.MaxUnpool3d(2)(ty, ti, output_size=x.shape[-3:]), np.float64, "unpool3d")
    assert cr.gradcheck(lambda t: F.avg_pool3d(t, 2, padding=1, count_include_pad=False),
                        (cr.tensor(x[:, :, :3, :3, :3], requires_grad=True),))


@pytest.mark.parametrize("name,shape,kw", [
    ("max_pool1d_with_indices", (2, 3, 7), dict(kernel_size=2)),
    ("max_pool2d_with_indices", (2, 3, 6, 5), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ("max_pool3d_with_indices", (1, 2, 4, 4, 4), dict(kernel_size=2)),
    ("adaptive_max_pool1d_with_indices", (2, 3, 7), dict(output_size=3)),
    ("adaptive_max_pool2d_with_indices", (2, 3, 7, 5), dict(output_size=(3, 2))),
    ("adaptive_max_pool3d_with_indices", (1, 2, 5, 4, 3), dict(output_size=2)),
])
def test_with_indices_functions(name, shape, kw):
    _check(name, _x(shape, 12), **kw)
