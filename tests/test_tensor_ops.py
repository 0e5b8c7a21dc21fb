"""The tensor functions beyond the op table: dtypes of results, integer inputs, PyTorch's
argument forms, bad input (a clear error naming the function and the argument), the in-place
forms, and ownership of results."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import chainrule as cr


def _same(got, want):
    got, want = got.detach().numpy(), want.detach().numpy()
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape
    if got.dtype.kind == "f":  # float32 results may differ in the last bit
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)
    else:
        np.testing.assert_array_equal(got, want)


# ---- dtypes of results on integer and bool inputs ------------------------------------------------

INT_CASES = {
    "floor": lambda L, x: L.floor(x),
    "ceil": lambda L, x: L.ceil(x),
    "round": lambda L, x: L.round(x),
    "trunc": lambda L, x: L.trunc(x),
    "remainder": lambda L, x: L.remainder(x - 4, 3),
    "remainder_negative_divisor": lambda L, x: L.remainder(x, -3),
    "fmod": lambda L, x: L.fmod(x - 4, 3),
    "floor_divide": lambda L, x: L.floor_divide(x - 4, 3),
    "cumsum": lambda L, x: L.cumsum(x, 0),
    "cumprod": lambda L, x: L.cumprod(x, 0),
    "cumsum_int32": lambda L, x: L.cumsum(x.int(), 0),
    "cumsum_bool": lambda L, x: L.cumsum(x > 3, 0),
    "cumsum_dtype": lambda L, x: L.cumsum(x, 0, dtype=L.float64),
    "clamp_float_bound": lambda L, x: L.clamp(x, 2.5),
    "clamp_int_bounds": lambda L, x: L.clamp(x, 2, 5),
    "clamp_tensor_bounds": lambda L, x: L.clamp(x, x - 1, x * 0 + 5),
    "nan_to_num": lambda L, x: L.nan_to_num(x),
    "tril": lambda L, x: L.tril(x.reshape(2, 3)),
    "triu": lambda L, x: L.triu(x.reshape(2, 3), 1),
    "diag": lambda L, x: L.diag(x),
    "trace": lambda L, x: L.trace(x.reshape(2, 3)),
    "kron": lambda L, x: L.kron(x[:2], x[:3]),
    "roll": lambda L, x: L.roll(x, 2),
    "repeat_interleave": lambda L, x: L.repeat_interleave(x, 2),
    "narrow": lambda L, x: L.narrow(x, 0, 1, 3),
    "flip": lambda L, x: L.flip(x, (0,)),
    "addmm": lambda L, x: L.addmm(x[:2], x.reshape(2, 3), x.reshape(3, 2), beta=2, alpha=3),
    "addcmul": lambda L, x: L.addcmul(x, x, x, value=2),
    "lerp_float": lambda L, x: L.lerp(x.float(), x.float() * 2, 0.25),
    "atan2": lambda L, x: L.atan2(x, x + 1),
    "hypot": lambda L, x: L.hypot(x.float(), x.float()),
    "expm1": lambda L, x: L.expm1(x),
    "erfinv": lambda L, x: L.erfinv(x - x),
    "scatter_add": lambda L, x: L.scatter_add(x, 0, x % 3, x),
    "scatter_reduce_mean": lambda L, x: L.scatter_reduce(x, 0, x % 2, x * 7, "mean"),
    "scatter_reduce_amax_exclude": lambda L, x: L.scatter_reduce(x, 0, x % 2, x * 7, "amax",
                                                                 include_self=False),
    "scatter_reduce_prod_exclude": lambda L, x: L.scatter_reduce(x, 0, x % 2, x, "prod",
                                                                 include_self=False),
    "sort": lambda L, x: L.sort(-x).values,
    "topk": lambda L, x: L.topk(x, 2).indices,
    "einsum": lambda L, x: L.einsum("i,j->ij", x, x),
}


@pytest.mark.parametrize("name", sorted(INT_CASES))
def test_integer_inputs_match_torch(name):
    data = [1, 2, 3, 4, 5, 6]
    fn = INT_CASES[name]
    _same(fn(cr, cr.tensor(data)), fn(torch, torch.tensor(data)))


def test_round_with_decimals_needs_floats_and_keeps_ints_otherwise():
    with pytest.raises(TypeError, match=r"round\(\): decimals=1 needs a floating-point"):
        cr.round(cr.tensor([1, 2]), decimals=1)
    with pytest.raises(TypeError, match=r"round\(\): decimals must be an int"):
        cr.round(cr.tensor([1.0]), decimals=1.5)
    with pytest.raises(TypeError, match=r"frac\(\).*floating-point"):
        cr.frac(cr.tensor([1, 2]))


@pytest.mark.parametrize("fn", [cr.remainder, cr.fmod, cr.floor_divide])
def test_integer_division_by_zero_raises_like_torch(fn):
    with pytest.raises(ZeroDivisionError, match=rf"{fn.__name__}\(\): integer division by zero"):
        fn(cr.tensor([5, -5]), cr.tensor([1, 0]))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        getattr(torch, fn.__name__)(torch.tensor([5, -5]), torch.tensor([1, 0]))
    assert np.isnan(fn(cr.tensor([0.0]), 0.0).item())  # floats: NaN, silently


def test_remainder_operators_match_torch():
    for a, b in [([7.0, -7.0, 7.5], 3), ([7, -7], -3), ([5.0], [-2.0])]:
        ca, ta = cr.tensor(a), torch.tensor(a)
        cb, tb = (cr.tensor(b), torch.tensor(b)) if isinstance(b, list) else (b, b)
        _same(ca % cb, ta % tb)
        _same(10 % ca if ca.dtype != np.int64 else ca % 3, 10 % ta if ta.dtype != torch.int64
              else ta % 3)


def test_var_std_call_forms_and_bad_input():
    x, t = cr.tensor([[1.0, 2.0, 4.0], [3.0, 3.0, 9.0]]), torch.tensor([[1.0, 2.0, 4.0],
                                                                      [3.0, 3.0, 9.0]])
    for name in ["var", "std"]:
        f, g = getattr(cr, name), getattr(torch, name)
        np.testing.assert_allclose(f(x, False).numpy(), g(t, False).numpy(), rtol=1e-6)
        np.testing.assert_allclose(f(x, 1, False).numpy(), g(t, 1, False).numpy(), rtol=1e-6)
        np.testing.assert_allclose(f(x, 1, True, True).numpy(), g(t, 1, True, True).numpy(),
                                   rtol=1e-6)
        np.testing.assert_allclose(f(x, dim=(0, 1), correction=2).numpy(),
                                   g(t, dim=(0, 1), correction=2).numpy(), rtol=1e-6)
        np.testing.assert_allclose(getattr(x, name)(0, correction=0).numpy(),
                                   getattr(t, name)(0, correction=0).numpy(), rtol=1e-6)
        with pytest.raises(TypeError,
                           match=rf"{name}\(\): argument 'input' must be a floating-point tensor"):
            f(cr.tensor([1, 2]))
        with pytest.raises(TypeError, match=rf"{name}\(\): give correction or unbiased"):
            f(x, 0, True, correction=1)


# ---- PyTorch's argument forms ------------------------------------------------------------------


def test_clamp_with_tensor_bounds_matches_torch_values_and_gradients():
    data = np.array([[-2.0, 0.5, 3.0], [1.0, -1.0, 0.0]])
    lo, hi = np.array([-1.0, 0.0, 1.0]), np.array([[0.5], [2.0]])
    xs = [cr.tensor(a, requires_grad=True) for a in (data, lo, hi)]
    ts = [torch.tensor(a, requires_grad=True) for a in (data, lo, hi)]
    y, yt = cr.clamp(xs[0], xs[1], xs[2]), torch.clamp(ts[0], ts[1], ts[2])
    _same(y, yt)
    y.backward(cr.tensor(np.arange(6.0).reshape(2, 3)))
    yt.backward(torch.tensor(np.arange(6.0).reshape(2, 3)))
    for c, t in zip(xs, ts):
        np.testing.assert_array_equal(c.grad.numpy(), t.grad.numpy())
    # min above max: max wins, as in torch
    _same(cr.clamp(cr.tensor([1.0, 5.0]), cr.tensor([6.0]), cr.tensor([4.0])),
          torch.clamp(torch.tensor([1.0, 5.0]), torch.tensor([6.0]), torch.tensor([4.0])))
    _same(cr.tensor([1.0, 5.0]).clamp(min=cr.tensor(2.0)),
          torch.tensor([1.0, 5.0]).clamp(min=torch.tensor(2.0)))


def test_split_and_chunk_match_torch():
    c, t = cr.arange(10.0).reshape(5, 2), torch.arange(10.0).reshape(5, 2)
    for args in [(2,), ([2, 3],), ([1, 0, 4],), (5,), ([1, 1], 1), (1, -1)]:
        got, want = c.split(*args), t.split(*args)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
    for chunks, dim in [(2, 0), (3, 0), (4, 0), (6, 0), (1, 1), (2, -1)]:
        got, want = cr.chunk(c, chunks, dim), torch.chunk(t, chunks, dim)
        assert [g.shape for g in got] == [tuple(w.shape) for w in want]
    with pytest.raises(ValueError, match=r"split\(\): sizes \[2, 2\] do not add up"):
        c.split([2, 2])
    with pytest.raises(ValueError, match=r"chunk\(\): argument 'chunks' must be an int >= 1"):
        cr.chunk(c, 0)


def test_masked_fill_matches_torch_and_passes_the_value_gradient():
    m = np.array([True, False, True])
    x, v = cr.ones(3, requires_grad=True), cr.tensor(2.0, requires_grad=True)
    xt, vt = torch.ones(3, requires_grad=True), torch.tensor(2.0, requires_grad=True)
    y, yt = x.masked_fill(cr.tensor(m), v), xt.masked_fill(torch.tensor(m), vt)
    _same(y, yt)
    y.backward(cr.tensor([1.0, 2.0, 3.0]))
    yt.backward(torch.tensor([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == xt.grad.tolist() and v.grad.item() == vt.grad.item()
    _same(cr.ones(3, dtype=cr.int64).masked_fill(cr.tensor(m), 2.7),
          torch.ones(3, dtype=torch.int64).masked_fill(torch.tensor(m), 2.7))
    with pytest.raises(TypeError, match=r"masked_fill\(\): argument 'mask' must be a bool tensor"):
        cr.ones(3).masked_fill(cr.tensor([1, 0, 1]), 0.0)
    with pytest.raises(ValueError, match=r"masked_fill\(\).*'mask'.*\(2,\)"):
        cr.ones(3).masked_fill(cr.tensor([True, False]), 0.0)


def test_where_with_condition_only_and_nonzero_match_torch():
    for data in [[[0, 1], [1, 0]], [0.0, 2.0, 0.0, -1.0], 5, 0, [[False]]]:
        c, t = cr.tensor(data), torch.tensor(data)
        for got, want in zip(cr.where(c), torch.where(t)):
            _same(got, want)
        _same(cr.nonzero(c), torch.nonzero(t))
        _same(c.nonzero(), t.nonzero())
        for got, want in zip(cr.nonzero(c, as_tuple=True), torch.nonzero(t, as_tuple=True)):
            _same(got, want)
        if np.ndim(data):
            _same(cr.argwhere(c), torch.argwhere(t))
    with pytest.raises(TypeError, match=r"where\(\): give both input and other"):
        cr.where(cr.tensor([True]), 1.0)


def test_where_condition_indexes_like_torch():
    x = cr.arange(6).reshape(2, 3)
    assert x[cr.where(x > 2)].tolist() == [3, 4, 5]


def test_gather_refuses_out_of_range_indices():
    x = cr.ones(2, 3)
    for bad, shown in [([[-1]], "-1"), ([[3]], "3")]:
        with pytest.raises(IndexError, match=rf"gather\(\): argument 'index' holds {shown}, out "
                                             r"of range for dimension 1 of size 3"):
            cr.gather(x, 1, cr.tensor(bad))
    with pytest.raises(TypeError, match=r"gather\(\): argument 'index' must be an integer"):
        x.gather(1, cr.tensor([[0.0]]))
    assert x.gather(1, cr.tensor([[2]]), sparse_grad=False).tolist() == [[1.0]]


def test_flip_returns_a_copy_and_takes_varargs():
    x = cr.arange(6.0).reshape(2, 3)
    y = x.flip(0, 1)
    assert y.tolist() == torch.arange(6.0).reshape(2, 3).flip(0, 1).tolist()
    y[0, 0] = 100.0
    assert x[1, 2].item() == 5.0  # the input is untouched, as in torch
    assert cr.flip(x, [1]).tolist() == cr.flip(x, (1,)).tolist() == x.flip(1).tolist()
    with pytest.raises(TypeError, match=r"flip\(\): needs the dims"):
        x.flip()


def test_einsum_results_own_their_memory():
    x = cr.arange(6.0).reshape(2, 3)
    for eq in ["ij->ji", "ij->ij", "ij"]:
        y = cr.einsum(eq, x)
        y[0, 0] = 100.0
        assert x[0, 0].item() == 0.0, eq


def test_narrow_shares_memory_like_torch():
    x = cr.arange(6.0)
    y = x.narrow(0, 2, 2)
    y[0] = 100.0
    assert x[2].item() == 100.0


# ---- bad input: the function and the argument at fault -----------------------------------------

BAD = [
    (lambda: cr.bmm(cr.ones(2, 3), cr.ones(3, 2)), ValueError, r"bmm\(\): input must be a 3-D"),
    (lambda: cr.bmm(cr.ones(2, 2, 3), cr.ones(3, 3, 2)), ValueError,
     r"bmm\(\): input of shape \(2, 2, 3\) and mat2 of shape \(3, 3, 2\) do not fit"),
    (lambda: cr.addmm(cr.ones(2, 2), cr.ones(3, 2), cr.ones(2, 2)), ValueError,
     r"addmm\(\): input of shape \(2, 2\) does not broadcast to the product's shape \(3, 2\)"),
    (lambda: cr.addmm(cr.ones(2), cr.ones(2, 3), cr.ones(2, 2)), ValueError,
     r"addmm\(\): mat1 of shape \(2, 3\) and mat2 of shape \(2, 2\) do not align"),
    (lambda: cr.addmv(cr.ones(2), cr.ones(2, 3), cr.ones(3, 1)), ValueError,
     r"addmv\(\): vec must be a 1-D"),
    (lambda: cr.baddbmm(cr.ones(1), cr.ones(2, 3), cr.ones(2, 3, 1)), ValueError,
     r"baddbmm\(\): batch1 must be a 3-D"),
    (lambda: cr.einsum("ij,jk->ik", cr.ones(2, 3), cr.ones(4, 5)), ValueError,
     r"einsum\(\): subscript 'j' has size 4 in operand 1"),
    (lambda: cr.einsum("ij->ik", cr.ones(2, 3)), ValueError,
     r"einsum\(\): output subscript 'k' does not appear"),
    (lambda: cr.einsum("ij,jk", cr.ones(2, 3)), ValueError,
     r"einsum\(\): the equation 'ij,jk' has 2 operand\(s\) but 1 were given"),
    (lambda: cr.einsum("i1", cr.ones(2, 3)), ValueError, r"einsum\(\): invalid subscripts 'i1'"),
    (lambda: cr.einsum("ijk", cr.ones(2, 3)), ValueError,
     r"einsum\(\): subscripts 'ijk' do not fit an operand of shape \(2, 3\)"),
    (lambda: cr.einsum("ij->ii", cr.ones(2, 2)), ValueError, r"einsum\(\): output subscripts"),
    (lambda: cr.einsum("ii", cr.ones(2, 3)), ValueError,
     r"einsum\(\): subscript 'i' is repeated in operand 0 on dims of sizes 2 and 3"),
    (lambda: cr.einsum(3, cr.ones(2)), TypeError, r"einsum\(\): the equation must be a str"),
    (lambda: cr.tril(cr.ones(3)), ValueError, r"tril\(\): needs a tensor with at least 2 dims"),
    (lambda: cr.triu(cr.ones(2, 2), 0.5), TypeError, r"triu\(\): diagonal must be an int"),
    (lambda: cr.diag(cr.ones(2, 2, 2)), ValueError, r"diag\(\): needs a 1-D or 2-D"),
    (lambda: cr.diagonal(cr.ones(2, 2), 0, 1, 1), ValueError, r"diagonal\(\): dim1 and dim2"),
    (lambda: cr.trace(cr.ones(2, 2, 2)), ValueError, r"trace\(\): expects a matrix"),
    (lambda: cr.narrow(cr.ones(4), 0, 3, 2), IndexError,
     r"narrow\(\): start \(3\) \+ length \(2\) exceeds dim 0 of size 4"),
    (lambda: cr.narrow(cr.ones(4), 0, -5, 1), IndexError, r"narrow\(\): start -5 is out of range"),
    (lambda: cr.narrow(cr.ones(4), 1, 0, 1), IndexError, r"narrow\(\): dim 1 is out of range"),
    (lambda: cr.roll(cr.ones(4), (1, 2), 0), ValueError,
     r"roll\(\): shifts \(1, 2\) and dims 0 must have the same length"),
    (lambda: cr.roll(cr.ones(4), 1.5), TypeError, r"roll\(\): shifts must be an int"),
    (lambda: cr.repeat_interleave(cr.ones(3), cr.tensor([1, 2])), ValueError,
     r"repeat_interleave\(\): repeats has 2 counts for 3 entries"),
    (lambda: cr.repeat_interleave(cr.ones(2), cr.tensor([1, -1])), ValueError,
     r"repeat_interleave\(\): repeats must not be negative"),
    (lambda: cr.repeat_interleave(cr.ones(2), cr.tensor([1.0, 2.0])), TypeError,
     r"repeat_interleave\(\): repeats must be an int or a 1-D integer tensor"),
    (lambda: cr.scatter(cr.ones(2, 3), 1, cr.tensor([[3]]), 1.0), IndexError,
     r"scatter\(\): argument 'index' holds 3, out of range for dimension 1 of size 3"),
    (lambda: cr.scatter(cr.ones(2, 3), 1, cr.tensor([[-1]]), 1.0), IndexError,
     r"scatter\(\): argument 'index' holds -1"),
    (lambda: cr.scatter(cr.ones(2, 3), 1, cr.tensor([0]), 1.0), ValueError,
     r"scatter\(\): index of shape \(1,\) must have as many dims as the tensor's shape"),
    (lambda: cr.scatter(cr.ones(2, 3), 1, cr.tensor([[0.0]]), 1.0), TypeError,
     r"scatter\(\): argument 'index' must be an integer"),
    (lambda: cr.scatter(cr.ones(2, 3), 1, cr.tensor([[0, 1]]), cr.ones(1, 1)), ValueError,
     r"scatter\(\): index of shape \(1, 2\) is larger than src's shape \(1, 1\)"),
    (lambda: cr.scatter(cr.ones(2, 3), 1, cr.tensor([[0]]), cr.ones(1, 1, dtype=cr.float64)),
     TypeError, r"scatter\(\): src is float64 but the tensor is float32"),
    (lambda: cr.scatter(cr.ones(2, 3), 1, cr.tensor([[0]])), TypeError,
     r"scatter\(\): needs src \(a tensor\) or value"),
    (lambda: cr.scatter(cr.ones(2), 0, cr.tensor([0]), 1.0, reduce="max"), ValueError,
     r"scatter\(\): reduce must be 'add' or 'multiply'"),
    (lambda: cr.scatter_reduce(cr.ones(2), 0, cr.tensor([0]), cr.ones(1), "max"), ValueError,
     r"scatter_reduce\(\): argument 'reduce' must be one of"),
    (lambda: cr.scatter_add(cr.tensor(1.0), 0, cr.tensor(0), cr.tensor(1.0)), ValueError,
     r"scatter_add\(\): needs a tensor with at least 1 dim"),
    (lambda: cr.norm(cr.ones(2, 2), p="nuc"), NotImplementedError,
     r"norm\(\): p='nuc' needs the singular values"),
    (lambda: cr.linalg.matrix_norm(cr.ones(2, 2), ord=2), NotImplementedError,
     r"matrix_norm\(\): ord=2 needs the singular values"),
    (lambda: cr.linalg.matrix_norm(cr.ones(2, 2), ord=3), ValueError,
     r"matrix_norm\(\): ord must be one of"),
    (lambda: cr.linalg.matrix_norm(cr.ones(2)), ValueError,
     r"matrix_norm\(\): needs a tensor with at least 2 dims"),
    (lambda: cr.linalg.vector_norm(cr.tensor([1, 2])), TypeError,
     r"vector_norm\(\): argument 'input' must be a floating-point tensor, got int64"),
    (lambda: cr.linalg.vector_norm(cr.ones(2), ord="fro"), TypeError,
     r"vector_norm\(\): ord must be a number"),
    (lambda: cr.linalg.norm(cr.ones(2, 2, 2), ord=1), ValueError,
     r"norm\(\): with ord and no dim the input must be 1-D or 2-D"),
    (lambda: cr.linalg.norm(cr.ones(2, 2), ord="fro", dim=1), ValueError,
     r"norm\(\): ord='fro' is a matrix norm"),
    (lambda: cr.lerp(cr.ones(2), cr.ones(2), "a"), TypeError,
     r"lerp\(\): weight must be a number or a Tensor"),
    (lambda: cr.addcdiv(cr.ones(2), cr.tensor([1, 2]), cr.tensor([1, 2])), TypeError,
     r"addcdiv\(\): integer tensors"),
    (lambda: cr.addcmul(cr.ones(2), cr.ones(2), cr.ones(2), value="a"), TypeError,
     r"addcmul\(\): value must be a number"),
    (lambda: cr.cumprod(cr.ones(2), 1), IndexError, r"cumprod\(\): dim 1 is out of range"),
    (lambda: cr.sort(cr.ones(2), 1), IndexError, r"sort\(\): dim 1 is out of range"),
]


@pytest.mark.parametrize("make,error,match", BAD, ids=[m[:40] for _, _, m in BAD])
def test_bad_input_names_function_and_argument(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_input_messages_name_only_their_function():
    # each message starts with its function's name (no raw NumPy text first)
    for make, error, _ in BAD:
        with pytest.raises(error) as e:
            make()
        assert re.match(r"[a-z_]+\(\): ", str(e.value)), str(e.value)


# ---- in-place forms (used by optimizers) -------------------------------------------------------

IN_PLACE = {
    "addcmul_": lambda L, x, a, b: x.addcmul_(a, b, value=0.25),
    "addcmul_default": lambda L, x, a, b: x.addcmul_(a, b),
    "addcdiv_": lambda L, x, a, b: x.addcdiv_(a, b.abs() + 1, value=-0.5),
    "lerp_scalar_small": lambda L, x, a, b: x.lerp_(a, 0.1),
    "lerp_scalar_large": lambda L, x, a, b: x.lerp_(a, 0.9),
    "lerp_tensor": lambda L, x, a, b: x.lerp_(a, b.abs() / 3),
    "masked_fill_": lambda L, x, a, b: x.masked_fill_(a > 0, 0.5),
    "masked_fill_tensor_value": lambda L, x, a, b: x.masked_fill_(a > 0, L.tensor(2.0)),
    "sqrt_": lambda L, x, a, b: x.abs_().sqrt_() if L is torch else x.abs().sqrt_(),
    "sign_": lambda L, x, a, b: x.sign_(),
    "scatter_": lambda L, x, a, b: x.scatter_(1, L.tensor([[2, 0], [1, 1], [0, 3]]), a[:, :2]),
    "scatter_value": lambda L, x, a, b: x.scatter_(0, L.tensor([[2, 0, 1, 0]]), 7.0),
    "scatter_add_": lambda L, x, a, b: x.scatter_add_(1, L.tensor([[2, 2], [1, 1], [0, 3]]),
                                                      a[:, :2]),
    "scatter_reduce_": lambda L, x, a, b: x.scatter_reduce_(0, L.tensor([[2, 0, 1, 0]]), a[:1],
                                                            "amax", include_self=False),
}


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_in_place_forms_match_torch(name):
    rng = np.random.default_rng(0)
    x, a, b = (rng.standard_normal((3, 4)).astype(np.float32) for _ in range(3))
    cx, tx = cr.tensor(x), torch.tensor(x)
    got = IN_PLACE[name](cr, cx, cr.tensor(a), cr.tensor(b))
    want = IN_PLACE[name](torch, tx, torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-7)
    if name != "sqrt_":
        assert got is cx  # in place: the same tensor, changed
        np.testing.assert_allclose(cx.numpy(), tx.numpy(), rtol=1e-6, atol=1e-7)
    assert got.dtype == np.float32


def test_in_place_forms_refuse_tensors_a_gradient_needs():
    w = cr.ones(3, requires_grad=True)
    for change in [lambda: w.addcmul_(w, w), lambda: w.lerp_(cr.zeros(3), 0.5),
                   lambda: w.masked_fill_(cr.tensor([True, False, True]), 0.0),
                   lambda: w.scatter_(0, cr.tensor([0]), 2.0)]:
        with pytest.raises(RuntimeError, match="in-place change of a leaf tensor"):
            change()
    with cr.no_grad():
        v = w._version
        w.addcdiv_(cr.ones(3), cr.ones(3) * 2)
        assert w.tolist() == [1.5, 1.5, 1.5] and w._version == v + 1


def test_masked_fill_in_place_bad_input():
    with pytest.raises(TypeError, match=r"masked_fill_\(\): mask must be a bool tensor"):
        cr.ones(2).masked_fill_(cr.tensor([1, 0]), 0.0)
    with pytest.raises(ValueError, match=r"masked_fill_\(\): mask of shape \(3,\)"):
        cr.ones(2).masked_fill_(cr.tensor([True, True, False]), 0.0)
    with pytest.raises(ValueError, match=r"masked_fill_\(\): value must be a number or a 0-d"):
        cr.ones(2).masked_fill_(cr.tensor([True, False]), cr.ones(2))


def test_erfinv_matches_torch_at_the_edges():
    data = [-1.0, 1.0, 1.5, -2.0, 0.0, 0.5, -0.999999, 0.9999999999, 1e-10, -1e-300, np.nan]
    tails = (1 - np.logspace(-16, -1, 31)).tolist()  # where erf(x) - y would cancel
    data = data + tails + [-t for t in tails] + np.linspace(-0.99, 0.99, 23).tolist()
    got = cr.erfinv(cr.tensor(data, dtype=cr.float64)).numpy()
    want = torch.erfinv(torch.tensor(data, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
    got32 = cr.erfinv(cr.tensor(data)).numpy()
    np.testing.assert_allclose(got32, torch.erfinv(torch.tensor(data)).numpy(), rtol=1e-6)
    assert got32.dtype == np.float32


def test_bool_tensors_in_arithmetic_match_torch():
    m, t = cr.tensor([True, False]), torch.tensor([True, False])
    _same(cr.sign(m), torch.sign(t))
    _same(m ** 2, t ** 2)  # int64, as in torch
    with pytest.raises(TypeError, match=r"neg\(\): negating a bool tensor.*logical_not"):
        _ = -m
    with pytest.raises(TypeError, match=r"sub\(\): subtracting bool tensors.*logical_xor"):
        _ = m - m
    with pytest.raises(RuntimeError, match="Negation.*bool tensor"):  # torch refuses it too
        _ = -t
