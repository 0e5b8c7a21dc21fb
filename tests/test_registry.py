"""The op registry: an op defined here, in a test file, is found everywhere ops are listed.

Adding an op to chainrule is one ``Op`` class (plus one row in ``tests/test_ops.py``). This
test defines two ops the way a contributor would and checks every surface that is derived from
the registry: ``cr.*``, ``chainrule.functional``, ``Tensor`` methods, integer promotion, the op
table's meta-test, ``cr.explain`` (formula, activation naming), ``cr.why_no_grad`` and the
gradient monitor's notion of dead units; then that removing them cleans every surface again.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.functional as Fn
from chainrule.ops import Op, all_ops, entries, gated_ops, lookup, public, unregister


@pytest.fixture
def new_ops():
    """Two ops defined the way a contributor adds one; removed again afterwards."""

    class Cube(Op):
        """x³, elementwise.

        Example:
            >>> import chainrule as cr
            >>> cr.cube(cr.tensor([2.0])).tolist()
            [8.0]
        """

        kind, method, promote = "activation", True, "float"
        formula = "d x^3/dx = 3x^2"
        fresh_grads = True

        def forward(x):
            return x * x * x

        def backward(F, g, out, x):
            return (g * 3 * x * x,)

    class StepGate(Op):
        """x where x > 1, else 0: a unit that passes nothing below 1 (it can die)."""

        kind, method, gate = "activation", False, "dies"
        formula = "d step_gate(x)/dx = 1 if x > 1 else 0"
        fresh_grads = True

        def call(input, threshold: float = 1.0):  # noqa: A002
            return StepGate.apply(input, threshold=threshold)

        def forward(x, threshold):
            return np.where(x > threshold, x, 0.0).astype(x.dtype)

        def backward(F, g, out, x, threshold):
            return (g * (x > threshold),)

        def slope(out):
            return (out != 0).astype(out.dtype)

    @public(method=True, kind="elementwise")
    def cube_plus_one(x):
        """x³ + 1, built from the new op."""
        return cr.cube(x) + 1

    yield Cube, StepGate
    for op in (Cube, StepGate):
        unregister(op)
    unregister("cube_plus_one")


def test_a_new_op_is_found_everywhere(new_ops):
    Cube, StepGate = new_ops
    x = cr.tensor([1.0, -2.0], requires_grad=True)
    # cr.*, chainrule.functional, Tensor methods: the same function
    assert cr.cube is Fn.cube is Cube.call is lookup("cube").function
    assert x.cube().tolist() == [1.0, -8.0]
    assert cr.step_gate is StepGate.call and not hasattr(cr.Tensor, "step_gate")
    assert cr.tensor([1.0]).cube_plus_one().tolist() == [2.0]
    assert lookup("cube_plus_one").op is None
    # the registry's tables
    assert Cube in all_ops() and StepGate in all_ops()
    assert entries()["cube"].kind == "activation" and entries()["cube"].method
    assert gated_ops()["step_gate"] is StepGate
    # its public docs and generated signature
    assert cr.cube.__name__ == "cube" and "Example" in cr.cube.__doc__
    # declared promotion: integers compute in the default float dtype
    assert cr.cube(cr.tensor([2])).dtype == np.float32
    # graphs name it, gradients flow, gradcheck and torch agree
    y = cr.cube(x)
    assert y.grad_fn.name() == "CubeBackward"
    y.sum().backward()
    xt = torch.tensor([1.0, -2.0], requires_grad=True)
    (xt ** 3).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), xt.grad.numpy())
    assert cr.gradcheck(cr.cube, [cr.tensor([0.3, -1.2], dtype=cr.float64, requires_grad=True)])
    assert cr.gradgradcheck(cr.cube,
                            [cr.tensor([0.3, -1.2], dtype=cr.float64, requires_grad=True)])


def test_the_op_table_meta_test_asks_for_a_row_for_a_new_op(new_ops):
    from test_ops import ops_on_too_few_shapes, ops_without_rows

    Cube, StepGate = new_ops
    recorded = {StepGate: {((2,),), ((3,),), ((1, 2),)}}
    assert ops_without_rows(recorded, ops=[Cube, StepGate]) == ["Cube"]
    assert ops_on_too_few_shapes({Cube: {((2,),)}}, ops=[Cube]) == ["Cube (1)"]


def test_explain_shows_the_new_ops_formula_and_names_it_an_activation(new_ops):
    w = cr.tensor(0.5, requires_grad=True, name="w")
    loss = cr.cube(w * 2.0) * 3.0
    text = str(cr.explain(loss))
    assert "h1 = cube(z1)" in text
    assert "d x^3/dx = 3x^2" in text


def test_why_no_grad_and_explain_see_a_new_op_that_dies(new_ops):
    w = cr.tensor([0.2, 0.5], requires_grad=True, name="w")
    out = cr.step_gate(w * 2.0).sum()  # every 2w < 1: all units pass nothing back
    answer = cr.why_no_grad(out, wrt=w)
    assert answer.reason == "dead_relu"
    assert "step_gate" in str(answer)
    assert "step_gate zeroes 100% of the gradient (2 of 2 entries had a local derivative of 0)" \
        in str(cr.explain(out))
    assert "step_gate 把 100% 的梯度置零" in cr.explain(out).to_text("zh")


def test_removing_the_ops_cleans_every_surface(new_ops):
    Cube, _ = new_ops
    unregister(Cube)
    assert not hasattr(cr, "cube") and not hasattr(Fn, "cube")
    assert not hasattr(cr.Tensor, "cube") and Cube not in all_ops()
    with pytest.raises(KeyError):
        lookup("cube")


def test_kinds_and_promotions_are_checked_when_the_class_is_defined():
    with pytest.raises(ValueError, match="kind 'elementwize'"):
        class Typo(Op):  # noqa: F841
            kind = "elementwize"
    with pytest.raises(ValueError, match="promote"):
        class Typo2(Op):  # noqa: F841
            promote = "floats"
    assert not any(op.__name__.startswith("Typo") for op in all_ops())


@pytest.mark.parametrize("name", ["exp", "relu", "sum", "matmul", "reshape", "cat", "conv2d"])
def test_builtin_ops_come_from_the_registry(name):
    entry = lookup(name)
    assert getattr(cr, name) is entry.function is getattr(Fn, name)
    if entry.method:
        assert getattr(cr.Tensor, name) is entry.function


def test_activation_and_float_promotion_declarations_of_the_builtin_ops():
    acts = {op.name for op in all_ops() if op.kind == "activation"}
    assert {"relu", "sigmoid", "tanh", "gelu", "softmax", "log_softmax"} <= acts
    assert {op.name for op in all_ops() if op.gate} == {"relu", "sigmoid", "tanh"}
    floats = {op.name for op in all_ops() if op.promote == "float"}
    assert {"exp", "log", "sqrt", "sigmoid", "tanh", "div"} <= floats
    assert "relu" not in floats and "abs" not in floats
    # PyTorch refuses integer inputs to these (no promotion): declared float_only
    float_only = {op.name for op in all_ops() if op.promote == "float_only"}
    assert {"gelu", "silu", "elu", "leaky_relu", "softplus"} <= float_only
    with pytest.raises(TypeError, match=r"gelu\(\): argument 'input' must be a floating"):
        cr.gelu(cr.tensor([1, 2]))
    assert cr.sqrt(cr.tensor([4])).dtype == np.float32
    assert cr.relu(cr.tensor([-1])).dtype == np.int64
