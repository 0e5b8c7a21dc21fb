"""One test per reported bad-input bug, each checked against PyTorch (2.13): what PyTorch
refuses is refused with a clear error naming the function and argument, what it computes is
computed to the same values. The systematic sweep is ``test_bad_input_sweep.py``."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule import NotSupportedError


def _refused(torch_call):
    try:
        torch_call()
    except Exception as e:  # noqa: BLE001 - any refusal of PyTorch's
        return e
    raise AssertionError("PyTorch accepts this call")


# ---- indices ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", ["gather", "index_select"])
def test_negative_indices_are_refused_not_wrapped(fn):
    x = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    idx = [[-1], [0]] if fn == "gather" else [-1]
    assert isinstance(_refused(lambda: getattr(torch, fn)(torch.tensor(x), 1,
                                                          torch.tensor(idx))), RuntimeError)
    # an IndexError, and a RuntimeError as in PyTorch
    with pytest.raises(IndexError, match=rf"{fn}\(\): argument 'index' holds -1, out of range "
                                         r"for dimension 1 of size 3"):
        getattr(cr, fn)(cr.tensor(x), 1, cr.tensor(idx))
    with pytest.raises(RuntimeError):
        getattr(cr, fn)(cr.tensor(x), 1, cr.tensor(idx))
    # in range: PyTorch's values
    good = [[2], [0]] if fn == "gather" else [2, 0]
    assert getattr(cr, fn)(cr.tensor(x), 1, cr.tensor(good)).tolist() == \
        getattr(torch, fn)(torch.tensor(x), 1, torch.tensor(good)).tolist()


# ---- binary cross entropy ---------------------------------------------------------------------
@pytest.mark.parametrize("target", [1.5, -0.5, float("nan")])
def test_bce_refuses_targets_outside_0_1(target):
    _refused(lambda: TF.binary_cross_entropy(torch.tensor([0.5]), torch.tensor([target])))
    with pytest.raises(ValueError, match=r"binary_cross_entropy.*target"):
        F.binary_cross_entropy(cr.tensor([0.5]), cr.tensor([target]))


def test_bce_targets_inside_0_1_match_torch():
    p, t = [0.2, 0.7, 0.9], [0.0, 0.25, 1.0]
    assert F.binary_cross_entropy(cr.tensor(p), cr.tensor(t)).item() == pytest.approx(
        TF.binary_cross_entropy(torch.tensor(p), torch.tensor(t)).item(), rel=1e-6)


@pytest.mark.parametrize("which", ["bce_weight", "logits_weight", "logits_pos_weight"])
def test_bce_weights_that_require_grad(which):
    """PyTorch 2.13 refuses them in the recorded call (its kernels have no derivative for the
    weights); chainrule refuses them too, with a message that says how to train one."""
    def call(lib, fn_lib):
        x = lib.tensor([0.3], requires_grad=True)
        w = lib.tensor([2.0], requires_grad=True)
        y = lib.tensor([1.0])
        if which == "bce_weight":
            return fn_lib.binary_cross_entropy(x.sigmoid(), y, weight=w)
        key = "weight" if which == "logits_weight" else "pos_weight"
        return fn_lib.binary_cross_entropy_with_logits(x, y, **{key: w})

    try:
        out = call(torch, TF)
        out.backward()
        torch_accepts = True
    except RuntimeError:
        torch_accepts = False
    if torch_accepts:  # a later PyTorch: then the gradient must match
        pytest.skip("this PyTorch differentiates the BCE weights")
    with pytest.raises((RuntimeError, NotSupportedError), match="weight"):
        call(cr, F).backward()
    # without requires_grad the weights apply as in PyTorch
    x, y = [0.3, -1.0], [1.0, 0.0]
    ours = F.binary_cross_entropy_with_logits(cr.tensor(x), cr.tensor(y),
                                              pos_weight=cr.tensor([2.0, 3.0]))
    theirs = TF.binary_cross_entropy_with_logits(torch.tensor(x), torch.tensor(y),
                                                 pos_weight=torch.tensor([2.0, 3.0]))
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-6)


# ---- uint8 inputs of float functions ---------------------------------------------------------
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsigmoid", "logsumexp", "sigmoid",
                                  "tanh", "exp", "log"])
def test_uint8_inputs_follow_torch(name):
    """PyTorch refuses uint8 softmax, log_softmax and logsigmoid, and promotes logsumexp and
    the unary float functions to float32: never float16 NaN or inf garbage."""
    v = np.array([[1, 2, 200]], np.uint8)

    def run(lib, fns):
        x = lib.tensor(v)
        if name == "logsumexp":
            return lib.logsumexp(x, dim=1)
        if name in ("softmax", "log_softmax"):
            return getattr(fns, name)(x, dim=1)
        if name == "logsigmoid":
            return fns.logsigmoid(x)
        return getattr(lib, name)(x)

    try:
        want = run(torch, TF)
    except (RuntimeError, NotImplementedError):
        with pytest.raises(TypeError, match=rf"{name}\(\): argument 'input' must be a "
                                            r"floating-point tensor, got uint8"):
            run(cr, F)
        return
    got = run(cr, F)
    assert str(got.dtype) == str(want.dtype).replace("torch.", "")
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    assert np.isfinite(got.numpy()).all() or not np.isfinite(want.numpy()).all()


def test_softmax_of_uint8_with_dtype_matches_torch():
    v = np.array([[1, 2, 200]], np.uint8)
    np.testing.assert_allclose(
        F.softmax(cr.tensor(v), dim=1, dtype=cr.float32).numpy(),
        TF.softmax(torch.tensor(v), dim=1, dtype=torch.float32).numpy(), rtol=1e-6)


# ---- cosine_similarity broadcasting -----------------------------------------------------------
@pytest.mark.parametrize("shapes", [((2, 3), (1, 3)), ((2, 1, 3), (1, 4, 3)), ((4, 3), (3,))])
def test_cosine_similarity_broadcasts_like_torch(shapes):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shapes[0]).astype(np.float32) * [1.0, 100.0, 0.01]
    b = rng.standard_normal(shapes[1]).astype(np.float32)
    xa, xb = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ours, theirs = F.cosine_similarity(xa, xb, dim=-1), TF.cosine_similarity(ta, tb, dim=-1)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=1e-6)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(xa.grad.numpy(), ta.grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(xb.grad.numpy(), tb.grad.numpy(), rtol=1e-4, atol=1e-6)


# ---- strings and other non-numbers ------------------------------------------------------------
def test_mse_loss_refuses_a_string_target():
    _refused(lambda: TF.mse_loss(torch.tensor([1.0]), "1.0"))
    with pytest.raises(TypeError, match=r"mse_loss\(\): argument 'target' must be a Tensor"):
        F.mse_loss(cr.tensor([1.0]), "1.0")


def test_full_refuses_a_string_fill():
    assert isinstance(_refused(lambda: torch.full((2, 2), "a")), TypeError)
    with pytest.raises(TypeError, match=r"full\(\): argument 'fill_value' must be a number"):
        cr.full((2, 2), "a")


# ---- .grad ------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["shape", "rank", "dtype", "str"])
def test_wrong_grad_is_refused_at_assignment(bad):
    make = {"shape": lambda lib: lib.zeros(2), "rank": lambda lib: lib.zeros(1, 3),
            "dtype": lambda lib: lib.zeros(3, dtype=lib.float64), "str": lambda lib: "abc"}[bad]
    tp = torch.nn.Parameter(torch.zeros(3))
    err = _refused(lambda: setattr(tp, "grad", make(torch)))
    p = nn.Parameter(cr.zeros(3))
    with pytest.raises(type(err), match=r"Tensor\.grad"):
        p.grad = make(cr)
    assert p.grad is None
    # the optimizer never sees it: a step afterwards is the plain no-gradient step
    opt = cr.optim.SGD([p], lr=0.1)
    opt.step()
    assert p.tolist() == [0.0, 0.0, 0.0]


def test_right_grad_is_accepted():
    p = nn.Parameter(cr.zeros(3))
    p.grad = cr.ones(3)
    cr.optim.SGD([p], lr=0.5).step()
    assert p.tolist() == [-0.5, -0.5, -0.5]
    p.grad = None
    assert p.grad is None


# ---- zero steps and kernels -------------------------------------------------------------------
def test_arange_step_zero():
    _refused(lambda: torch.arange(0, 5, 0))
    with pytest.raises(ValueError, match=r"arange\(\): argument 'step' must be nonzero"):
        cr.arange(0, 5, 0)


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
def test_conv_kernel_size_zero():
    # PyTorch builds Conv2d(1, 1, 0) and refuses its first call; chainrule refuses at once
    _refused(lambda: torch.nn.Conv2d(1, 1, 0)(torch.zeros(1, 1, 3, 3)))
    with pytest.raises(ValueError, match=r"Conv2d\(\): argument 'kernel_size' must be an int "
                                         r">= 1, got 0"):
        nn.Conv2d(1, 1, 0)
    with pytest.raises(ValueError, match=r"conv2d\(\): kernel \(0, 0\)"):
        F.conv2d(cr.zeros(1, 1, 3, 3), cr.zeros(1, 1, 0, 0))


# ---- sizes checked before any work ------------------------------------------------------------
def test_adaptive_pool_to_a_huge_size_is_refused_at_once():
    _refused(lambda: TF.adaptive_avg_pool2d(torch.zeros(1, 1, 2, 2), 2 ** 62))
    t0 = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"adaptive_avg_pool2d\(\): the result would hold"):
        F.adaptive_avg_pool2d(cr.zeros(1, 1, 2, 2), 2 ** 62)
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize("amount", [2 ** 31, 2 ** 40, 2 ** 62])
def test_padding_by_a_huge_amount_is_refused_at_once(amount):
    # PyTorch tries the allocation (2**31: 48 GiB for this input): not run here
    t0 = time.perf_counter()
    with pytest.raises(MemoryError, match=r"pad\(\): the result would hold"):
        F.pad(cr.zeros(6, 3), (amount, 0))
    assert time.perf_counter() - t0 < 1.0
