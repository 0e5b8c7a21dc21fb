"""PixelShuffle, PixelUnshuffle, ChannelShuffle, Fold and Unfold against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_twin import run_pair

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn


@pytest.mark.parametrize("shape,r", [((1, 8, 2, 3), 2), ((2, 9, 3, 1), 3), ((4, 3, 3), 1),
                                     ((2, 1, 4, 2, 2), 2)])
def test_pixel_shuffle(shape, r):
    x = np.random.default_rng(0).standard_normal(shape)
    run_pair(nn.PixelShuffle(r), torch.nn.PixelShuffle(r), x, np.float64)
    assert cr.gradcheck(lambda t: F.pixel_shuffle(t, r), (cr.tensor(x, requires_grad=True),))


@pytest.mark.parametrize("shape,r", [((1, 2, 4, 6), 2), ((2, 1, 3, 6), 3), ((3, 2, 2), 1),
                                     ((2, 1, 2, 4, 4), 2)])
def test_pixel_unshuffle(shape, r):
    x = np.random.default_rng(1).standard_normal(shape)
    run_pair(nn.PixelUnshuffle(r), torch.nn.PixelUnshuffle(r), x, np.float64)
    y = F.pixel_shuffle(F.pixel_unshuffle(cr.tensor(x), r), r)
    np.testing.assert_array_equal(y.numpy(), x)


@pytest.mark.parametrize("shape,g", [((2, 6, 3), 2), ((1, 6, 2, 2), 3), ((2, 4, 1, 2, 2), 4)])
def test_channel_shuffle(shape, g):
    x = np.random.default_rng(2).standard_normal(shape)
    run_pair(nn.ChannelShuffle(g), torch.nn.ChannelShuffle(g), x, np.float64)
    got = F.channel_shuffle(cr.tensor(x), g).numpy()
    np.testing.assert_array_equal(got, TF.channel_shuffle(torch.tensor(x), g).numpy())
    np.testing.assert_array_equal(F.native_channel_shuffle(cr.tensor(x), g).numpy(), got)


def test_rearrange_errors():
    with pytest.raises(ValueError, match="divisible by upscale_factor"):
        F.pixel_shuffle(cr.zeros(1, 3, 2, 2), 2)
    with pytest.raises(ValueError, match="H and W divisible"):
        F.pixel_unshuffle(cr.zeros(1, 1, 3, 4), 2)
    with pytest.raises(ValueError, match="C divisible by groups"):
        F.channel_shuffle(cr.zeros(1, 5, 2), 2)
    with pytest.raises(ValueError, match="upscale_factor' must be an int >= 1, got 0"):
        nn.PixelShuffle(0)(cr.zeros(1, 4, 1, 1))


@pytest.mark.parametrize("kw,shape", [
    (dict(kernel_size=2), (2, 3, 4, 5)),
    (dict(kernel_size=(2, 3), stride=(1, 2), padding=1, dilation=(2, 1)), (1, 2, 6, 7)),
    (dict(kernel_size=3, padding=1), (3, 5, 5)),
])
def test_unfold_and_fold_layers(kw, shape):
    x = np.random.default_rng(3).standard_normal(shape)
    run_pair(nn.Unfold(**kw), torch.nn.Unfold(**kw), x, np.float64)
    cols = torch.nn.Unfold(**kw)(torch.tensor(x))
    fold_kw = dict(kw, output_size=shape[-2:])
    run_pair(nn.Fold(**fold_kw), torch.nn.Fold(**fold_kw), cols.numpy(), np.float64)
    assert repr(nn.Fold(**fold_kw)) == repr(torch.nn.Fold(**fold_kw))
    assert repr(nn.Unfold(**kw)) == repr(torch.nn.Unfold(**kw))
