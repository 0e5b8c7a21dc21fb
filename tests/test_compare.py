"""Comparisons, logical functions and value tests against PyTorch: bool results (uint8 kept by
any/all), broadcasting, PyTorch's promotion, the operators, the aliases and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr

NAN, INF = float("nan"), float("inf")
A = [[1.0, 2.0, NAN], [INF, -1.0, 0.0]]
B = [2.0, 2.0, NAN]

COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
               "less_equal", "not_equal"]


def _same(got, want):
    assert isinstance(got, cr.Tensor)
    assert got.dtype == np.dtype(str(want.dtype).removeprefix("torch.")), (got.dtype, want.dtype)
    assert got.shape == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparison_functions_and_methods_match_torch(name):
    a, b = cr.tensor(A), cr.tensor(B)
    ta, tb = torch.tensor(A), torch.tensor(B)
    _same(getattr(cr, name)(a, b), getattr(torch, name)(ta, tb))  # broadcasting, NaN
    _same(getattr(a, name)(b), getattr(ta, name)(tb))
    _same(getattr(cr, name)(a, 2), getattr(torch, name)(ta, 2))  # a Python number
    _same(getattr(a, name)(2.0), getattr(ta, name)(2.0))
    _same(getattr(cr, name)(cr.tensor([1, 2, 3]), 2.5), getattr(torch, name)(
        torch.tensor([1, 2, 3]), 2.5))


def test_aliases_are_the_same_functions():
    assert cr.greater is cr.gt and cr.less_equal is cr.le and cr.not_equal is cr.ne
    assert cr.greater_equal is cr.ge and cr.less is cr.lt


@pytest.mark.parametrize("op", ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"])
def test_operators_match_the_functions_and_torch(op):
    a, b = cr.tensor(A), cr.tensor(B)
    ta, tb = torch.tensor(A), torch.tensor(B)
    _same(getattr(a, op)(b), getattr(ta, op)(tb))
    _same(getattr(a, op)(0), getattr(ta, op)(0))
    # a number on the left: Python swaps the operator
    _same(eval(f"1.5 {_SYMBOL[op]} a"), eval(f"1.5 {_SYMBOL[op]} ta"))


_SYMBOL = {"__eq__": "==", "__ne__": "!=", "__lt__": "<", "__le__": "<=", "__gt__": ">",
           "__ge__": ">="}


def test_comparison_promotes_like_torch():
    # int64 against float32 compares in float32 (PyTorch's promotion), not in float64
    big = 16777217  # not representable in float32: rounds to 16777216
    ints, floats = [big], [16777216.0]
    _same(cr.eq(cr.tensor(ints), cr.tensor(floats)), torch.eq(torch.tensor(ints),
                                                              torch.tensor(floats)))
    # a 0-d float64 tensor does not widen a float32 one (0.1 rounded to float32 on both sides)
    _same(cr.tensor([0.1]) == cr.tensor(0.1, dtype=cr.float64),
          torch.tensor([0.1]) == torch.tensor(0.1, dtype=torch.float64))
    _same(cr.eq(cr.tensor([True, False]), 1), torch.eq(torch.tensor([True, False]), 1))


def test_comparisons_are_not_differentiable():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.gt(x, 1.5)
    assert y.dtype == np.bool_ and not y.requires_grad


def test_comparison_shape_mismatch_names_function_and_shapes():
    with pytest.raises(ValueError, match=r"lt\(\).*\(2, 3\).*\(4,\)"):
        cr.lt(cr.ones(2, 3), cr.ones(4))
    with pytest.raises(TypeError, match=r"eq\(\).*str"):
        cr.eq(cr.ones(2), "a")


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_binary_match_torch(name):
    a = [[1.0, 0.0, NAN], [2.0, 0.0, -1.0]]
    b = [True, False, True]
    _same(getattr(cr, name)(cr.tensor(a), cr.tensor(b)),
          getattr(torch, name)(torch.tensor(a), torch.tensor(b)))
    _same(getattr(cr.tensor([0, 3, 0]), name)(cr.tensor([1, 1, 0])),
          getattr(torch.tensor([0, 3, 0]), name)(torch.tensor([1, 1, 0])))


def test_logical_not_matches_torch():
    for data in ([0.0, 2.0, NAN], [0, -1], [True, False]):
        _same(cr.logical_not(cr.tensor(data)), torch.logical_not(torch.tensor(data)))
    with pytest.raises(ValueError, match=r"logical_and\(\).*\(2,\).*\(3,\)"):
        cr.logical_and(cr.ones(2), cr.ones(3))


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite"])
@pytest.mark.parametrize("data", [[1.0, NAN, INF, -INF, 0.0], [[1, 2], [3, 4]], [True, False],
                                  3.5])
def test_value_tests_match_torch(name, data):
    _same(getattr(cr, name)(cr.tensor(data)), getattr(torch, name)(torch.tensor(data)))
    _same(getattr(cr.tensor(data), name)(), getattr(torch.tensor(data), name)())


def test_isclose_allclose_equal_match_torch():
    a = [1.0, 2.0, NAN, INF, -INF, 1e-9]
    b = [1.0 + 1e-6, 2.1, NAN, INF, INF, 0.0]
    ta, tb = torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    ca, cb = cr.tensor(a, dtype=cr.float64), cr.tensor(b, dtype=cr.float64)
    for kw in [{}, {"equal_nan": True}, {"rtol": 0.1, "atol": 0.0}, {"atol": 1e-3}]:
        _same(cr.isclose(ca, cb, **kw), torch.isclose(ta, tb, **kw))
        assert cr.allclose(ca[:2], cb[:2], **kw) == torch.allclose(ta[:2], tb[:2], **kw)
        assert ca.isclose(cb, **kw).tolist() == ta.isclose(tb, **kw).tolist()
    assert cr.allclose(cr.tensor([1.0]), cr.tensor([1.0, 1.0]))  # broadcasting, as in torch
    assert isinstance(cr.allclose(ca, ca), bool)
    # equal: same shape and values, any dtypes
    for x, y in [([1.0], [1.0, 1.0]), ([1], [1.0]), ([1.0, NAN], [1.0, NAN]), ([2, 3], [2, 3])]:
        assert cr.equal(cr.tensor(x), cr.tensor(y)) == torch.equal(torch.tensor(x),
                                                                   torch.tensor(y))
        assert cr.tensor(x).equal(cr.tensor(y)) == torch.tensor(x).equal(torch.tensor(y))
    with pytest.raises(ValueError, match=r"isclose\(\).*rtol"):
        cr.isclose(ca, cb, rtol=-1)


@pytest.mark.parametrize("name", ["any", "all"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.bool, torch.uint8])
def test_any_all_match_torch(name, dtype):
    data = [[[0, 1, 2], [0, 0, 0]], [[3, 3, 3], [1, 0, 1]]]
    t = torch.tensor(data, dtype=dtype)
    c = cr.tensor(t.numpy())
    _same(getattr(cr, name)(c), getattr(torch, name)(t))
    for dim in [0, 1, -1, (0, 2), (0, 1, 2)]:
        for keepdim in [False, True]:
            _same(getattr(cr, name)(c, dim, keepdim), getattr(torch, name)(t, dim, keepdim))
            _same(getattr(c, name)(dim=dim, keepdim=keepdim),
                  getattr(t, name)(dim=dim, keepdim=keepdim))
    _same(getattr(c, name)(keepdim=True), getattr(t, name)(keepdim=True))
    with pytest.raises(IndexError, match=rf"{name}\(\).*dim 3"):
        getattr(cr, name)(c, 3)


def test_any_all_of_empty_match_torch():
    _same(cr.any(cr.tensor([])), torch.any(torch.tensor([])))
    _same(cr.all(cr.tensor([])), torch.all(torch.tensor([])))


def test_operators_with_foreign_objects_follow_python():
    x = cr.tensor([1.0, 2.0])
    assert (x == None) is False and (x != None) is True  # noqa: E711
    assert x not in [None, "a"]
    with pytest.raises(TypeError, match="'Tensor' and 'NoneType'"):
        _ = x <= None
