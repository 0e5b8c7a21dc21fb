"""dtype names, conversions and dtype information against PyTorch; bfloat16's refusal."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr

NAMES = ["float", "double", "half", "int", "long", "short", "bool", "uint8", "int8", "int16",
         "int32", "int64", "float16", "float32", "float64", "complex64", "complex128", "cfloat",
         "cdouble"]


def _name(torch_dtype) -> str:
    return str(torch_dtype).removeprefix("torch.")


@pytest.mark.parametrize("name", NAMES)
def test_dtype_names_are_torchs(name):
    ours, theirs = getattr(cr, name), getattr(torch, name)
    assert isinstance(ours, np.dtype)
    assert ours == np.dtype(_name(theirs))
    # a tensor made with it has that dtype, as in torch
    assert cr.zeros(2, dtype=ours).dtype == np.dtype(_name(torch.zeros(2, dtype=theirs).dtype))


def test_python_builtins_are_still_usable_after_import():
    # cr.float / cr.int / cr.bool shadow nothing outside the package
    assert float("1.5") == 1.5 and int("3") == 3 and bool(1) is True
    assert cr.tensor([1.0], dtype=float).dtype == np.float32  # Python's float: the default


CONVERSIONS = ["float", "double", "half", "int", "long", "short", "bool", "byte", "char"]


@pytest.mark.parametrize("method", CONVERSIONS)
def test_conversion_methods_match_torch(method):
    data = [1.5, -2.75, 0.0, 100.25]
    if method == "byte":
        data = [1.5, 2.75, 0.0, 100.25]
    got, want = getattr(cr.tensor(data), method)(), getattr(torch.tensor(data), method)()
    assert got.dtype == np.dtype(_name(want.dtype))
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_float_conversion_is_differentiable():
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    y = x.float()
    assert y.dtype == np.float32 and y.requires_grad
    (y * 3).sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [3.0, 3.0]
    assert not x.long().requires_grad


def test_type_names_and_conversions():
    x, t = cr.tensor([1.5, -2.5]), torch.tensor([1.5, -2.5])
    assert x.type() == "chainrule.FloatTensor" and t.type() == "torch.FloatTensor"
    assert cr.tensor([1]).type() == "chainrule.LongTensor"
    for target in [cr.int64, cr.float64, "torch.DoubleTensor", "torch.IntTensor"]:
        theirs = target if isinstance(target, str) else getattr(torch, str(target))
        got, want = x.type(target), t.type(theirs)
        assert got.dtype == np.dtype(_name(want.dtype))
        assert got.tolist() == want.tolist()


def test_bfloat16_is_named_but_refused_with_the_reason():
    assert repr(cr.bfloat16) == "chainrule.bfloat16"
    for make in [lambda: cr.tensor([1.0], dtype=cr.bfloat16), lambda: cr.zeros(2, dtype="bfloat16"),
                 lambda: cr.ones(2).to(cr.bfloat16), lambda: cr.ones(2).bfloat16(),
                 lambda: cr.set_default_dtype(cr.bfloat16)]:
        with pytest.raises(TypeError, match="bfloat16 is not supported: NumPy.*has no bfloat16"):
            make()


@pytest.mark.parametrize("name", ["float16", "float32", "float64", "bfloat16"])
def test_finfo_matches_torch(name):
    ours, theirs = cr.finfo(getattr(cr, name)), torch.finfo(getattr(torch, name))
    for attr in ["bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"]:
        assert getattr(ours, attr) == getattr(theirs, attr), attr
        assert type(getattr(ours, attr)) is type(getattr(theirs, attr)), attr
    assert ours.dtype == theirs.dtype


def test_finfo_default_and_errors():
    assert cr.finfo().eps == torch.finfo().eps
    cr.set_default_dtype(cr.float64)
    assert cr.finfo().bits == 64
    with pytest.raises(TypeError, match=r"finfo\(\).*int64.*iinfo"):
        cr.finfo(cr.int64)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_torch(name):
    ours, theirs = cr.iinfo(getattr(cr, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.max, ours.min, ours.dtype) == (theirs.bits, theirs.max, theirs.min,
                                                           theirs.dtype)
    assert type(ours.max) is int


def test_iinfo_refuses_floats_and_bool_like_torch():
    for dtype in [cr.float32, cr.bool]:
        with pytest.raises(TypeError, match=r"iinfo\(\).*finfo"):
            cr.iinfo(dtype)


def test_tensor_predicates_match_torch():
    for data in [[1.0], [1], [True], 2.5]:
        c, t = cr.tensor(data), torch.tensor(data)
        assert cr.is_tensor(c) and not cr.is_tensor(data)
        assert cr.is_floating_point(c) == torch.is_floating_point(t) == c.is_floating_point()
        assert cr.is_complex(c) == torch.is_complex(t)
        assert cr.numel(c) == torch.numel(t) == c.numel()
    assert cr.numel(cr.ones(2, 3, 4)) == 24 and cr.ones(2, 3).nelement() == 6
    assert cr.is_complex(cr.zeros(2, dtype=cr.complex64))
    with pytest.raises(TypeError, match=r"is_floating_point\(\).*float"):
        cr.is_floating_point(1.0)
    with pytest.raises(TypeError, match=r"numel\(\).*list"):
        cr.numel([1, 2])
