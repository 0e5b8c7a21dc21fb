"""Lazy layers (shapes from the first input) and nn.Buffer, against PyTorch."""

import numpy as np
import pytest
import torch
from nn_twin import copy_weights, run_pair

import chainrule as cr
from chainrule import nn


@pytest.mark.parametrize("ours_cls,theirs_cls,args,kw,shape", [
    ("LazyLinear", "Linear", (4,), {}, (3, 6)),
    ("LazyLinear", "Linear", (2,), {"bias": False}, (5, 2, 3)),
    ("LazyConv1d", "Conv1d", (4, 3), {"padding": 1}, (2, 3, 7)),
    ("LazyConv2d", "Conv2d", (4, 3), {"groups": 2, "stride": 2}, (2, 6, 7, 7)),
    ("LazyConv3d", "Conv3d", (2, 2), {}, (1, 3, 3, 3, 3)),
    ("LazyConvTranspose1d", "ConvTranspose1d", (2, 3), {"stride": 2}, (2, 4, 5)),
    ("LazyConvTranspose2d", "ConvTranspose2d", (4, 2), {"groups": 2}, (1, 2, 3, 3)),
    ("LazyConvTranspose3d", "ConvTranspose3d", (2, 2), {"stride": 2}, (1, 3, 2, 2, 2)),
])
def test_lazy_layers_become_their_layer(ours_cls, theirs_cls, args, kw, shape):
    ours = getattr(nn, ours_cls)(*args, dtype=np.float64, **kw)
    lazy_theirs = getattr(torch.nn, ours_cls)(*args, dtype=torch.float64, **kw)
    assert ours.has_uninitialized_params()
    x = np.random.default_rng(0).standard_normal(shape)
    out = ours(cr.tensor(x))
    lazy_theirs(torch.tensor(x))
    assert type(ours) is getattr(nn, theirs_cls) and not hasattr(ours, "_initialize_hook")
    assert [tuple(p.shape) for p in ours.parameters()] == \
        [tuple(p.shape) for p in lazy_theirs.parameters()]
    assert repr(ours) == repr(lazy_theirs)
    assert out.shape == tuple(lazy_theirs(torch.tensor(x)).shape)
    copy_weights(lazy_theirs, ours)
    run_pair(ours, lazy_theirs, x, np.float64)


def test_lazy_init_follows_pytorch_bounds():
    layer = nn.LazyLinear(300)
    layer(cr.ones(1, 25))
    bound = 1 / 5.0
    w = layer.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound


def test_optimizer_built_before_the_first_forward_trains_the_lazy_parameters():
    model = nn.Sequential(nn.LazyLinear(3), nn.ReLU(), nn.LazyLinear(1))
    params = list(model.parameters())
    opt = cr.optim.SGD(params, lr=0.1)
    x = cr.randn(8, 5)
    loss = model(x).pow(2).mean()
    loss.backward()
    before = model[0].weight.detach().numpy().copy()
    opt.step()
    assert model[0].weight is params[0] and model[0].weight.shape == (3, 5)
    assert not np.allclose(model[0].weight.detach().numpy(), before)


@pytest.mark.parametrize("name,theirs_name,shape", [
    ("LazyBatchNorm1d", "BatchNorm1d", (4, 3)), ("LazyBatchNorm2d", "BatchNorm2d", (2, 3, 4, 4)),
    ("LazyBatchNorm3d", "BatchNorm3d", (2, 3, 2, 2, 2)),
    ("LazyInstanceNorm1d", "InstanceNorm1d", (2, 3, 5)),
    ("LazyInstanceNorm2d", "InstanceNorm2d", (2, 3, 4, 4)),
    ("LazyInstanceNorm3d", "InstanceNorm3d", (1, 2, 2, 3, 3))])
def test_lazy_norms(name, theirs_name, shape):
    kw = {"affine": True, "track_running_stats": True} if "Instance" in name else {}
    ours = getattr(nn, name)(dtype=np.float64, **kw)
    theirs = getattr(torch.nn, name)(dtype=torch.float64, **kw)
    x = np.random.default_rng(1).standard_normal(shape)
    run_pair(ours, theirs, x, np.float64)
    assert type(ours) is getattr(nn, theirs_name) and repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_lazy_instance_norm_reads_the_channels_of_an_unbatched_input():
    # PyTorch 2.13 takes dim 1 as the channels even for an unbatched (C, H, W) input, then
    # refuses its own input; chainrule reads the channel dim.
    norm = nn.LazyInstanceNorm2d(affine=True)
    assert norm(cr.randn(3, 4, 4)).shape == (3, 4, 4) and norm.num_features == 3


def test_loading_a_state_dict_gives_lazy_parameters_their_shapes():
    src = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    dst = nn.Sequential(nn.LazyLinear(3), nn.LazyBatchNorm1d())
    dst.load_state_dict(src.state_dict())
    assert dst[0].weight.shape == (3, 4) and dst[1].running_mean.shape == (3,)
    x = cr.randn(5, 4)
    src.eval()
    dst.eval()
    assert np.allclose(dst(x).detach().numpy(), src(x).detach().numpy())
    assert type(dst[0]) is nn.Linear and dst[0].in_features == 4


def test_uninitialized_placeholders():
    p = nn.UninitializedParameter()
    assert isinstance(p, nn.Parameter) and p.requires_grad
    p.materialize((2, 2), dtype=np.float64)
    assert type(p) is nn.Parameter and p.shape == (2, 2) and p.dtype == np.float64
    with pytest.raises(ValueError, match="in_channels \\(3\\) must be divisible by groups"):
        nn.LazyConv2d(4, 3, groups=2)(cr.ones(1, 3, 5, 5))


class _WithBuffers:
    @staticmethod
    def build(lib):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lib.nn.Linear(2, 2)
                self.steps = lib.nn.Buffer(lib.zeros(()))
                self.cache = lib.nn.Buffer(lib.ones(3), persistent=False)
        return M()


def test_buffer_registers_like_torch():
    ours, theirs = _WithBuffers.build(cr), _WithBuffers.build(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    t = cr.ones(2)
    b = nn.Buffer(t)
    b._data[0] = 5.0
    assert t.tolist() == [5.0, 1.0]  # shares memory, as torch's Buffer(t)
    with pytest.raises(TypeError, match="cannot assign Buffer 'weight'"):
        nn.Linear(2, 2).weight = nn.Buffer(cr.ones(2, 2))
