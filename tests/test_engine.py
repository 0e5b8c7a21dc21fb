"""The backpropagation engine: graph walking, accumulation, hooks, grad modes, versions."""

from __future__ import annotations

import operator

import numpy as np
import pytest
import torch

import chainrule as cr

# ---- the chain-rule loop ------------------------------------------------------------------


def test_20000_op_chain_backward_is_iterative():
    x = cr.tensor(1.0, dtype=cr.float64, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 20_000, rel=1e-9)


def test_deep_chain_through_unary_ops():
    x = cr.tensor(0.3, dtype=cr.float64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y.sin()
    (g,) = cr.autograd.grad(y, x)
    xt = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    yt = xt
    for _ in range(10_000):
        yt = yt.sin()
    (gt,) = torch.autograd.grad(yt, xt)
    assert g.item() == pytest.approx(gt.item(), rel=1e-9)


def test_diamond_graph_sums_both_paths():
    x = cr.tensor(2.0, requires_grad=True)
    a = x * 3
    y = a * a + a.exp()  # a feeds two consumers
    y.backward()
    assert x.grad.item() == pytest.approx(3 * (2 * 6.0 + np.exp(6.0)), rel=1e-6)


def test_gradients_accumulate_across_backward_calls():
    w = cr.tensor([1.0, -2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * w).sum().backward()
    assert w.grad.tolist() == [3.0 + 2.0, 3.0 - 4.0]
    w.grad = None
    (w * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_second_backward_through_freed_graph_raises():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_backward_through_partly_freed_graph_raises():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x.tanh()
    h.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        (h * 2).sum().backward()


def test_retain_graph_allows_a_second_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), 4 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_backward_with_gradient_for_non_scalar():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(gradient=cr.tensor([1.0, 0.5, 0.0]))
    assert x.grad.tolist() == [2.0, 2.0, 0.0]


def test_backward_on_leaf_itself():
    x = cr.tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


# ---- higher order ------------------------------------------------------------------------


def _derivatives(fn_cr, fn_t, x0, order):
    x = cr.tensor(x0, dtype=cr.float64, requires_grad=True)
    xt = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    y, yt = fn_cr(x), fn_t(xt)
    got, want = [], []
    for _ in range(order):
        (y,) = cr.autograd.grad(y, x, create_graph=True)
        (yt,) = torch.autograd.grad(yt, xt, create_graph=True)
        got.append(y.item())
        want.append(yt.item())
    return got, want


@pytest.mark.parametrize("x0", [-1.3, 0.0, 0.7])
def test_tanh_second_and_third_derivatives_match_torch(x0):
    got, want = _derivatives(cr.tanh, torch.tanh, x0, 3)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    t = np.tanh(x0)
    np.testing.assert_allclose(got[1], -2 * t * (1 - t * t), atol=1e-12)
    np.testing.assert_allclose(got[2], (1 - t * t) * (6 * t * t - 2), atol=1e-12)


def test_sigmoid_second_derivative_matches_torch():
    got, want = _derivatives(cr.sigmoid, torch.sigmoid, 0.4, 2)
    s = 1 / (1 + np.exp(-0.4))
    np.testing.assert_allclose(got, want, rtol=1e-10)
    assert got[1] == pytest.approx(s * (1 - s) * (1 - 2 * s), rel=1e-10)


def test_cube_third_derivative_is_six():
    got, want = _derivatives(lambda x: x ** 3, lambda x: x ** 3, 1.7, 3)
    np.testing.assert_allclose(got, [3 * 1.7 ** 2, 6 * 1.7, 6.0], rtol=1e-12)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_create_graph_backward_stores_differentiable_grad():
    x = cr.tensor(2.0, dtype=cr.float64, requires_grad=True)
    (x ** 3).backward(create_graph=True)
    assert x.grad.requires_grad
    (g2,) = cr.autograd.grad(x.grad, x)
    assert g2.item() == pytest.approx(12.0)


def test_hessian_vector_product_matches_torch():
    a = np.array([[0.5, -1.0], [2.0, 0.3]])
    v = np.array([0.2, -0.7])
    x = cr.tensor([0.3, -0.4], dtype=cr.float64, requires_grad=True)
    (g,) = cr.autograd.grad((cr.tensor(a) @ x).tanh().sum(), x, create_graph=True)
    (hv,) = cr.autograd.grad(g, x, grad_outputs=cr.tensor(v))
    xt = torch.tensor([0.3, -0.4], dtype=torch.float64, requires_grad=True)
    (gt,) = torch.autograd.grad((torch.tensor(a) @ xt).tanh().sum(), xt, create_graph=True)
    (hvt,) = torch.autograd.grad(gt, xt, grad_outputs=torch.tensor(v))
    np.testing.assert_allclose(hv.detach().numpy(), hvt.numpy(), rtol=1e-10)


# ---- hooks and retain_grad ----------------------------------------------------------------


def test_leaf_hook_modifies_gradient_and_can_be_removed():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    assert x.grad.tolist() == [30.0, 30.0]
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_non_leaf_hook_changes_what_flows_upstream():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = x * 2
    h.register_hook(lambda g: seen.append(g.tolist()))  # None: gradient unchanged
    h.register_hook(lambda g: g + 1)
    (h * 3).sum().backward()
    assert seen == [[3.0, 3.0]]
    assert x.grad.tolist() == [8.0, 8.0]  # (3 + 1) * 2


def test_non_leaf_hook_removal():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    handle = h.register_hook(lambda g: g * 0)
    handle.remove()
    (h * 3).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_hook_must_return_tensor_or_none():
    x = cr.tensor([1.0], requires_grad=True)
    x.register_hook(lambda g: 5)
    with pytest.raises(TypeError, match="hook"):
        (x * 2).sum().backward()


def test_register_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.tensor([1.0]).register_hook(lambda g: g)


def test_retain_grad_keeps_non_leaf_gradient():
    x = cr.tensor([1.0, -2.0], requires_grad=True)
    h = x.tanh()
    h.retain_grad()
    y = h * h
    y.sum().backward()
    xt = torch.tensor([1.0, -2.0], requires_grad=True)
    ht = xt.tanh()
    ht.retain_grad()
    (ht * ht).sum().backward()
    np.testing.assert_allclose(h.grad.detach().numpy(), ht.grad.numpy(), rtol=1e-6)
    assert y.grad is None  # not retained
    x.tanh().sum()  # a fresh non-leaf has no grad either
    assert x.tanh().grad is None


def test_retain_grad_accumulates_and_is_not_aliased():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    c = cr.tensor([2.0, 2.0])
    y = a + b
    y.retain_grad()
    (y * c).sum().backward(retain_graph=True)
    first = y.grad
    (y * c).sum().backward()
    assert first.tolist() == [2.0, 2.0]  # the first result is not changed afterwards
    assert y.grad.tolist() == [4.0, 4.0]
    assert a.grad.tolist() == [4.0, 4.0] and b.grad.tolist() == [4.0, 4.0]


def test_gradient_seen_by_a_hook_is_not_mutated_later():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    kept = []
    a.register_hook(lambda g: kept.append(g))
    (a * 3).sum().backward()
    (a * 3).sum().backward()
    assert kept[0].tolist() == [3.0, 3.0]
    assert a.grad.tolist() == [6.0, 6.0]


def test_tensor_returned_by_a_hook_is_not_mutated_later():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    mine = cr.tensor([5.0, 5.0])
    a.register_hook(lambda g: mine)
    (a * 3).sum().backward()
    (a * 3).sum().backward()
    assert mine.tolist() == [5.0, 5.0]
    assert a.grad.tolist() == [10.0, 10.0]


# ---- gradient buffers are never aliased ---------------------------------------------------


@pytest.mark.parametrize("scale", [None, [2.0, 2.0]])
def test_grad_buffers_of_two_leaves_are_independent(scale):
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    for _ in range(2):
        y = a + b if scale is None else (a + b) * cr.tensor(scale)
        y.sum().backward()
    k = 1.0 if scale is None else 2.0
    assert a.grad.tolist() == [2 * k, 2 * k] and b.grad.tolist() == [2 * k, 2 * k]
    assert not np.shares_memory(a.grad.detach().numpy(), b.grad.detach().numpy())
    with cr.no_grad():
        a.grad.zero_()
    assert b.grad.tolist() == [2 * k, 2 * k]


def test_backward_inputs_gives_independent_buffers():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    c = cr.tensor([2.0, 2.0])
    for _ in range(2):
        ((a + b) * c).sum().backward(inputs=[a, b])
    assert a.grad.tolist() == [4.0, 4.0] and b.grad.tolist() == [4.0, 4.0]


def test_grad_never_aliases_user_gradient_array():
    user = np.array([1.0, 1.0], dtype=np.float32)
    user_t = cr.tensor([1.0, 1.0])
    for grad_arg in (user, user_t):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        x.clone().backward(gradient=grad_arg)
        x.reshape(2, 1).reshape(2).backward(gradient=grad_arg)
        x.backward(gradient=grad_arg)
        assert x.grad.tolist() == [3.0, 3.0]
    assert user.tolist() == [1.0, 1.0] and user_t.tolist() == [1.0, 1.0]


# ---- autograd.grad -------------------------------------------------------------------------


def test_grad_with_grad_outputs_matches_torch():
    data = np.array([[0.5, -1.0], [2.0, 0.1]])
    v = np.array([[1.0, 2.0], [-1.0, 0.5]])
    x = cr.tensor(data, requires_grad=True)
    (g,) = cr.autograd.grad(x.sigmoid() * x, x, grad_outputs=cr.tensor(v))
    xt = torch.tensor(data, requires_grad=True)
    (gt,) = torch.autograd.grad(xt.sigmoid() * xt, xt, grad_outputs=torch.tensor(v))
    np.testing.assert_allclose(g.detach().numpy(), gt.numpy(), rtol=1e-10)
    assert x.grad is None  # grad() does not touch .grad


def test_grad_allow_unused():
    x = cr.tensor(1.0, requires_grad=True)
    z = cr.tensor(2.0, requires_grad=True)
    y = x * 3
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        cr.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = cr.autograd.grad(y, [x, z], allow_unused=True)
    assert gx.item() == 3.0 and gz is None


def test_grad_multiple_outputs_and_inputs():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([0.5, -1.0], requires_grad=True)
    y1 = (a * b).sum()
    y2 = (a * a).sum()
    ga, gb = cr.autograd.grad([y1, y2], [a, b])
    assert ga.tolist() == [0.5 + 2.0, -1.0 + 4.0]
    assert gb.tolist() == [1.0, 2.0]


def test_grad_with_respect_to_non_leaf():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = (h * h).sum()
    gh, gx = cr.autograd.grad(y, [h, x])
    assert gh.tolist() == [4.0, 8.0]
    assert gx.tolist() == [8.0, 16.0]


def test_grad_output_must_depend_on_inputs():
    x = cr.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.autograd.grad(cr.tensor(2.0), x)


def test_backward_inputs_restricts_accumulation():
    a = cr.tensor(1.0, requires_grad=True)
    b = cr.tensor(2.0, requires_grad=True)
    (a * b).backward(inputs=[a])
    assert a.grad.item() == 2.0 and b.grad is None
    (a * b).backward(inputs=b)
    assert b.grad.item() == 1.0 and a.grad.item() == 2.0


def test_backward_inputs_non_leaf():
    x = cr.tensor(1.0, requires_grad=True)
    h = x * 3
    (h * h).backward(inputs=[h])
    assert h.grad.item() == 6.0 and x.grad is None


# ---- grad modes ----------------------------------------------------------------------------


def test_no_grad_context_records_nothing():
    x = cr.tensor([1.0], requires_grad=True)
    with cr.no_grad():
        y = x * 2
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_enable_grad_inside_no_grad():
    x = cr.tensor([1.0], requires_grad=True)
    with cr.no_grad():
        with cr.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad


def test_grad_mode_decorators():
    x = cr.tensor([1.0], requires_grad=True)

    @cr.no_grad()
    def f(t):
        return t * 2

    @cr.enable_grad()
    def g(t):
        return t * 2

    @cr.set_grad_enabled(False)
    def h(t):
        return t * 2

    assert not f(x).requires_grad
    assert cr.is_grad_enabled()  # decorating does not change the mode
    with cr.no_grad():
        assert g(x).requires_grad
    assert not h(x).requires_grad
    assert cr.is_grad_enabled()

    @cr.no_grad
    def bare(t):
        return t * 2

    @cr.enable_grad
    def bare_enable(t):
        return t * 2

    assert not bare(x).requires_grad and bare.__name__ == "bare"
    with cr.no_grad():
        assert bare_enable(x).requires_grad


def test_set_grad_enabled_context_and_restore_on_error():
    x = cr.tensor([1.0], requires_grad=True)
    with cr.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    with cr.set_grad_enabled(True):
        assert (x * 2).requires_grad
    with pytest.raises(ValueError), cr.no_grad():
        raise ValueError("boom")
    assert cr.is_grad_enabled()


# ---- in-place changes after use -----------------------------------------------------------


def test_inplace_change_after_use_is_detected():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    with cr.no_grad():
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_inplace_change_of_constant_input_is_detected():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    c = cr.tensor([3.0, 4.0])
    y = (w * c).sum()
    c.mul_(2)
    with pytest.raises(RuntimeError, match="in-place"):
        y.backward()


def test_inplace_on_leaf_requiring_grad_needs_no_grad():
    w = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w.add_(1.0)
    with cr.no_grad():
        w.add_(1.0)
        w -= 0.5
    assert w.tolist() == [1.5]
    assert w.is_leaf and w.requires_grad


def test_version_counter_bumps():
    t = cr.tensor([1.0, 2.0])
    v0 = t._version
    t.add_(1)
    t[0] = 5.0
    assert t._version == v0 + 2


def test_augmented_assignment_with_grad_is_out_of_place():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    y = w * 1
    y += 2
    y *= w
    y.sum().backward()
    assert w.grad.tolist() == [2 * 1.0 + 2, 2 * 2.0 + 2]


# ---- func transforms -----------------------------------------------------------------------


def test_func_grad_single_argument():
    df = cr.func.grad(lambda x: (x ** 3).sum())
    assert df(cr.tensor([2.0, -1.0])).tolist() == [12.0, 3.0]


def test_func_grad_argnums_tuple():
    def f(x, y, k):
        return (x * y * k).sum()

    gx, gy = cr.func.grad(f, argnums=(0, 1))(cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0]), 2.0)
    assert gx.tolist() == [6.0, 8.0] and gy.tolist() == [2.0, 4.0]


def test_func_value_and_grad_has_aux():
    def f(x):
        return (x * x).sum(), {"n": x.numel()}

    (value, aux), g = cr.func.value_and_grad(f, has_aux=True)(cr.tensor([1.0, 3.0]))
    assert value.item() == 10.0 and aux == {"n": 2}
    assert g.tolist() == [2.0, 6.0]
    assert not value.requires_grad


def test_func_grad_has_aux_returns_grad_and_aux():
    g, aux = cr.func.grad(lambda x: ((x * 2).sum(), "tag"), has_aux=True)(cr.tensor([1.0]))
    assert g.tolist() == [2.0] and aux == "tag"


def test_func_grad_does_not_touch_callers_tensor():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    cr.func.grad(lambda t: (t * t).sum())(x)
    assert x.grad is None


def test_func_grad_of_unused_argument_is_zero():
    g = cr.func.grad(lambda x, y: (x * 2).sum(), argnums=1)(cr.tensor([1.0]), cr.tensor([5.0]))
    assert g.tolist() == [0.0]


def test_func_grad_needs_scalar_output():
    with pytest.raises(ValueError, match="scalar"):
        cr.func.grad(lambda x: x * 2)(cr.tensor([1.0, 2.0]))


def test_func_grad_composes_for_second_derivative():
    d2 = cr.func.grad(cr.func.grad(lambda x: (x ** 3).sum()))
    assert d2(cr.tensor(2.0)).item() == 12.0
    with pytest.raises(ValueError, match="scalar"):
        d2(cr.tensor([2.0, 1.0]))  # the inner grad returns a vector, not a scalar
    d2s = cr.func.grad(lambda x: cr.func.grad(lambda t: (t ** 3).sum())(x).sum())
    assert d2s(cr.tensor([2.0, 1.0])).tolist() == [12.0, 6.0]


def test_setitem_after_reading_the_same_tensor_is_refused_with_the_workaround():
    # Documented difference from PyTorch (see ops.shape.setitem): the read's node would see the
    # new value, so backward refuses instead of giving a wrong gradient.
    w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = w * 2
    y[1:] += 5
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()
    z = (w * 2).clone()
    src = w * 2
    z[1:] = src[1:] * src[1:]
    z.sum().backward()
    assert w.grad.tolist() == [2.0, 16.0, 24.0]


def test_setitem_records_gradient_for_value_and_target():
    w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = cr.tensor([10.0, 20.0], requires_grad=True)
    y = w * 1
    y[cr.tensor([0, 2])] = v
    (y * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert y.tolist() == [10.0, 2.0, 20.0]
    assert w.grad.tolist() == [0.0, 2.0, 0.0] and v.grad.tolist() == [1.0, 3.0]


@pytest.mark.parametrize("fn", [cr.exp, cr.tanh, cr.sigmoid, lambda t: t.softmax(0)])
def test_inplace_change_of_graph_output_under_no_grad_keeps_recorded_gradient(fn):
    # PyTorch raises here; chainrule's documented choice (Tensor._keep_node_output) is that the
    # node keeps the output it computed, so the gradient is that of the recorded function.
    data = np.array([0.5, -1.0, 2.0])
    w = cr.tensor(data, requires_grad=True)
    y = fn(w)
    with cr.no_grad():
        y.mul_(3.0)
        y[0] = 100.0
    y.backward(gradient=cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64))
    w2 = cr.tensor(data, requires_grad=True)
    fn(w2).backward(gradient=cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64))
    np.testing.assert_allclose(w.grad.detach().numpy(), w2.grad.detach().numpy(), rtol=1e-12)
    assert y.tolist()[0] == 100.0


def test_tensor_backend_unknown_name_is_attribute_error():
    from chainrule.ops.backends import TENSOR

    assert not hasattr(TENSOR, "no_such_function")
    assert TENSOR.exp is cr.exp


@pytest.mark.parametrize("module", [
    "chainrule", "chainrule.tensor", "chainrule.creation", "chainrule.func",
    "chainrule.gradcheck", "chainrule.autograd.engine", "chainrule.autograd.function",
    "chainrule.autograd.grad_mode", "chainrule.ops.binary", "chainrule.ops.elementwise",
    "chainrule.ops.reduce", "chainrule.ops.shape", "chainrule.ops.linalg", "chainrule.ops.compose",
    "chainrule.ops.op", "chainrule.methods", "chainrule.functional", "chainrule.ops.conv",
    "chainrule.dtypes", "chainrule.linalg", "chainrule.ops.blas", "chainrule.ops.compare",
    "chainrule.ops.einsum", "chainrule.ops.info", "chainrule.ops.matrix", "chainrule.ops.movement",
    "chainrule.ops.nonzero", "chainrule.ops.norms", "chainrule.ops.pointwise",
    "chainrule.ops.rounding", "chainrule.ops.sampling", "chainrule.ops.scatter",
    "chainrule.ops.sorting", "chainrule.ops.special", "chainrule._fpstate",
])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("op", [operator.iadd, operator.isub, operator.imul, operator.itruediv])
def test_augmented_assignment_on_leaf_requiring_grad_raises(op):
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    w.grad = cr.tensor([0.5, 0.5])
    with pytest.raises(RuntimeError, match="no_grad"):
        op(w, 0.1 * w.grad)  # e.g. `w -= lr * w.grad` outside no_grad
    with cr.no_grad():
        assert op(w, 2.0) is w  # in place
    assert w.is_leaf and w.requires_grad


def test_augmented_assignment_of_constant_by_tracked_value():
    c = cr.tensor([1.0, 2.0])
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    c += w
    c.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]


def test_setitem_repeated_indices_last_write_wins_with_or_without_graph():
    for requires_grad in (False, True):
        w = cr.zeros(3, requires_grad=requires_grad)
        y = w * 1
        y[cr.tensor([0, 0, 2])] = cr.tensor([5.0, 6.0, 7.0])
        assert y.tolist() == [6.0, 0.0, 7.0]
    y.sum().backward()
    assert w.grad.tolist() == [0.0, 1.0, 0.0]


@pytest.mark.parametrize("leaf", [True, False])
def test_hook_must_keep_the_gradient_shape(leaf):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    t = x if leaf else x * 1
    t.register_hook(lambda g: cr.ones(3))
    with pytest.raises(RuntimeError, match=r"hook returned shape \(3,\).*\(2,\)"):
        (t * 2).sum().backward()


def test_retain_grad_sees_hooks_registered_after_it_and_is_idempotent():
    for order in ("retain_first", "hook_first"):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        if order == "retain_first":
            y.retain_grad()
            y.retain_grad()
            y.register_hook(lambda g: g * 10)
        else:
            y.register_hook(lambda g: g * 10)
            y.retain_grad()
        (y * 3).sum().backward()
        assert y.grad.tolist() == [30.0, 30.0], order  # as torch: after the hook, once
        assert x.grad.tolist() == [60.0, 60.0]


def test_small_mlp_training_matches_torch():
    """Five SGD steps of a 2-layer classifier, written twice: the weights must agree."""
    rng = np.random.default_rng(0)
    x_np, y_np = rng.standard_normal((8, 4)), rng.integers(0, 3, 8)
    init = [rng.standard_normal((5, 4)) * 0.5, np.zeros(5), rng.standard_normal((3, 5)) * 0.5,
            np.zeros(3)]

    def train(L, lin):
        params = [L.tensor(p.copy(), requires_grad=True) for p in init]
        x, y = L.tensor(x_np), L.tensor(y_np)
        losses = []
        for _ in range(5):
            w1, b1, w2, b2 = params
            h = lin(x, w1, b1).tanh()
            logp = lin(h, w2, b2).log_softmax(-1)
            loss = -logp[L.arange(8), y].mean()
            for p in params:
                p.grad = None
            loss.backward()
            with L.no_grad():
                for p in params:
                    p -= 0.5 * p.grad
            losses.append(loss.item())
        return losses, [p.detach().numpy() if L is torch else p.detach().numpy() for p in params]

    losses, params = train(cr, cr.linear)
    losses_t, params_t = train(torch, torch.nn.functional.linear)
    np.testing.assert_allclose(losses, losses_t, rtol=1e-10)
    for p, pt in zip(params, params_t):
        np.testing.assert_allclose(p, pt, rtol=1e-9, atol=1e-12)
    assert losses[-1] < losses[0]


def test_func_grad_passes_keyword_arguments_through():
    g = cr.func.grad(lambda x, scale=1.0: (x * scale).sum())(cr.tensor([1.0, 2.0]), scale=3.0)
    assert g.tolist() == [3.0, 3.0]


def test_autograd_backward_with_several_tensors_matches_torch():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        h = x.exp()
        L.autograd.backward([h.sum(), h * 2], [L.tensor(1.0), L.tensor([0.5, 1.0])])
        return x.grad.tolist()

    np.testing.assert_allclose(run(cr), run(torch), rtol=1e-6)
    with pytest.raises(ValueError, match="2 gradients for 1 tensors"):
        cr.autograd.backward([cr.ones(1, requires_grad=True) * 2], [cr.ones(1), cr.ones(1)])


def test_create_graph_grads_of_two_leaves_are_independent():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    ((a + b) * 2).sum().backward(create_graph=True)
    assert a.grad is not b.grad and not np.shares_memory(a.grad.detach().numpy(),
                                                         b.grad.detach().numpy())
    ((a + b) * 2).sum().backward()
    assert a.grad.tolist() == [4.0, 4.0] and b.grad.tolist() == [4.0, 4.0]
    mine = cr.tensor([1.0, 1.0])
    c = cr.tensor([0.5, 0.5], requires_grad=True)
    c.backward(gradient=mine, create_graph=True)
    c.backward(gradient=mine)
    assert mine.tolist() == [1.0, 1.0] and c.grad.tolist() == [2.0, 2.0]


def test_leaf_reached_twice_through_a_shared_gradient_array():
    # Add hands the same gradient array to both inputs; here ``a`` is reached twice and ``b``
    # once through that array, so ``a``'s sum must not be built in place in ``b``'s gradient.
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    ((a + b) + a).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    ((a + b) + a).sum().backward()  # accumulating into existing .grad arrays
    np.testing.assert_array_equal(a.grad.numpy(), [4.0, 4.0])
    np.testing.assert_array_equal(b.grad.numpy(), [2.0, 2.0])


# ---- rules that overwrite an upstream gradient the engine alone holds -------------------------


def _both_frameworks(build, arrays):
    """Run ``build(lib, *leaves)`` in chainrule and torch; compare every leaf's gradient."""
    cs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    build(cr, *cs).backward()
    build(torch, *ts).backward()
    for c, t in zip(cs, ts):
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh"])
def test_a_gradient_shared_by_two_rules_is_not_overwritten(act):
    """``Add`` hands its upstream array (here a dense layer's fresh input gradient) to both
    inputs: neither activation may mask it in place, or the other would see the first one's
    result (the two inputs have opposite signs)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3))
    w = rng.standard_normal((3, 3))

    def build(lib, x, w):
        f = getattr(lib, act)
        s = f(x @ w) + f(-(x @ w))
        return (lib.nn.functional.linear(s, w) ** 2).sum()

    _both_frameworks(build, [x, w])


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh"])
def test_owned_gradients_through_sums_chains_and_linear_layers(act):
    """Fresh gradients (a dense layer's, a sum of two consumers') are reused in place by the
    activations after them; every leaf's gradient must still be torch's."""
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((5, 4)), rng.standard_normal((6, 4)), rng.standard_normal(6),
              rng.standard_normal((3, 6)), rng.standard_normal(3)]

    def build(lib, x, w1, b1, w2, b2):
        f = getattr(lib, act)
        lin = lib.nn.functional.linear
        h = f(lin(x, w1, b1))
        h2 = f(f(h))  # an activation after an activation: ownership passes along
        out = lin(h2, w2, b2) + lin(h, w2, b2) * 0.5  # h has two consumers: a summed gradient
        return (out * out).sum()

    _both_frameworks(build, arrays)


def test_a_hook_keeps_the_gradient_it_saw_when_the_rule_reuses_the_array():
    rng = np.random.default_rng(2)
    x = cr.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = cr.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    seen = []
    h = cr.nn.functional.linear(x, w)
    y = cr.relu(h)
    y.register_hook(lambda g: seen.append(g))
    z = cr.nn.functional.linear(y, w)
    y.retain_grad()
    (z * z).sum().backward()
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    tw = torch.tensor(w.detach().numpy(), requires_grad=True)
    ty = torch.relu(torch.nn.functional.linear(tx, tw))
    ty.retain_grad()
    (torch.nn.functional.linear(ty, tw) ** 2).sum().backward()
    np.testing.assert_allclose(seen[0].numpy(), ty.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)


def test_rules_reuse_the_upstream_array_only_when_it_is_the_engines():
    """A dense layer's input gradient reaches the ReLU as an array only the engine holds: the
    rule masks it in place (no new array). A gradient the caller passed in is never written."""
    from chainrule.ops import elementwise

    calls = []
    original = elementwise.Relu.backward

    def spy(F, g, out, x):
        res = original(F, g, out, x)
        calls.append((F.owns_g, res[0] is g))
        return res

    rng = np.random.default_rng(3)
    x = cr.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    w = cr.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    elementwise.Relu.backward = spy
    try:
        cr.nn.functional.linear(cr.relu(cr.nn.functional.linear(x, w)), w).sum().backward()
        upstream = np.ones((2, 3))
        cr.relu(cr.nn.functional.linear(x, w)).backward(cr.tensor(upstream))
    finally:
        elementwise.Relu.backward = original
    assert calls == [(True, True), (False, False)]
    np.testing.assert_array_equal(upstream, np.ones((2, 3)))
