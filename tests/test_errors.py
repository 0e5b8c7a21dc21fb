"""Bad input fails early with an error that names the op, the shapes or types, and the fix."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

A = cr.ones(2, 3)
B = cr.ones(4, 5)

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "maximum": cr.maximum,
    "minimum": cr.minimum,
    "where": lambda a, b: cr.where(cr.ones(2, 3) > 0, a, b),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_shape_mismatch_names_op_and_both_shapes(name):
    with pytest.raises(ValueError) as e:
        BINARY[name](A, B)
    msg = str(e.value)
    assert f"{name}()" in msg
    assert "(2, 3)" in msg and "(4, 5)" in msg


@pytest.mark.parametrize("a,b", [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (2,)),
                                 ((2, 2, 3), (3, 3, 4))])
def test_matmul_mismatch_names_both_shapes(a, b):
    with pytest.raises(ValueError) as e:
        cr.ones(*a) @ cr.ones(*b)
    msg = str(e.value)
    assert "matmul()" in msg and str(a) in msg and str(b) in msg


def test_matmul_of_scalar_is_rejected():
    with pytest.raises(ValueError, match=r"matmul\(\).*at least 1 dim"):
        cr.tensor(2.0) @ A


def test_linear_weight_mismatch():
    with pytest.raises(ValueError, match=r"linear\(\).*\(2, 3\).*\(4, 4\)"):
        cr.linear(A, cr.ones(4, 4))


def test_backward_on_non_scalar_explains_what_to_pass():
    y = cr.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError) as e:
        y.backward()
    msg = str(e.value)
    assert "scalar" in msg and "gradient=" in msg and "(2,)" in msg and "sum()" in msg


def test_backward_gradient_of_wrong_shape():
    y = cr.ones(2, requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\).*\(2,\)"):
        y.backward(cr.ones(3))


def test_backward_without_graph_explains():
    with pytest.raises(RuntimeError, match="requires_grad=True"):
        cr.ones(2).sum().backward()


@pytest.mark.parametrize("make", [
    lambda: cr.tensor([1, 2], requires_grad=True),
    lambda: cr.tensor([1, 2]).requires_grad_(),
    lambda: cr.arange(3, requires_grad=True),
    lambda: cr.tensor([True, False], requires_grad=True),
    lambda: cr.zeros(2, dtype=cr.int64, requires_grad=True),
])
def test_integer_tensors_cannot_require_grad(make):
    with pytest.raises(TypeError, match="floating-point"):
        make()


@pytest.mark.parametrize("other", ["text", {"a": 1}, {1, 2}, None, object()])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "matmul"])
def test_tensor_with_incompatible_object(op, other):
    fn = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "matmul": lambda a, b: a @ b}[op]
    with pytest.raises(TypeError) as e:
        fn(A, other)
    msg = str(e.value)
    assert "Tensor" in msg and type(other).__name__ in msg and op in msg


@pytest.mark.parametrize("other", ["text", {"a": 1}, {1, 2}])
def test_incompatible_object_on_the_left(other):
    with pytest.raises(TypeError, match=type(other).__name__):
        other + A
    with pytest.raises(TypeError, match=type(other).__name__):
        other * A


@pytest.mark.parametrize("other", ["text", {"a": 1}, [1.0, 2.0, 3.0], None])
def test_comparison_with_incompatible_object(other):
    # PyTorch's behaviour: ordering raises Python's TypeError naming both types, equality is
    # simply False (so `x == None` and `x in [None]` work)
    with pytest.raises(TypeError, match=f"'Tensor' and '{type(other).__name__}'"):
        _ = A < other
    assert (A == other) is False and (A != other) is True


def test_pow_with_string_exponent():
    with pytest.raises(TypeError, match=r"pow\(\).*str"):
        A ** "2"


def test_array_of_strings_as_operand():
    with pytest.raises(TypeError, match=r"add\(\).*<U1"):
        A + np.array(["x"])


@pytest.mark.parametrize("data", ["abc", b"ab", ["1", "a"], np.array(["a"]),
                                  np.array([1, None], dtype=object), {"a": 1}, None])
def test_tensor_from_non_numbers(data):
    with pytest.raises(TypeError, match="tensor()"):
        cr.tensor(data)


def test_ragged_list():
    with pytest.raises(TypeError, match="tensor()"):
        cr.tensor([[1.0, 2.0], [3.0]])


@pytest.mark.parametrize("call,name", [
    (lambda: A.sum(5), "sum"), (lambda: A.mean(-3), "mean"), (lambda: A.softmax(3), "softmax"),
    (lambda: A.log_softmax(2), "log_softmax"), (lambda: A.max(3), "max"),
    (lambda: A.cumsum(2), "cumsum"), (lambda: A.logsumexp(2), "logsumexp"),
    (lambda: A.transpose(0, 4), "transpose"), (lambda: A.unsqueeze(4), "unsqueeze"),
    (lambda: A.squeeze(3), "squeeze"), (lambda: A.flip(7), "flip"),
    (lambda: cr.cat([A, A], 5), "cat"), (lambda: cr.stack([A, A], 4), "stack"),
    (lambda: A.var(2), "var"), (lambda: A.amax(-3), "amax"), (lambda: A.split(1, 2), "split"),
    (lambda: A.argmax(4), "argmax"), (lambda: A.argmin(-3), "argmin"),
])
def test_bad_dim_names_the_op(call, name):
    with pytest.raises((IndexError, ValueError)) as e:
        call()
    assert f"{name}()" in str(e.value) and "dim" in str(e.value)


@pytest.mark.parametrize("call,name", [
    (lambda: A.sum("x"), "sum"), (lambda: A.sum(1.5), "sum"), (lambda: A.softmax(0.5), "softmax"),
    (lambda: A.reshape("x"), "reshape"), (lambda: A.permute(0.5, 1), "permute"),
])
def test_dim_of_wrong_type(call, name):
    with pytest.raises(TypeError, match=f"{name}()"):
        call()


def test_repeated_dim():
    with pytest.raises(ValueError, match=r"sum\(\).*repeats"):
        A.sum((0, 0))


def test_bad_permutation():
    with pytest.raises(ValueError, match=r"permute\(\).*\(0, 0\).*\(2, 3\)"):
        A.permute(0, 0)


@pytest.mark.parametrize("shape", [(4, 2), (-1, 4), (-1, -1), (7,)])
def test_reshape_to_incompatible_shape(shape):
    with pytest.raises(ValueError) as e:
        A.reshape(*shape)
    msg = str(e.value)
    assert "reshape()" in msg and "(2, 3)" in msg and str(shape) in msg


def test_view_to_incompatible_shape():
    with pytest.raises(ValueError, match=r"reshape\(\).*\(2, 3\)"):
        A.view(5)


def test_cat_with_mismatched_shapes():
    with pytest.raises(ValueError, match=r"cat\(\).*\(2, 3\).*\(2, 4\)"):
        cr.cat([A, cr.ones(2, 4)])
    with pytest.raises(ValueError, match=r"cat\(\).*\(2, 3\).*\(3,\)"):
        cr.cat([A, cr.ones(3)])


def test_cat_and_stack_need_a_sequence():
    # PyTorch raises TypeError for both: "argument 'tensors' must be tuple of Tensors"
    with pytest.raises(TypeError, match=r"cat\(\): argument 'tensors'"):
        cr.cat(A)
    with pytest.raises(TypeError, match=r"stack\(\): argument 'tensors'"):
        cr.stack([])


def test_stack_with_mismatched_shapes():
    with pytest.raises(ValueError, match=r"stack\(\).*\(2, 3\).*\(3, 2\)"):
        cr.stack([A, cr.ones(3, 2)])


def test_expand_and_broadcast_to():
    with pytest.raises(ValueError, match=r"expand\(\).*\(2, 3\).*\(3, 3\)"):
        A.expand(3, 3)
    with pytest.raises(ValueError, match=r"expand\(\)"):
        A.expand(3)
    with pytest.raises(ValueError, match=r"expand\(\).*leading"):
        cr.zeros(3).expand(-1, 3)


def test_split_and_chunk_arguments():
    with pytest.raises(ValueError, match=r"split\(\).*\[1, 1\]"):
        A.split([1, 1], dim=1)
    with pytest.raises(ValueError, match=r"split\(\): split size 0"):
        A.split(0)
    with pytest.raises(ValueError, match=r"chunk\(\): argument 'chunks' must be an int >= 1"):
        A.chunk(0)


def test_pad_arguments():
    with pytest.raises(ValueError, match=r"pad\(\)"):
        cr.pad(A, (1,))
    # negative padding crops, as in PyTorch; cropping past the size is an error
    assert cr.pad(A, (-1, 0)).shape == (2, 2)
    with pytest.raises(ValueError, match=r"pad\(\).*negative size"):
        cr.pad(A, (-2, -2))


def test_indexing_out_of_range():
    with pytest.raises(IndexError, match=r"\(2, 3\)"):
        A[5]
    with pytest.raises(IndexError, match="too many indices"):
        A[0, 0, 0]


def test_setitem_shape_mismatch():
    t = cr.zeros(2, 3)
    with pytest.raises(ValueError, match=r"setitem.*\(5,\)"):
        t[0] = cr.ones(5)


def test_setitem_into_leaf_requiring_grad():
    w = cr.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w[0] = 1.0


def test_item_and_bool_of_many_elements():
    with pytest.raises(ValueError, match=r"item\(\).*\(2, 3\)"):
        A.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(A)


def test_op_argument_checks():
    with pytest.raises(ValueError, match=r"clamp\(\)"):
        A.clamp()
    with pytest.raises(ValueError, match=r"gelu\(\).*'x'"):
        cr.gelu(A, approximate="x")
    with pytest.raises(TypeError, match=r"mean\(\).*int64"):
        cr.tensor([1, 2]).mean()


def test_negative_size_in_factory():
    with pytest.raises(ValueError, match="argument 'size' must be an int >= 0"):
        cr.zeros(-1)


def test_gradcheck_needs_float64():
    x = cr.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="float64"):
        cr.gradcheck(lambda t: t * 2, (x,))
    with pytest.raises(ValueError, match="requires grad"):
        cr.gradcheck(lambda t: t * 2, (cr.ones(2, dtype=cr.float64),))


def test_requires_grad_false_on_non_leaf():
    y = cr.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


def test_gather_index_select_masked_fill_arguments():
    x = cr.ones(2, 3)
    with pytest.raises(ValueError, match=r"gather\(\).*\(2,\).*\(2, 3\)"):
        x.gather(1, cr.tensor([0, 1]))
    with pytest.raises(TypeError, match=r"gather\(\).*float"):
        x.gather(1, cr.tensor([[0.0]]))
    with pytest.raises(ValueError, match=r"index_select\(\).*1-D"):
        x.index_select(0, cr.tensor([[0]]))
    with pytest.raises(IndexError, match=r"index_select\(\): argument 'dim' is 2"):
        x.index_select(2, cr.tensor([0]))
    with pytest.raises(TypeError, match=r"masked_fill\(\).*bool"):
        x.masked_fill(cr.ones(2, 3), 0.0)
    with pytest.raises(ValueError, match=r"masked_fill\(\).*\(2, 3\).*\(4,\)"):
        x.masked_fill(cr.ones(4) > 0, 0.0)
    with pytest.raises(ValueError, match=r"outer\(\)"):
        cr.outer(x, x)


@pytest.mark.parametrize("call,kind,pattern", [
    (lambda: cr.zeros(2).copy_(cr.ones(3)), ValueError, r"copy_\(\).*\(3,\).*\(2,\)"),
    (lambda: cr.zeros(2).add_(cr.ones(3)), ValueError, r"add_\(\).*\(2,\)"),
    (lambda: cr.zeros(2).add_(cr.ones(3, 2)), ValueError, r"add_\(\).*\(3, 2\)"),
    (lambda: cr.zeros(2).mul_("x"), TypeError, r"mul_\(\).*str"),
    (lambda: cr.zeros(2, dtype=cr.int64).add_(1.5), TypeError, r"add_\(\).*int64"),
])
def test_inplace_op_errors(call, kind, pattern):
    with pytest.raises(kind, match=pattern):
        call()


def test_flatten_start_after_end():
    with pytest.raises(ValueError, match=r"flatten\(\).*start_dim 2.*end_dim 1"):
        cr.ones(2, 3, 4).flatten(2, 1)


def test_permute_dim_out_of_range():
    with pytest.raises(IndexError, match=r"permute\(\).*dim 3"):
        cr.ones(2, 3).permute(0, 3)
