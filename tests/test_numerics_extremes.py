"""Forward values and gradients at zero, denormal and near-overflow float32 inputs, against
PyTorch: normalize, cosine_similarity, mish, var/std and the norms.

The reference is PyTorch in float32. Where PyTorch's own float32 kernel overflows or underflows
in an intermediate (its whole-tensor variance sums squares in float32 and gives inf for values
near 1e19 and more; its std gradient divides by 2 std and overflows for denormal std; its mish
gradient at -100 underflows to the wrong sign), the
reference is PyTorch in float64, rounded to float32: chainrule gives the exact answer there.
Those cases are listed in ``EXACT_ONLY`` (and the mish case where it is tested).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F

# the weighted sum that drives backward adds infinities of both signs for some rows (NaN, as in
# PyTorch, which does not warn)
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")

F32 = np.float32
TINY = np.finfo(F32).tiny
BIG = np.finfo(F32).max

ROWS = {
    "zero": np.zeros((2, 3), F32),
    "denormal": np.full((2, 3), 1e-40, F32),
    "tiny": np.full((2, 3), TINY, F32),
    "near_max": np.full((2, 3), BIG / 4, F32),
    "max": np.full((2, 3), BIG, F32),
    "mixed": np.array([[0.0, 1e-40, -1e-41], [3e38, -3e38, 1.0]], F32),
    "one_zero_row": np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]], F32),
}


def _torch(fn, arrays, w, dtype):
    ts = [torch.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    y = fn(torch, *ts)
    if y.requires_grad:
        (y * torch.tensor(w, dtype=dtype)).sum().backward()
    grads = [t.grad.float().numpy() if t.grad is not None else np.zeros(t.shape, F32)
             for t in ts]
    return y.detach().float().numpy(), grads


def _chainrule(fn, arrays, w):
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    y = fn(cr, *xs)
    if y.requires_grad:
        (y * cr.tensor(w)).sum().backward()
    grads = [x.grad.numpy() if x.grad is not None else np.zeros(x.shape, F32) for x in xs]
    return y.detach().numpy(), grads


def _same(a, b) -> bool:
    """Equal NaNs and infs, finite values within float32 rounding of the largest one (and of
    the denormals, whose spacing is 1.4e-45)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or not (np.isnan(a) == np.isnan(b)).all():
        return False
    inf = np.isinf(b)
    if not (a[inf] == b[inf]).all():
        return False
    fin = np.isfinite(b)
    scale = np.abs(b[fin]).max(initial=0.0)
    return bool(np.allclose(a[fin], b[fin], rtol=1e-4, atol=1e-6 * scale + 1e-43))


def check(fn, *arrays, exact_only: bool = False):
    y0 = fn(torch, *[torch.tensor(a) for a in arrays])
    w = np.random.default_rng(0).standard_normal(y0.shape).astype(F32)
    got = _chainrule(fn, arrays, w)
    want = _torch(fn, arrays, w, torch.float64 if exact_only else torch.float32)
    assert _same(got[0], want[0]), f"forward: {got[0]} != {want[0]}"
    for g, t in zip(got[1], want[1]):
        assert _same(g, t), f"gradient: {g} != {t}"


def _lib_f(lib):
    return F if lib is cr else torch.nn.functional


FUNCS = {
    "normalize": lambda lib, x: _lib_f(lib).normalize(x, dim=1),
    "normalize_dim0": lambda lib, x: _lib_f(lib).normalize(x, dim=0),
    "mish": lambda lib, x: _lib_f(lib).mish(x),
    "var_dim": lambda lib, x: x.var(dim=1),
    "std_dim": lambda lib, x: x.std(dim=1),
    "var_dim0_biased": lambda lib, x: x.var(dim=0, correction=0),
    "std_dim0_biased": lambda lib, x: x.std(dim=0, correction=0),
    "var_all": lambda lib, x: x.var(),
    "std_all": lambda lib, x: x.std(),
}
# (function, rows) where PyTorch's float32 kernel loses the answer: compared with float64
EXACT_ONLY = {
    ("var_all", "near_max"), ("var_all", "max"), ("std_all", "near_max"),
    ("std_all", "max"), ("std_dim", "mixed"), ("std_all", "mixed"), ("var_all", "mixed"),
    ("var_dim", "max"), ("std_dim", "max"), ("var_dim0_biased", "max"),
    ("std_dim0_biased", "max"), ("std_dim0_biased", "mixed"), ("var_dim0_biased", "mixed"),
}


@pytest.mark.parametrize("rows", list(ROWS))
@pytest.mark.parametrize("name", list(FUNCS))
def test_unary(name, rows):
    check(FUNCS[name], ROWS[rows], exact_only=(name, rows) in EXACT_ONLY)


@pytest.mark.parametrize("rows", list(ROWS))
@pytest.mark.parametrize("other", ["reversed", "broadcast_row", "zeros"])
def test_cosine_similarity(rows, other):
    a = ROWS[rows]
    b = {"reversed": a[::-1].copy(), "broadcast_row": a[:1].copy(),
         "zeros": np.zeros_like(a)}[other]
    check(lambda lib, x, y: _lib_f(lib).cosine_similarity(x, y, dim=1), a, b)


def test_cosine_similarity_broadcast_against_torch():
    """(2, 1, 3) against (1, 4, 3): the broadcast happens before the norms, as in PyTorch."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 1, 3)).astype(F32)
    b = rng.standard_normal((1, 4, 3)).astype(F32)
    b[0, 0] = 0.0
    check(lambda lib, x, y: _lib_f(lib).cosine_similarity(x, y, dim=-1), a, b)


@pytest.mark.parametrize("value", [0.0, 1e-45, 1e-40, TINY, 1.0, 20.0, 88.0, 89.0, 1e30, 3e38,
                                   BIG, -1e-40, -20.0, -100.0, -1e30, -BIG])
def test_mish_scalar(value):
    # at -100 PyTorch's float32 gradient underflows to a wrong sign (4e-45 for -4.6e-43)
    check(lambda lib, x: _lib_f(lib).mish(x), np.array([value], F32), exact_only=value == -100)


ORDS = [0, 0.5, 1, 2, 3, float("inf"), float("-inf")]


@pytest.mark.parametrize("rows", list(ROWS))
@pytest.mark.parametrize("p", ORDS)
def test_vector_norm(p, rows):
    check(lambda lib, x: lib.linalg.vector_norm(x, ord=p, dim=1), ROWS[rows])


@pytest.mark.parametrize("rows", ["zero", "denormal", "one_zero_row", "mixed"])
@pytest.mark.parametrize("p", ORDS + ["fro"])
def test_norm(p, rows):
    if p == "fro":
        check(lambda lib, x: lib.norm(x), ROWS[rows])
    else:
        check(lambda lib, x: lib.norm(x, p=p, dim=1), ROWS[rows])


@pytest.mark.parametrize("rows", ["zero", "one_zero_row", "denormal"])
@pytest.mark.parametrize("p", [None, 2, float("inf")])
def test_linalg_norm(p, rows):
    check(lambda lib, x: lib.linalg.norm(x, ord=p, dim=1), ROWS[rows])


@pytest.mark.parametrize("rows", ["zero", "one_zero_row", "tiny", "near_max"])
@pytest.mark.parametrize("ord_", ["fro", 1, -1, float("inf"), float("-inf")])
def test_matrix_norm(ord_, rows):
    check(lambda lib, x: lib.linalg.matrix_norm(x, ord=ord_), ROWS[rows])


def test_var_of_equal_large_values_is_zero():
    """The reported case: equal values near float32's maximum have variance 0, not inf."""
    x = cr.full((4, 5), 3e38, requires_grad=True)
    v = x.var(dim=1)
    assert v.tolist() == [0.0] * 4
    assert torch.full((4, 5), 3e38).var(dim=1).tolist() == [0.0] * 4
    v.sum().backward()
    assert (x.grad.numpy() == 0).all()
    assert x.std().item() == 0.0
    y = cr.full((3,), 1.5e308, dtype=cr.float64)
    assert y.var().item() == 0.0 and y.std().item() == 0.0
