"""Custom differentiable operations: ``cr.autograd.Function`` and how gradcheck judges them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr


class Cube(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2


class ScaledMul(cr.autograd.Function):
    """a * b * k with a Python constant k; gradients for both tensors, None for k."""

    @staticmethod
    def forward(ctx, a, b, k):
        ctx.save_for_backward(a, b)
        ctx.k = k
        return a * b * k

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b * ctx.k, g * a * ctx.k, None


class WrongSin(cr.autograd.Function):
    """sin(x) with a deliberately wrong gradient: cos(x) except at one entry."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        wrong = x.cos().detach().clone()
        with cr.no_grad():
            wrong[1, 2] = wrong[1, 2] + 0.5
        return g * wrong


class WrongSecondInput(cr.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, g * a * 2  # the gradient for b is doubled


def test_custom_function_forward_and_backward():
    x = cr.tensor([2.0, -1.0], requires_grad=True)
    y = Cube.apply(x)
    assert y.tolist() == [8.0, -1.0]
    assert y.grad_fn is not None and "Cube" in y.grad_fn.name()
    y.sum().backward()
    assert x.grad.tolist() == [12.0, 3.0]


def test_custom_function_in_a_larger_graph_matches_torch():
    data = np.array([0.5, -1.2, 2.0])
    x = cr.tensor(data, requires_grad=True)
    (Cube.apply(x.tanh()) * x).sum().backward()
    xt = torch.tensor(data, requires_grad=True)
    ((xt.tanh() ** 3) * xt).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), xt.grad.numpy(), rtol=1e-10)


def test_custom_function_with_non_tensor_argument():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    ScaledMul.apply(a, b, 2.0).sum().backward()
    assert a.grad.tolist() == [6.0, 8.0] and b.grad.tolist() == [2.0, 4.0]


def test_custom_function_passes_gradcheck_and_gradgradcheck():
    a = cr.tensor(np.array([0.3, -0.7]), requires_grad=True)
    b = cr.tensor(np.array([1.1, 0.4]), requires_grad=True)
    assert cr.gradcheck(lambda u, v: ScaledMul.apply(u, v, 1.5), (a, b))
    x = cr.tensor(np.array([0.3, -0.7, 1.2]), requires_grad=True)
    assert cr.gradcheck(Cube.apply, (x,))
    assert cr.gradgradcheck(Cube.apply, (x,))


def test_custom_function_with_create_graph():
    x = cr.tensor(1.5, dtype=cr.float64, requires_grad=True)
    (g,) = cr.autograd.grad(Cube.apply(x), x, create_graph=True)
    assert g.item() == pytest.approx(3 * 1.5 ** 2)
    assert g.requires_grad
    (g2,) = cr.autograd.grad(g, x, create_graph=True)
    assert g2.item() == pytest.approx(6 * 1.5)
    (g3,) = cr.autograd.grad(g2, x)
    assert g3.item() == pytest.approx(6.0)


def test_needs_input_grad():
    seen = []

    class Probe(cr.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k):
            seen.append(ctx.needs_input_grad)
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g, g, None

    Probe.apply(cr.tensor([1.0], requires_grad=True), cr.tensor([2.0]), 3)
    assert seen == [(True, False, False)]


def test_forward_runs_without_recording():
    class Inner(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x * 2
            assert not y.requires_grad
            return y

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = cr.tensor([1.0], requires_grad=True)
    Inner.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0]


def test_no_graph_when_no_input_requires_grad():
    y = Cube.apply(cr.tensor([2.0]))
    assert not y.requires_grad and y.grad_fn is None


def test_gradcheck_catches_a_wrong_custom_function():
    x = cr.tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    with pytest.raises(cr.GradcheckError) as e:
        cr.gradcheck(WrongSin.apply, (x,))
    msg = str(e.value)
    assert "input 0" in msg and "(1, 2)" in msg
    assert not cr.gradcheck(WrongSin.apply, (x,), raise_exception=False)


def test_gradcheck_names_the_wrong_input():
    a = cr.tensor(np.array([0.5, 1.5]), requires_grad=True)
    b = cr.tensor(np.array([-1.0, 2.0]), requires_grad=True, name="b")
    with pytest.raises(cr.GradcheckError, match=r"input 1 \(b\).*index \(0,\)"):
        cr.gradcheck(WrongSecondInput.apply, (a, b))


def test_backward_returning_wrong_number_of_gradients():
    class TooFew(cr.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g

    y = TooFew.apply(cr.tensor([1.0], requires_grad=True), cr.tensor([2.0], requires_grad=True))
    with pytest.raises(RuntimeError, match="TooFew.backward returned 1 gradients"):
        y.sum().backward()


def test_backward_returning_wrong_shape():
    class BadShape(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return cr.ones(5)

    y = BadShape.apply(cr.tensor([1.0, 2.0], requires_grad=True))
    with pytest.raises(RuntimeError, match=r"BadShape.backward.*\(5,\).*\(2,\)"):
        y.sum().backward()


def test_forward_must_return_a_tensor():
    class Bad(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return 3.0

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError, match="Bad.forward must return"):
        Bad.apply(cr.tensor([1.0], requires_grad=True))


def test_gradcheck_accepts_non_contiguous_and_broadcast_inputs():
    a = np.random.default_rng(0).standard_normal((3, 2))
    x = cr.from_numpy(a.T).requires_grad_()
    assert cr.gradcheck(lambda t: (t * t).sum(), (x,))
    np.testing.assert_array_equal(x.detach().numpy(), a.T)  # the values are left as they were
    b = cr.from_numpy(np.broadcast_to(np.arange(3.0), (2, 3))).requires_grad_()
    assert cr.gradcheck(lambda t: (t * t).sum(), (b,))


def test_gradcheck_restores_inputs():
    x = cr.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    before = x.detach().numpy().copy()
    cr.gradcheck(lambda t: t.sin(), (x,))
    cr.gradgradcheck(lambda t: t.sin(), (x,))
    np.testing.assert_array_equal(x.detach().numpy(), before)


class DetachedCube(cr.autograd.Function):
    """Right first derivative, but computed off the graph: second derivatives come out 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x.detach() ** 2


def test_gradgradcheck_catches_a_non_differentiable_backward():
    x = cr.tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    assert cr.gradcheck(DetachedCube.apply, (x,))
    with pytest.raises(cr.GradcheckError, match="input 0"):
        cr.gradgradcheck(DetachedCube.apply, (x,))


def test_backward_may_return_a_broadcast_shaped_gradient():
    class AddBias(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x, b):
            return x + b

        @staticmethod
        def backward(ctx, g):
            return g, g  # g has x's shape; b's gradient is summed back by the engine

    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = cr.tensor([0.5, 0.5], requires_grad=True)
    AddBias.apply(x, b).sum().backward()
    assert b.grad.tolist() == [2.0, 2.0] and x.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_gradcheck_refuses_a_function_without_tensor_outputs():
    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(TypeError, match="float"):
        cr.gradcheck(lambda t: float(t.sum()), (x,))
    with pytest.raises(cr.GradcheckError):  # an output cut from the graph is a wrong gradient
        cr.gradcheck(lambda t: t.detach() * 2, (x,))
