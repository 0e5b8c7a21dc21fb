"""InstanceNorm, RMSNorm, LocalResponseNorm, BatchNorm3d and the bias=False options against
PyTorch, over several training steps where there are running statistics."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_twin import close, copy_weights, run_pair, torch_dtype

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn


def _steps(ours, theirs, shapes, dtype, train=True):
    """A few forward/backward passes, then eval; parameters, buffers and outputs compared."""
    rng = np.random.default_rng(0)
    ours.train(train)
    theirs.train(train)
    for shape in shapes:
        x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
        run_pair(ours, theirs, x, dtype)
        for p in ours.parameters():
            p.grad = None
        theirs.zero_grad()
    tb = dict(theirs.named_buffers())
    for name, b in ours.named_buffers():
        close(b, tb[name], dtype, f"buffer {name}")
    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shapes[0]).astype(dtype)
    run_pair(ours, theirs, x, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,shapes", [("InstanceNorm1d", [(3, 4, 6), (4, 7)]),
                                         ("InstanceNorm2d", [(2, 4, 3, 5), (4, 3, 3)]),
                                         ("InstanceNorm3d", [(2, 4, 2, 3, 3)])])
@pytest.mark.parametrize("kw", [{}, {"affine": True}, {"track_running_stats": True},
                                {"affine": True, "track_running_stats": True, "momentum": 0.3},
                                {"affine": True, "bias": False}])
def test_instance_norm(name, shapes, kw, dtype):
    theirs = getattr(torch.nn, name)(4, dtype=torch_dtype(dtype), **kw)
    ours = getattr(nn, name)(4, dtype=dtype, **kw)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    if kw.get("affine"):
        with torch.no_grad():
            for p in theirs.parameters():
                p.uniform_(0.5, 1.5)
    copy_weights(theirs, ours)
    _steps(ours, theirs, shapes, dtype)


def test_instance_norm_function_gradcheck_and_errors():
    x = cr.randn(2, 3, 4, dtype=cr.float64, requires_grad=True)
    w = cr.randn(3, dtype=cr.float64, requires_grad=True)
    b = cr.randn(3, dtype=cr.float64, requires_grad=True)
    assert cr.gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(cr.zeros(2, 3, 1))
    with pytest.raises(ValueError, match=r"InstanceNorm2d\(3\): input .* has 4 channels"):
        nn.InstanceNorm2d(3, affine=True)(cr.zeros(1, 4, 2, 2))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm2d(3)(cr.randn(1, 4, 2, 2))


@pytest.mark.parametrize("shape,norm", [((3, 4), 4), ((2, 3, 4), (3, 4)), ((5, 2, 6), 6)])
@pytest.mark.parametrize("eps", [None, 1e-3])
@pytest.mark.parametrize("affine", [True, False])
def test_rms_norm(shape, norm, eps, affine):
    theirs = torch.nn.RMSNorm(norm, eps=eps, elementwise_affine=affine, dtype=torch.float64)
    ours = nn.RMSNorm(norm, eps=eps, elementwise_affine=affine, dtype=np.float64)
    if affine:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
    copy_weights(theirs, ours)
    x = np.random.default_rng(1).standard_normal(shape)
    run_pair(ours, theirs, x, np.float64)
    assert repr(ours) == repr(theirs)
    assert cr.gradcheck(lambda t: F.rms_norm(t, norm, eps=eps), (cr.tensor(x, requires_grad=True),))
    close(F.rms_norm(cr.tensor(x.astype(np.float32)), norm),
          TF.rms_norm(torch.tensor(x.astype(np.float32)), norm if isinstance(norm, tuple)
                      else (norm,)), np.float32, "float32 default eps")


@pytest.mark.parametrize("shape", [(2, 5, 4), (2, 6, 3, 3), (1, 4, 2, 3, 2)])
@pytest.mark.parametrize("size,kw", [(2, {}), (3, {"alpha": 0.5, "beta": 0.6, "k": 2.0}),
                                     (5, {"alpha": 1e-2})])
def test_local_response_norm(shape, size, kw):
    x = np.random.default_rng(2).standard_normal(shape)
    run_pair(nn.LocalResponseNorm(size, **kw), torch.nn.LocalResponseNorm(size, **kw), x,
             np.float64)
    assert cr.gradcheck(lambda t: F.local_response_norm(t, size, **kw),
                        (cr.tensor(x, requires_grad=True),))


@pytest.mark.parametrize("kw", [{}, {"bias": False}, {"momentum": None}])
def test_batchnorm3d(kw):
    theirs = torch.nn.BatchNorm3d(3, dtype=torch.float64, **kw)
    ours = nn.BatchNorm3d(3, dtype=np.float64, **kw)
    assert list(ours.state_dict()) == list(theirs.state_dict()) and repr(ours) == repr(theirs)
    _steps(ours, theirs, [(4, 3, 2, 3, 3), (2, 3, 3, 2, 2)], np.float64)


@pytest.mark.parametrize("layer,args", [("BatchNorm1d", (3,)), ("BatchNorm2d", (3,)),
                                        ("GroupNorm", (1, 3))])
def test_bias_false(layer, args):
    theirs = getattr(torch.nn, layer)(*args, bias=False, dtype=torch.float64)
    ours = getattr(nn, layer)(*args, bias=False, dtype=np.float64)
    assert ours.bias is None and list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    shape = (4, 3) if layer == "BatchNorm1d" else (4, 3, 2, 2)
    run_pair(ours, theirs, np.random.default_rng(4).standard_normal(shape), np.float64)


def test_sync_batch_norm_is_not_available_yet():
    with pytest.raises(NotImplementedError, match="SyncBatchNorm: .* not available yet"):
        nn.SyncBatchNorm(3)
    with pytest.raises(NotImplementedError, match="convert_sync_batchnorm"):
        nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(3))
