"""affine_grid and grid_sample against PyTorch: values and gradients for the image and the
grid."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_twin import close

import chainrule as cr
import chainrule.nn.functional as F


@pytest.mark.parametrize("size", [(2, 3, 4, 5), (1, 1, 1, 3), (2, 1, 3, 2, 4)])
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid(size, align_corners):
    k = len(size) - 2
    theta = np.random.default_rng(0).standard_normal((size[0], k, k + 1))
    ct, tt = cr.tensor(theta, requires_grad=True), torch.tensor(theta, requires_grad=True)
    with np.errstate(all="ignore"), pytest.warns(UserWarning) if align_corners and \
            min(size[2:]) == 1 else _nothing():
        to = TF.affine_grid(tt, size, align_corners=align_corners)
    co = F.affine_grid(ct, size, align_corners=align_corners)
    close(co, to, np.float64, "affine_grid")
    u = np.random.default_rng(1).standard_normal(to.shape)
    co.backward(cr.tensor(u))
    to.backward(torch.tensor(u))
    close(ct.grad, tt.grad, np.float64, "theta grad")


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


CASES = [(mode, pad, ac) for mode in ("bilinear", "nearest")
         for pad in ("zeros", "border", "reflection") for ac in (False, True)]


@pytest.mark.parametrize("mode,padding_mode,align_corners", CASES)
@pytest.mark.parametrize("dims", [2, 3])
def test_grid_sample(mode, padding_mode, align_corners, dims):
    rng = np.random.default_rng(2)
    shape = (2, 3, 4, 5) if dims == 2 else (1, 2, 3, 4, 3)
    out_spatial = (3, 4) if dims == 2 else (2, 3, 2)
    x = rng.standard_normal(shape)
    g = rng.uniform(-1.4, 1.4, (shape[0],) + out_spatial + (dims,))  # some points outside
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    cg, tg = cr.tensor(g, requires_grad=True), torch.tensor(g, requires_grad=True)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    co, to = F.grid_sample(cx, cg, **kw), TF.grid_sample(tx, tg, **kw)
    close(co, to, np.float64, "grid_sample")
    u = rng.standard_normal(to.shape)
    co.backward(cr.tensor(u))
    to.backward(torch.tensor(u))
    close(cx.grad, tx.grad, np.float64, "input grad")
    close(cg.grad, tg.grad, np.float64, "grid grad")


def test_spatial_transformer_round_trip_and_gradcheck():
    theta = cr.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]], dtype=cr.float64)
    img = cr.randn(1, 2, 4, 4, dtype=cr.float64)
    grid = F.affine_grid(theta, (1, 2, 4, 4), align_corners=False)
    out = F.grid_sample(img, grid, align_corners=False)
    np.testing.assert_allclose(out.numpy(), img.numpy(), atol=1e-12)  # identity map
    x = cr.randn(1, 1, 3, 3, dtype=cr.float64, requires_grad=True)
    g = cr.tensor(np.random.default_rng(3).uniform(-0.9, 0.9, (1, 2, 2, 2)), requires_grad=True)
    assert cr.gradcheck(lambda a, b: F.grid_sample(a, b, align_corners=True), (x, g))


def test_vision_errors_and_default_warning():
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.affine_grid(cr.zeros(1, 2, 3), (1, 1, 2, 2))
    with pytest.raises(ValueError, match="theta must be \\(1, 2, 3\\)"):
        F.affine_grid(cr.zeros(1, 3, 3), (1, 1, 2, 2), align_corners=False)
    with pytest.raises(ValueError, match="'bicubic' is not supported"):
        F.grid_sample(cr.zeros(1, 1, 2, 2), cr.zeros(1, 1, 1, 2), mode="bicubic",
                      align_corners=False)
    with pytest.raises(ValueError, match="grid must be"):
        F.grid_sample(cr.zeros(1, 1, 2, 2), cr.zeros(1, 1, 1, 3), align_corners=False)
