"""Convolutions with PyTorch's options: groups, 'same' padding with even kernels, padding
modes, unbatched inputs, 1-d/3-d and transposed variants, against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_twin import close, copy_weights, run_pair

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

CONV = [
    ("Conv2d", (4, 6, 3), dict(groups=2, padding=1), (2, 4, 6, 5)),
    ("Conv2d", (4, 4, 3), dict(groups=4, stride=2), (2, 4, 7, 7)),  # depthwise
    ("Conv2d", (3, 6, (2, 4)), dict(padding="same", dilation=(2, 1)), (1, 3, 5, 6)),
    ("Conv2d", (2, 3, 3), dict(padding=2, padding_mode="reflect"), (2, 2, 5, 5)),
    ("Conv2d", (2, 3, 3), dict(padding=(1, 2), padding_mode="replicate"), (1, 2, 4, 5)),
    ("Conv2d", (2, 4, 3), dict(padding="same", padding_mode="circular", groups=2), (1, 2, 4, 4)),
    ("Conv2d", (3, 2, 3), dict(bias=False), (3, 5, 5)),  # unbatched
    ("Conv1d", (4, 6, 3), dict(groups=2, stride=2, padding=1), (2, 4, 9)),
    ("Conv1d", (2, 2, 4), dict(padding="same"), (3, 2, 7)),
    ("Conv1d", (2, 3, 3), dict(padding=2, padding_mode="circular"), (2, 2, 6)),
    ("Conv1d", (2, 3, 3), dict(), (2, 6)),  # unbatched
    ("Conv3d", (2, 4, 3), dict(padding=1), (1, 2, 4, 5, 5)),
    ("Conv3d", (4, 4, (2, 3, 2)), dict(stride=(2, 1, 2), dilation=(1, 2, 1), groups=2),
     (2, 4, 5, 6, 5)),
    ("Conv3d", (2, 3, 2), dict(padding="same"), (2, 3, 4, 4)),  # unbatched, even kernel
    ("Conv3d", (1, 2, 3), dict(padding=1, padding_mode="replicate"), (1, 1, 3, 4, 4)),
    ("ConvTranspose2d", (4, 6, 3), dict(groups=2, stride=2, padding=1, output_padding=1),
     (2, 4, 3, 4)),
    ("ConvTranspose2d", (2, 3, (2, 3)), dict(dilation=2), (2, 3, 3)),  # unbatched
    ("ConvTranspose1d", (4, 2, 3), dict(stride=3, padding=1, output_padding=2), (2, 4, 5)),
    ("ConvTranspose1d", (2, 4, 2), dict(groups=2, bias=False), (2, 6)),
    ("ConvTranspose3d", (2, 3, 2), dict(stride=2), (1, 2, 2, 3, 2)),
    ("ConvTranspose3d", (4, 2, (3, 2, 2)), dict(stride=(2, 1, 2), padding=(1, 0, 1),
                                               output_padding=(1, 0, 1), groups=2,
                                               dilation=(1, 2, 1)), (2, 4, 3, 3, 3)),
    ("ConvTranspose3d", (2, 2, 2), dict(bias=False), (2, 2, 2, 2)),  # unbatched
]


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("layer,args,kw,shape", CONV)
def test_conv_layers_match_torch(layer, args, kw, shape):
    theirs = getattr(torch.nn, layer)(*args, dtype=torch.float64, **kw)
    ours = getattr(nn, layer)(*args, dtype=np.float64, **kw)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert repr(ours) == repr(theirs)
    copy_weights(theirs, ours)
    run_pair(ours, theirs, np.random.default_rng(0).standard_normal(shape), np.float64)


@pytest.mark.parametrize("fn,xs,ws,kw", [
    ("conv2d", (1, 4, 4, 4), (4, 2, 2, 2), dict(groups=2, padding="same")),
    ("conv1d", (2, 3, 5), (3, 1, 3), dict(groups=3, dilation=2)),
    ("conv3d", (1, 2, 3, 3, 3), (2, 1, 2, 2, 2), dict(groups=2, padding=1, stride=2)),
    ("conv_transpose2d", (1, 4, 2, 3), (4, 1, 2, 2), dict(groups=2, stride=2)),
    ("conv_transpose1d", (1, 2, 3), (2, 2, 3), dict(stride=2, output_padding=1)),
    ("conv_transpose3d", (1, 2, 2, 2, 2), (2, 1, 2, 2, 2), dict(stride=2, padding=1)),
])
def test_functional_gradcheck_and_weight_grads(fn, xs, ws, kw):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    cx, cw = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
    assert cr.gradcheck(lambda a, b: getattr(F, fn)(a, b, **kw), (cx, cw))
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    co, to = getattr(F, fn)(cx, cw, **kw), getattr(TF, fn)(tx, tw, **kw)
    close(co, to, np.float64, fn)


def test_conv_transpose_output_size():
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, dtype=torch.float64)
    ours = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, dtype=np.float64)
    copy_weights(theirs, ours)
    x = np.random.default_rng(2).standard_normal((1, 2, 4, 4))
    close(ours(cr.tensor(x), output_size=(8, 8)),
          theirs(torch.tensor(x), output_size=(8, 8)), np.float64, "output_size")
    with pytest.raises(ValueError, match="not reachable"):
        ours(cr.tensor(x), output_size=(10, 10))


def test_conv_errors_name_the_argument():
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(2, 2, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="'same' is not supported for strided"):
        nn.Conv1d(2, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="conv2d: input .* do not fit with groups=2"):
        F.conv2d(cr.zeros(1, 4, 3, 3), cr.zeros(4, 4, 1, 1), groups=2)
    with pytest.raises(ValueError, match=r"Conv3d\(2, 4\): expected input \(N, 2, D, H, W\)"):
        nn.Conv3d(2, 4, 3)(cr.zeros(1, 3, 4, 4, 4))
    with pytest.raises(ValueError, match="only numeric padding"):
        nn.ConvTranspose2d(2, 2, 3, padding="same")
