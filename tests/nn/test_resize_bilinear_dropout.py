"""interpolate's modes, the Upsample layers, Bilinear and the alpha/3-d dropouts against
PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_twin import close, copy_weights, run_pair

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

CASES = [
    ("nearest", (2, 3, 5), dict(size=8)), ("nearest", (1, 2, 4, 5), dict(scale_factor=1.7)),
    ("nearest", (1, 2, 3, 4, 5), dict(size=(4, 6, 3))),
    ("nearest", (1, 2, 4, 4), dict(scale_factor=0.5)),
    ("nearest-exact", (2, 3, 5), dict(size=7)), ("nearest-exact", (1, 2, 4, 5),
                                                 dict(scale_factor=(1.5, 0.6))),
    ("nearest-exact", (1, 1, 3, 4, 2), dict(scale_factor=2)),
    ("linear", (2, 3, 5), dict(size=9, align_corners=True)),
    ("linear", (2, 3, 5), dict(scale_factor=1.3)),
    ("bilinear", (1, 2, 4, 5), dict(size=(7, 3))),
    ("bilinear", (1, 2, 4, 5), dict(scale_factor=2.5, align_corners=True)),
    ("bilinear", (1, 2, 4, 5), dict(scale_factor=1.5, recompute_scale_factor=True)),
    ("trilinear", (1, 2, 3, 4, 3), dict(size=(5, 3, 6))),
    ("trilinear", (1, 1, 3, 3, 3), dict(scale_factor=1.5, align_corners=True)),
    ("bicubic", (1, 2, 4, 5), dict(size=(9, 7))),
    ("bicubic", (1, 2, 5, 4), dict(scale_factor=2, align_corners=True)),
    ("bicubic", (2, 1, 6, 6), dict(size=(4, 3))),
    ("area", (2, 3, 7), dict(size=3)), ("area", (1, 2, 6, 5), dict(scale_factor=0.5)),
    ("area", (1, 1, 4, 6, 5), dict(size=(2, 3, 2))),
]


@pytest.mark.parametrize("mode,shape,kw", CASES)
def test_interpolate_matches_torch(mode, shape, kw):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    co, to = F.interpolate(cx, mode=mode, **kw), TF.interpolate(tx, mode=mode, **kw)
    close(co, to, np.float64, f"interpolate {mode}")
    u = rng.standard_normal(to.shape)
    co.backward(cr.tensor(u))
    to.backward(torch.tensor(u))
    close(cx.grad, tx.grad, np.float64, f"grad of interpolate {mode}")


@pytest.mark.parametrize("mode", ["bicubic", "trilinear", "nearest-exact"])
def test_interpolate_gradcheck(mode):
    shape = (1, 1, 2, 3, 2) if mode == "trilinear" else (1, 2, 3, 3)
    x = cr.randn(*shape, dtype=cr.float64, requires_grad=True)
    assert cr.gradcheck(lambda t: F.interpolate(t, scale_factor=1.5, mode=mode), (x,))


def test_upsampling_layers():
    x = np.random.default_rng(1).standard_normal((1, 2, 3, 4))
    run_pair(nn.UpsamplingNearest2d(scale_factor=2), torch.nn.UpsamplingNearest2d(scale_factor=2),
             x, np.float64)
    run_pair(nn.UpsamplingBilinear2d(size=(5, 7)), torch.nn.UpsamplingBilinear2d(size=(5, 7)),
             x, np.float64)
    run_pair(nn.Upsample(scale_factor=1.5, mode="bicubic"),
             torch.nn.Upsample(scale_factor=1.5, mode="bicubic"), x, np.float64)
    with pytest.warns(UserWarning, match="upsample is deprecated"):
        y = F.upsample(cr.tensor(x), scale_factor=2)
    assert y.shape == (1, 2, 6, 8)
    with pytest.warns(UserWarning, match="upsample_bilinear is deprecated"):
        close(F.upsample_bilinear(cr.tensor(x), size=(4, 4)),
              TF.interpolate(torch.tensor(x), size=(4, 4), mode="bilinear", align_corners=True),
              np.float64, "upsample_bilinear")


def test_interpolate_errors():
    x = cr.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="antialias=True is not supported"):
        F.interpolate(x, size=2, mode="bilinear", antialias=True)
    with pytest.raises(ValueError, match="mode 'trilinear' needs"):
        F.interpolate(x, size=2, mode="trilinear")
    with pytest.raises(ValueError, match="recompute_scale_factor is not meaningful"):
        F.interpolate(x, size=2, recompute_scale_factor=True)
    with pytest.raises(ValueError, match="align_corners only applies"):
        F.interpolate(x, size=2, mode="area", align_corners=True)


@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_matches_torch(shape, bias):
    theirs = torch.nn.Bilinear(3, 4, 2, bias=bias, dtype=torch.float64)
    ours = nn.Bilinear(3, 4, 2, bias=bias, dtype=np.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict()) and repr(ours) == repr(theirs)
    copy_weights(theirs, ours)
    rng = np.random.default_rng(2)
    x1, x2 = rng.standard_normal(shape), rng.standard_normal(shape[:-1] + (4,))
    c1, c2 = cr.tensor(x1, requires_grad=True), cr.tensor(x2, requires_grad=True)
    t1, t2 = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    co, to = ours(c1, c2), theirs(t1, t2)
    close(co, to, np.float64, "bilinear")
    u = rng.standard_normal(to.shape)
    co.backward(cr.tensor(u))
    to.backward(torch.tensor(u))
    close(c1.grad, t1.grad, np.float64, "grad of input1")
    close(c2.grad, t2.grad, np.float64, "grad of input2")
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        close(p.grad, tp[name].grad, np.float64, f"grad of {name}")
    w = cr.randn(2, 3, 4, dtype=cr.float64, requires_grad=True)
    assert cr.gradcheck(lambda a, b, w: F.bilinear(a, b, w), (cr.tensor(x1, requires_grad=True),
                                                              cr.tensor(x2, requires_grad=True),
                                                              w))


def test_bilinear_init_bound_and_errors():
    layer = nn.Bilinear(16, 3, 50)
    bound = 1 / 4.0
    w = layer.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.01
    with pytest.raises(ValueError, match="bilinear: input1"):
        layer(cr.ones(2, 16), cr.ones(2, 4))


def test_alpha_dropout_keeps_mean_and_variance_and_matches_torch_values():
    cr.manual_seed(0)
    x = cr.randn(200_000, dtype=cr.float64, requires_grad=True)
    y = F.alpha_dropout(x, 0.3, training=True)
    v = y.detach().numpy()
    assert abs(v.mean()) < 0.01 and abs(v.std() - 1) < 0.01
    # torch, on an input of zeros, shows its two constants: dropped units and kept zeros
    t = TF.alpha_dropout(torch.zeros(1000, dtype=torch.float64), 0.3, training=True).numpy()
    consts = np.unique(t.round(12))
    z = F.alpha_dropout(cr.zeros(1000, dtype=cr.float64), 0.3, training=True).numpy()
    np.testing.assert_allclose(np.unique(z.round(12)), consts, rtol=1e-12)
    dropped_value = consts.min()
    assert abs(np.isclose(v, dropped_value).mean() - 0.3) < 0.01
    y.sum().backward()
    grads = np.unique(x.grad.numpy().round(12))
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * 0.3 + 1) * 0.7)
    np.testing.assert_allclose(sorted(grads), [0.0, a], rtol=1e-9)
    kept = x.grad.numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.01
    assert F.alpha_dropout(x, 0.3, training=False) is x


def test_feature_alpha_dropout_and_dropout3d_drop_whole_channels():
    cr.manual_seed(1)
    x = cr.randn(4, 50, 3, 3, dtype=cr.float64)
    y = F.feature_alpha_dropout(x, 0.5, training=True).numpy()
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * 0.5 + 1) * 0.5)
    dropped = np.isclose(y, 1.7580993408473766 * a * (0.5 - 1)).reshape(4, 50, -1)
    assert ((dropped.all(-1)) | (~dropped.any(-1))).all() and dropped.any()
    z = F.dropout3d(cr.ones(2, 40, 2, 2, 2), 0.5).numpy()
    per_channel = z.reshape(2, 40, -1)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    for layer in (nn.Dropout3d(0.4), nn.AlphaDropout(0.4), nn.FeatureAlphaDropout(0.4)):
        t = cr.randn(2, 3, 2, 2, 2)
        assert layer.eval()(t) is t
    assert repr(nn.AlphaDropout(0.2)) == repr(torch.nn.AlphaDropout(0.2))
