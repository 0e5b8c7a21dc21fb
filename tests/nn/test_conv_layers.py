"""Convolution, pooling and 2-D batch norm layers against their PyTorch twins."""

import numpy as np
import pytest
import torch
from nn_twin import close, copy_weights, run_pair, torch_dtype

import chainrule as cr
from chainrule import nn

DTYPES = [np.float64, np.float32]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [{}, {"stride": 2, "padding": 1}, {"padding": "same"},
                                {"dilation": 2, "bias": False}])
def test_conv2d(kw, dtype):
    th = torch.nn.Conv2d(3, 4, 3, dtype=torch_dtype(dtype), **kw)
    ours = nn.Conv2d(3, 4, 3, dtype=dtype, **kw)
    copy_weights(th, ours)
    run_pair(ours, th, np.random.randn(2, 3, 7, 6).astype(dtype), dtype)


def test_conv2d_init_bounds_and_errors():
    conv = nn.Conv2d(4, 8, (3, 5))
    bound = 1 / np.sqrt(4 * 3 * 5)
    assert conv.weight.shape == (8, 4, 3, 5)
    assert np.abs(conv.weight.detach().numpy()).max() <= bound
    assert np.abs(conv.bias.detach().numpy()).max() <= bound
    with pytest.raises(ValueError, match=r"Conv2d\(4, 8\).*\(2, 3, 9, 9\)"):
        conv(cr.zeros(2, 3, 9, 9))
    with pytest.raises(ValueError, match=r"divisible by groups \(3\)"):
        nn.Conv2d(4, 8, 3, groups=3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer,kw", [("MaxPool2d", {"kernel_size": 2}),
                                      ("MaxPool2d", {"kernel_size": 3, "stride": 2,
                                                     "padding": 1}),
                                      ("AvgPool2d", {"kernel_size": 2}),
                                      ("AvgPool2d", {"kernel_size": 3, "stride": 1,
                                                     "padding": 1})])
def test_pooling(layer, kw, dtype):
    x = np.random.randn(2, 3, 6, 6).astype(dtype)
    run_pair(getattr(nn, layer)(**kw), getattr(torch.nn, layer)(**kw), x, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm2d_training_steps_then_eval(dtype):
    th = torch.nn.BatchNorm2d(3, dtype=torch_dtype(dtype))
    ours = nn.BatchNorm2d(3, dtype=dtype)
    with torch.no_grad():
        th.weight.uniform_(0.5, 1.5)
        th.bias.uniform_(-0.5, 0.5)
    copy_weights(th, ours)
    rng = np.random.default_rng(0)
    for step in range(3):
        ours.zero_grad()
        th.zero_grad()
        run_pair(ours, th, (rng.standard_normal((4, 3, 5, 5)) * 2 + step).astype(dtype), dtype)
        close(ours.running_var, th.running_var, dtype, "running_var")
    ours.eval()
    th.eval()
    ours.zero_grad()
    th.zero_grad()
    run_pair(ours, th, rng.standard_normal((4, 3, 5, 5)).astype(dtype), dtype)
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D"):
        ours(cr.zeros(4, 3))


def test_lenet_like_model_matches_torch():
    def build(lib):
        return lib.Sequential(lib.Conv2d(1, 4, 5, padding=2), lib.ReLU(), lib.MaxPool2d(2),
                              lib.Conv2d(4, 8, 3), lib.BatchNorm2d(8), lib.Tanh(),
                              lib.AvgPool2d(2), lib.Flatten(), lib.Linear(8 * 3 * 3, 10))
    th = build(torch.nn).double()
    ours = build(nn).double()
    copy_weights(th, ours)
    run_pair(ours, th, np.random.randn(3, 1, 16, 16), np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [{}, {"stride": 2, "padding": 1}, {"padding": "same"},
                                {"dilation": 2, "bias": False}])
@pytest.mark.parametrize("batched", [True, False])
def test_conv1d(kw, batched, dtype):
    th = torch.nn.Conv1d(3, 4, 3, dtype=torch_dtype(dtype), **kw)
    ours = nn.Conv1d(3, 4, 3, dtype=dtype, **kw)
    copy_weights(th, ours)
    shape = (2, 3, 9) if batched else (3, 9)
    run_pair(ours, th, np.random.randn(*shape).astype(dtype), dtype)
    with pytest.raises(ValueError, match=r"Conv1d\(3, 4\)"):
        ours(cr.zeros(2, 5, 9))


@pytest.mark.parametrize("layer,kw", [("MaxPool1d", {"kernel_size": 2}),
                                      ("MaxPool1d", {"kernel_size": 3, "stride": 2,
                                                     "padding": 1}),
                                      ("AvgPool1d", {"kernel_size": 2}),
                                      ("AvgPool1d", {"kernel_size": 3, "stride": 1,
                                                     "padding": 1})])
@pytest.mark.parametrize("batched", [True, False])
def test_pooling_1d(layer, kw, batched):
    x = np.random.randn(*((2, 3, 8) if batched else (3, 8)))
    run_pair(getattr(nn, layer)(**kw), getattr(torch.nn, layer)(**kw), x, np.float64)


@pytest.mark.parametrize("layer", ["AdaptiveAvgPool2d", "AdaptiveMaxPool2d"])
@pytest.mark.parametrize("size,shape", [(1, (2, 3, 6, 4)), ((2, 2), (2, 3, 6, 4)),
                                        ((3, 2), (2, 3, 7, 5)), ((None, 3), (1, 2, 5, 7)),
                                        (2, (3, 5, 5))])
def test_adaptive_pooling(layer, size, shape):
    x = np.random.randn(*shape)
    run_pair(getattr(nn, layer)(size), getattr(torch.nn, layer)(size), x, np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [{}, {"stride": 2}, {"stride": 2, "padding": 1,
                                                    "output_padding": 1},
                                {"kernel_size": (2, 3), "dilation": 2, "bias": False}])
def test_conv_transpose2d(kw, dtype):
    kw = dict(kw)
    k = kw.pop("kernel_size", 3)
    th = torch.nn.ConvTranspose2d(3, 4, k, dtype=torch_dtype(dtype), **kw)
    ours = nn.ConvTranspose2d(3, 4, k, dtype=dtype, **kw)
    copy_weights(th, ours)
    run_pair(ours, th, np.random.randn(2, 3, 5, 4).astype(dtype), dtype)


def test_conv_transpose2d_output_size_init_and_errors():
    th = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, dtype=torch.float64)
    ours = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, dtype=np.float64)
    copy_weights(th, ours)
    x = np.random.randn(1, 2, 4, 4)
    close(ours(cr.tensor(x), output_size=(8, 8)), th(torch.tensor(x), output_size=(8, 8)),
          np.float64, "output_size")
    bound = 1 / np.sqrt(3 * 9)
    fresh = nn.ConvTranspose2d(2, 3, 3)
    assert np.abs(fresh.weight.detach().numpy()).max() <= bound
    assert np.abs(fresh.bias.detach().numpy()).max() <= bound
    with pytest.raises(ValueError, match=r"ConvTranspose2d\(2, 3\)"):
        ours(cr.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match="output_padding"):
        nn.functional.conv_transpose2d(cr.zeros(1, 2, 4, 4), cr.zeros(2, 3, 3, 3),
                                       output_padding=1)


def test_conv_transpose2d_gradcheck():
    x = cr.randn(1, 2, 3, 3, dtype=cr.float64, requires_grad=True)
    w = cr.randn(2, 2, 2, 2, dtype=cr.float64, requires_grad=True)
    assert cr.gradcheck(lambda a, b: nn.functional.conv_transpose2d(a, b, stride=2), (x, w))


@pytest.mark.parametrize("mode,shape,kw", [
    ("nearest", (2, 3, 4, 5), {"scale_factor": 2}),
    ("nearest", (2, 3, 4, 5), {"size": (7, 3)}),
    ("nearest", (2, 3, 6), {"scale_factor": 1.5}),
    ("bilinear", (2, 3, 4, 5), {"scale_factor": 2}),
    ("bilinear", (2, 3, 4, 5), {"size": (7, 3)}),
    ("bilinear", (2, 3, 4, 5), {"size": (7, 9), "align_corners": True}),
    ("linear", (2, 3, 5), {"scale_factor": 2.5}),
    ("linear", (2, 3, 5), {"size": 3, "align_corners": True}),
])
def test_upsample(mode, shape, kw):
    ours = nn.Upsample(mode=mode, **kw)
    theirs = torch.nn.Upsample(mode=mode, **kw)
    run_pair(ours, theirs, np.random.randn(*shape), np.float64)


def test_interpolate_errors():
    x = cr.zeros(1, 2, 4, 4)
    with pytest.raises(ValueError, match="exactly one"):
        nn.functional.interpolate(x)
    with pytest.raises(ValueError, match="mode"):
        nn.functional.interpolate(x, scale_factor=2, mode="cubic")
    with pytest.raises(ValueError, match="needs a"):
        nn.functional.interpolate(x, scale_factor=2, mode="linear")
