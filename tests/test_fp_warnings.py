"""Where PyTorch is silent (log of 0, division by 0, sqrt of a negative number...), chainrule
is too: no NumPy RuntimeWarning, in the forward or in the gradient, and the user's NumPy error
state is left as it was."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule as cr

# fn(L, x) on x = [0, -1, 2, inf] (float64): values PyTorch computes without a warning
SILENT = {
    "log": lambda L, x: L.log(x),
    "log1p": lambda L, x: L.log1p(x - 1),
    "sqrt": lambda L, x: L.sqrt(x),
    "rsqrt": lambda L, x: L.rsqrt(x),
    "reciprocal": lambda L, x: L.reciprocal(x),
    "div_by_tensor": lambda L, x: x / L.zeros_like(x),
    "div_by_zero_number": lambda L, x: x / 0,
    "div_by_small_number": lambda L, x: x / 1e-320,
    "rdiv": lambda L, x: 1.0 / x,
    "pow_negative": lambda L, x: x ** -1.5,
    "pow_tensor": lambda L, x: x ** (x - 3),
    "exp_overflow": lambda L, x: L.exp(x * 1000),
    "expm1_overflow": lambda L, x: L.expm1(x * 1000),
    "remainder_by_zero": lambda L, x: L.remainder(x, 0.0),
    "fmod_by_zero": lambda L, x: L.fmod(x, L.zeros_like(x)),
    "floor_divide_by_zero": lambda L, x: L.floor_divide(x, 0.0),
    "erfinv_outside": lambda L, x: L.erfinv(x),
    "atan2_origin": lambda L, x: L.atan2(L.zeros_like(x), x),
    "hypot": lambda L, x: L.hypot(x, L.zeros_like(x)),
    "vector_norm_negative_ord": lambda L, x: L.linalg.vector_norm(x, -1),
    "var_of_infinity": lambda L, x: L.var(x),
}


@pytest.mark.parametrize("name", sorted(SILENT))
def test_silent_where_torch_is_silent_forward_and_backward(name):
    fn = SILENT[name]
    data = np.array([0.0, -1.0, 2.0, np.inf])
    x = cr.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yt = fn(torch, xt)  # PyTorch is silent here: the test itself is right
        y = fn(cr, x)
        if y.requires_grad:  # floor_divide has none (PyTorch's raises at backward)
            y.backward(cr.ones_like(y))
            yt.backward(torch.ones_like(yt))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-15)
    if y.requires_grad:
        assert x.grad.shape == tuple(xt.grad.shape)


def test_the_classic_cases_give_torchs_values():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cr.log(cr.tensor(0.0)).item() == -np.inf
        assert cr.tensor(1.0) / 0 == np.inf
        assert np.isnan((cr.tensor(0.0) / 0).item())
        assert np.isnan(cr.sqrt(cr.tensor(-1.0)).item())
        assert (cr.tensor(-1.0) / cr.tensor(0.0)).item() == -np.inf
        assert cr.log(cr.tensor([0.0], dtype=cr.float16)).item() == -np.inf


def test_gradients_at_the_singularities_are_silent_and_torchs():
    for fn in [torch.log, torch.sqrt, lambda x: 1 / x, lambda x: x ** 0.5]:
        name = getattr(fn, "__name__", "lambda")
        x = cr.tensor([0.0, 1.0], requires_grad=True)
        xt = torch.tensor([0.0, 1.0], requires_grad=True)
        crfn = getattr(cr, name) if name in ("log", "sqrt") else fn
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            crfn(x).sum().backward()
        fn(xt).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())


def test_in_place_forms_are_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = cr.tensor([1.0, 0.0, -1.0])
        x.div_(0)
        assert x.isnan().tolist() == [False, True, False] and x[0].item() == np.inf
        y = cr.tensor([-1.0, 4.0]).sqrt_()
        assert np.isnan(y[0].item()) and y[1].item() == 2.0
        z = cr.zeros(2).addcdiv_(cr.tensor([1.0, 0.0]), cr.zeros(2))
        assert z[0].item() == np.inf and np.isnan(z[1].item())


def test_numpy_error_state_is_not_changed():
    before = np.geterr()
    with np.errstate(all="raise"):
        # the user asked NumPy to raise; chainrule's own quiet ops still follow PyTorch...
        assert cr.log(cr.tensor([0.0])).tolist() == [-np.inf]
        assert (cr.tensor([1.0]) / 0).tolist() == [np.inf]
        # ...and leave the user's setting in place for their own NumPy code
        assert np.geterr()["divide"] == "raise"
        with pytest.raises(FloatingPointError):
            np.log(np.zeros(1))
    assert np.geterr() == before


def test_torch_warns_here_and_so_does_chainrule():
    # Too few values for the correction: PyTorch warns (a UserWarning), chainrule too, once,
    # and gives the same inf / NaN
    with pytest.warns(UserWarning, match=r"var\(\): degrees of freedom is <= 0"):
        got = cr.var(cr.tensor([1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.var(torch.tensor([1.0]))
    assert np.isnan(got.item()) and np.isnan(want.item())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cr.std(cr.ones(2, 3), 0, correction=3)
    assert [type(w.message) for w in caught] == [UserWarning]
    assert "std(): degrees of freedom" in str(caught[0].message)


def test_quietly_restores_the_error_state_when_the_function_raises():
    from chainrule._fpstate import quietly

    def fails(x):
        np.log(x)
        raise KeyError("boom")

    before = np.geterr()
    with pytest.raises(KeyError):
        quietly(fails)(np.zeros(1))
    assert np.geterr() == before
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning):
            np.log(np.zeros(1))  # the user's state again: NumPy warns
