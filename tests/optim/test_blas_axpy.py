"""The fused ``y += a * x`` the optimizers use on large weights, against NumPy's two passes."""

import os
import subprocess
import sys

import numpy as np
import pytest

from chainrule import _blas
from chainrule._blas import MIN_SIZE, axpy_


def _two_pass(y, x, alpha):
    return y + np.asarray(alpha, y.dtype) * x


def test_numpy_wheel_blas_is_found():
    # CI installs NumPy from its wheel, which bundles OpenBLAS: the fast path must be live there.
    assert _blas.available


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(MIN_SIZE,), (300, 40), (3, 100, 50), (7,)])
def test_axpy_matches_numpy(dtype, shape):
    rng = np.random.default_rng(0)
    y, x = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)
    alpha = dtype(-0.01)
    expected = _two_pass(y, x, alpha)
    y0, scale = y.copy(), np.abs(y) + np.abs(alpha * x)
    axpy_(y, x, alpha, np.empty_like(y))
    # A fused multiply-add rounds once, two passes twice: the results differ by rounding only,
    # relative to the size of the terms (the sum itself may nearly cancel).
    assert np.all(np.abs(y - expected) <= 2 * np.finfo(dtype).eps * scale)
    assert np.abs(y - y0).max() > 1e-4  # the update did happen


@pytest.mark.parametrize("scratch", [True, False])
def test_axpy_reads_a_read_only_x_and_needs_no_scratch(scratch):
    """A read-only x (a broadcast seed, a user's frozen array) is read by address too."""
    rng = np.random.default_rng(2)
    y, x = rng.standard_normal((300, 40)), rng.standard_normal((300, 40))
    x.flags.writeable = False
    expected = _two_pass(y, x, -0.5)
    axpy_(y, x, -0.5, np.empty_like(y) if scratch else None)
    np.testing.assert_allclose(y, expected, rtol=1e-14, atol=1e-14)
    small = np.ones(5)
    axpy_(small, np.arange(5.0), 2.0)  # below MIN_SIZE: the NumPy path, no scratch given
    np.testing.assert_array_equal(small, 1 + 2 * np.arange(5.0))


@pytest.mark.parametrize("case", ["transposed_x", "strided_y", "int", "mixed_dtype"])
def test_axpy_falls_back_where_blas_does_not_apply(case):
    rng = np.random.default_rng(1)
    y = rng.standard_normal((200, 100))
    x = rng.standard_normal((100, 200)).T if case == "transposed_x" else rng.standard_normal(
        (200, 100))
    if case == "strided_y":
        y = rng.standard_normal((400, 100))[::2]
    if case == "int":
        y, x = np.arange(20000).reshape(200, 100), np.ones((200, 100), np.int64)
    if case == "mixed_dtype":
        x = x.astype(np.float32)
    expected = _two_pass(y, x, 3 if case == "int" else 0.5)
    axpy_(y, x, 3 if case == "int" else 0.5, np.empty_like(y))
    np.testing.assert_allclose(y, expected, rtol=1e-15)


def test_axpy_with_x_aliasing_y():
    y = np.arange(MIN_SIZE * 2, dtype=np.float64)
    expected = y + 0.5 * y
    axpy_(y, y, 0.5, np.empty_like(y))
    np.testing.assert_array_equal(y, expected)


def test_environment_variable_turns_blas_off():
    code = "import chainrule._blas as b; print(b.available)"
    env = dict(os.environ, CHAINRULE_NO_BLAS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


SGD_CONFIGS = [dict(lr=0.05), dict(lr=0.05, momentum=0.9, dampening=0.1),
               dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
               dict(lr=0.05, momentum=0.5, maximize=True)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw", SGD_CONFIGS, ids=["plain", "momentum", "nesterov_wd", "maximize"])
def test_sgd_on_a_large_weight_matches_torch(kw, dtype):
    # A (300, 40) weight: 12,000 elements, so the update goes through BLAS axpy.
    import torch

    import chainrule as cr

    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((300, 40)) * 0.1
    x, y = rng.standard_normal((16, 40)), rng.standard_normal((16, 300))
    w_cr = cr.tensor(w0, dtype=dtype, requires_grad=True)
    w_th = torch.tensor(w0, dtype=getattr(torch, dtype), requires_grad=True)
    x_cr, y_cr = cr.tensor(x, dtype=dtype), cr.tensor(y, dtype=dtype)
    x_th, y_th = (torch.tensor(a, dtype=getattr(torch, dtype)) for a in (x, y))
    opt_cr, opt_th = cr.optim.SGD([w_cr], **kw), torch.optim.SGD([w_th], **kw)
    rtol = 1e-12 if dtype == "float64" else 1e-5
    for _ in range(10):
        for opt, loss in ((opt_cr, ((x_cr @ w_cr.T - y_cr) ** 2).mean()),
                          (opt_th, ((x_th @ w_th.T - y_th) ** 2).mean())):
            opt.zero_grad()
            loss.backward()
            opt.step()
        expected = w_th.detach().numpy()
        np.testing.assert_allclose(w_cr.detach().numpy(), expected, rtol=rtol, atol=rtol * 0.1)
    assert np.abs(w_cr.detach().numpy() - w0).max() > 1e-3
