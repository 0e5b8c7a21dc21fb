"""The op table: every public op, checked by finite differences and against PyTorch 2.13.

Each row is one op (or one form of it) with a few input cases: scalars, broadcasting and edge
shapes such as size-1 dims. For every case the suite runs ``cr.gradcheck`` (float64 finite
differences), a forward and gradient parity check against PyTorch, and ``cr.gradgradcheck`` for
rows marked smooth. A new ``Op`` without a row fails ``test_every_op_has_a_row``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch

import chainrule as cr
from _oracle import CR, TH, as_tuple, check_parity, make_inputs
from chainrule.ops import all_ops


@dataclass
class Row:
    name: str
    fn: Callable  # fn(L, *tensors) with L = CR or TH
    cases: list  # each case: a tuple of input specs (a shape, or a ready array)
    domain: str = "any"  # how float inputs given by shape are drawn, see _draw
    smooth: bool = True  # run gradgradcheck
    tfn: Callable | None = None  # the PyTorch spelling, when it differs
    gc: dict = field(default_factory=dict)  # gradcheck options
    tol: dict = field(default_factory=dict)  # parity tolerances
    gradcheck: bool = True


def _draw(shape, domain, rng):
    x = rng.standard_normal(shape)
    if domain == "pos":  # log, sqrt, fractional powers
        return rng.uniform(0.5, 2.0, shape)
    if domain == "kink":  # keep away from the kinks of relu, abs, clamp(+-0.5), ...
        x = np.sign(x) * (np.abs(x) + 0.1)
        near = np.abs(np.abs(x) - 0.5) < 0.08
        return np.where(near, x * 1.3, x)
    if domain == "unit":  # log1p, values in (-0.5, 1)
        return rng.uniform(-0.5, 1.0, shape)
    if domain == "open_unit":  # erfinv, values in (-0.9, 0.9)
        return rng.uniform(-0.9, 0.9, shape)
    if domain == "distinct":  # max/min/sort-like ops need no ties (a permutation, spread out)
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.37 - n * 0.15).reshape(shape) + rng.uniform(0, 0.05, shape)
    return x


def _arrays(row: Row, case, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for spec in case:
        if isinstance(spec, np.ndarray):
            out.append(spec)
        else:
            out.append(_draw(tuple(spec), row.domain, rng))
    return out


B = np.array  # constant (non-differentiable) inputs are given as ready arrays
S = ()  # scalar shape


def _mask(shape, seed=3):
    return np.asarray(np.random.default_rng(seed).random(shape) > 0.4)


def _lstm_shapes(t, n, i, h, bias=True):
    """x, h0, c0, w_ih, w_hh (and b_ih, b_hh) of one LSTM layer."""
    return ((t, n, i), (n, h), (n, h), (4 * h, i), (4 * h, h)) + (((4 * h,), (4 * h,)) if bias
                                                                   else ())


ROWS = [
    # ---- elementwise, one input -----------------------------------------------------------
    Row("exp", lambda L, x: L.exp(x), [(S,), ((3,),), ((2, 1, 3),)]),
    Row("log", lambda L, x: L.log(x), [(S,), ((3,),), ((1, 4),)], domain="pos"),
    Row("log1p", lambda L, x: L.log1p(x), [(S,), ((3,),), ((2, 1),)], domain="unit"),
    Row("sqrt", lambda L, x: L.sqrt(x), [(S,), ((3,),), ((2, 1, 2),)], domain="pos"),
    Row("rsqrt", lambda L, x: L.rsqrt(x), [(S,), ((3,),), ((1, 2),)], domain="pos"),
    Row("abs", lambda L, x: L.abs(x), [(S,), ((4,),), ((2, 1, 3),)], domain="kink"),
    Row("abs_operator", lambda L, x: abs(x), [((2, 3),)], domain="kink"),
    Row("sign", lambda L, x: L.sign(x) * x, [(S,), ((4,),), ((1, 3),)], domain="kink"),
    Row("sin", lambda L, x: L.sin(x), [(S,), ((3,),), ((2, 1, 2),)]),
    Row("cos", lambda L, x: L.cos(x), [(S,), ((3,),), ((2, 1, 2),)]),
    Row("tanh", lambda L, x: L.tanh(x), [(S,), ((3,),), ((1, 4),)]),
    Row("sigmoid", lambda L, x: L.sigmoid(x), [(S,), ((3,),), ((1, 4),), ((1, 1),)]),
    Row("erf", lambda L, x: L.erf(x), [(S,), ((3,),), ((2, 1),)]),
    Row("relu", lambda L, x: L.relu(x), [(S,), ((5,),), ((2, 1, 3),)], domain="kink"),
    Row("leaky_relu", lambda L, x: L.leaky_relu(x, 0.1), [(S,), ((5,),), ((2, 1, 3),)],
        domain="kink"),
    Row("leaky_relu_default", lambda L, x: L.leaky_relu(x), [((4,),)], domain="kink"),
    Row("gelu", lambda L, x: L.gelu(x), [(S,), ((5,),), ((2, 1, 3),)]),
    Row("gelu_tanh", lambda L, x: L.gelu(x, approximate="tanh"), [(S,), ((5,),), ((2, 1, 3),)]),
    Row("silu", lambda L, x: L.silu(x), [(S,), ((5,),), ((2, 1, 3),)]),
    Row("elu", lambda L, x: L.elu(x, 0.7), [(S,), ((5,),), ((2, 1, 3),)], domain="kink"),
    Row("elu_default", lambda L, x: L.elu(x), [((5,),)], domain="kink"),
    Row("softplus", lambda L, x: L.softplus(x), [(S,), ((5,),), ((2, 1, 3),)]),
    Row("softplus_beta", lambda L, x: L.softplus(x * 10, beta=2.0, threshold=5.0),
        [((6,),), ((1, 3),)], domain="kink"),
    Row("clamp", lambda L, x: L.clamp(x, -0.5, 0.5), [(S,), ((6,),), ((2, 1, 3),)],
        domain="kink"),
    Row("clamp_min", lambda L, x: L.clamp(x, min=-0.5), [((6,),), ((1, 3),)], domain="kink"),
    Row("clamp_max", lambda L, x: x.clamp(max=0.5), [((6,),), ((1, 3),)], domain="kink"),
    Row("clamp_tensor_bounds", lambda L, x, lo, hi: L.clamp(x, min=lo, max=hi + 1),
        [((6,), (6,), (6,)), ((2, 3), (3,), S), ((4,), S, (1,))], domain="distinct"),
    Row("neg", lambda L, x: L.neg(x), [(S,), ((3,),), ((1, 2, 1),)]),
    Row("neg_operator", lambda L, x: -x, [((2, 3),)]),
    Row("square", lambda L, x: L.square(x), [(S,), ((3,),)]),
    Row("pow_scalar", lambda L, x: x ** 3, [(S,), ((3,),), ((2, 1),)]),
    Row("pow_square", lambda L, x: x ** 2, [(S,), ((3,),), ((2, 1),)]),
    Row("pow_one", lambda L, x: L.pow(x, 1) * 2, [((3,),)]),
    Row("pow_zero", lambda L, x: (x ** 0) * x, [((3,),)]),
    Row("pow_fractional", lambda L, x: x ** 0.5 + x ** -1.5, [(S,), ((3,),), ((1, 2),)],
        domain="pos"),
    # ---- elementwise, two inputs (broadcasting) -------------------------------------------
    Row("add", lambda L, a, b: a + b, [(S, S), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), (S, (2, 3))]),
    Row("add_fn_alpha", lambda L, a, b: L.add(a, b, alpha=2.5), [((3,), (3,)), ((2, 1), (3,))]),
    Row("add_number", lambda L, a: 2.5 + a + 1, [(S,), ((3,),)]),
    Row("sub", lambda L, a, b: a - b, [(S, S), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((1,), S)]),
    Row("sub_fn_alpha", lambda L, a, b: L.sub(a, b, alpha=0.5), [((3,), (2, 1))]),
    Row("rsub_number", lambda L, a: 1.5 - a, [(S,), ((3,),)]),
    Row("mul", lambda L, a, b: a * b, [(S, S), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((1, 1), S)]),
    Row("mul_number", lambda L, a: 3 * a * 0.5, [(S,), ((3,),)]),
    Row("mul_self", lambda L, a: a * a, [((3,),)]),
    Row("div", lambda L, a, b: a / b, [(S, S), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), (S, (2, 2))],
        domain="pos"),
    Row("rdiv_number", lambda L, a: 2.0 / a, [(S,), ((3,),)], domain="pos"),
    Row("pow_tensor", lambda L, a, b: a ** b, [(S, S), ((3, 4), (4,)), ((2, 1, 3), (4, 1))],
        domain="pos"),
    Row("pow_fn_tensor", lambda L, a, b: L.pow(a, b), [((3,), (3,))], domain="pos"),
    Row("rpow_number", lambda L, a: 2.0 ** a, [(S,), ((3,),)]),
    Row("remainder", lambda L, a, b: a % b, [(S, S), ((3, 4), (4,)), ((2, 1), (1, 3))],
        domain="pos"),
    Row("remainder_number", lambda L, a: L.remainder(a * 3, 0.7) + 1.5 % a, [((4,),)],
        domain="pos",  # torch has no derivative for number % tensor: spell it out there
        tfn=lambda L, a: L.remainder(a * 3, 0.7) + (1.5 - a * torch.floor(1.5 / a.detach()))),
    Row("maximum", lambda L, a, b: L.maximum(a, b),
        [(S, S), ((3, 4), (4,)), ((2, 1, 3), (4, 1))], domain="distinct"),
    Row("minimum", lambda L, a, b: L.minimum(a, b),
        [(S, S), ((3, 4), (4,)), ((2, 1, 3), (4, 1))], domain="distinct"),
    Row("maximum_ties", lambda L, a, b: L.maximum(a, b),
        [(B([1.0, 2.0, 3.0]), B([1.0, 0.0, 3.0]))], gradcheck=False),
    Row("minimum_ties", lambda L, a, b: L.minimum(a, b),
        [(B([1.0, 2.0, 3.0]), B([1.0, 0.0, 3.0]))], gradcheck=False),
    Row("max_binary", lambda L, a, b: L.max(a, b), [((3,), (3,)), ((2, 3), (3,))],
        domain="distinct"),
    Row("min_binary", lambda L, a, b: L.min(a, b), [((3,), (3,)), ((2, 3), (3,))],
        domain="distinct"),
    Row("where", lambda L, c, a, b: L.where(c, a, b),
        [(_mask(()), S, S), (_mask((3, 4)), (3, 4), (4,)), (_mask((2, 1)), (1, 3), S)]),
    Row("where_number", lambda L, a: L.where(a > 0, a, 0.0), [((5,),)], domain="kink"),
    # ---- reductions ------------------------------------------------------------------------
    Row("sum", lambda L, x: x.sum(), [(S,), ((3,),), ((2, 1, 3),)]),
    Row("sum_dim", lambda L, x: L.sum(x, 1), [((2, 3),), ((2, 1, 3),)]),
    Row("sum_dims_keepdim", lambda L, x: x.sum(dim=(0, -1), keepdim=True), [((2, 3, 2),)]),
    Row("mean", lambda L, x: x.mean(), [(S,), ((3,),), ((2, 1, 3),)]),
    Row("mean_dim", lambda L, x: L.mean(x, dim=-1, keepdim=True), [((2, 3),), ((1, 1, 4),)]),
    Row("mean_dims", lambda L, x: x.mean(dim=(0, 2)), [((2, 3, 2),)]),
    Row("var", lambda L, x: x.var(), [((4,),), ((2, 3),), ((1, 2, 1),)]),
    Row("var_dim", lambda L, x: L.var(x, 1, keepdim=True), [((2, 3),), ((3, 2, 1),)]),
    Row("var_correction0", lambda L, x: x.var(dim=0, correction=0), [((3, 2),), ((1, 2),)]),
    Row("std", lambda L, x: x.std(), [((4,),), ((2, 3),), ((1, 2, 1),)]),
    Row("std_dim", lambda L, x: L.std(x, dim=(0, 1), keepdim=True), [((2, 3, 2),)]),
    Row("std_unbiased_false", lambda L, x: x.std(1, unbiased=False), [((2, 3),), ((3, 1),)]),
    Row("max_full", lambda L, x: x.max(), [(S,), ((5,),), ((2, 1, 3),)], domain="distinct"),
    Row("max_full_ties", lambda L, x: L.max(x), [(B([1.0, 3.0, 3.0, 0.5]),)], gradcheck=False),
    Row("max_dim", lambda L, x: x.max(dim=-1), [((2, 3),), ((3, 1),), ((2, 3, 2),), (S,)],
        domain="distinct"),
    Row("max_dim_keepdim", lambda L, x: L.max(x, -1, keepdim=True), [((2, 3),)],
        domain="distinct"),
    Row("min_full", lambda L, x: L.min(x), [(S,), ((5,),), ((2, 1, 3),)], domain="distinct"),
    Row("min_dim", lambda L, x: x.min(0), [((2, 3),), ((1, 3),), ((4,),)], domain="distinct"),
    Row("min_dim_keepdim", lambda L, x: L.min(x, dim=0, keepdim=True), [((3, 2),)],
        domain="distinct"),
    Row("amax", lambda L, x: L.amax(x, dim=(0, 2)), [((2, 3, 2),), ((1, 3, 1),), ((3, 1, 2),)],
        domain="distinct"),
    Row("amax_keepdim_ties", lambda L, x: L.amax(x, dim=1, keepdim=True),
        [(B([[1.0, 4.0, 4.0], [2.0, 2.0, 2.0]]),)], gradcheck=False),
    Row("amin", lambda L, x: x.amin(dim=-1), [((2, 3),), ((4,),), ((2, 1, 1),)],
        domain="distinct"),
    Row("prod", lambda L, x: x.prod(), [(S,), ((4,),), ((2, 1, 2),)]),
    Row("prod_dim", lambda L, x: L.prod(x, 1), [((2, 3),), ((3, 1),)]),
    Row("prod_with_zero", lambda L, x: L.prod(x, 1),
        [(B([[1.5, 0.0, 2.0], [0.0, 3.0, 0.0]]),), (B([[1.5, 0.0, 2.0], [0.5, 3.0, 4.0]]),)]),
    Row("prod_all_with_zero", lambda L, x: x.prod(), [(B([[1.5, 0.0], [2.0, 3.0]]),)]),
    Row("prod_empty", lambda L, x: x.prod(0), [(np.zeros((0, 3)),)]),
    Row("logsumexp", lambda L, x: L.logsumexp(x, 1), [((2, 3),), ((1, 4),), ((2, 1, 3),)]),
    Row("logsumexp_dims", lambda L, x: x.logsumexp((0, 1), keepdim=True), [((2, 3),), ((1, 1),)]),
    Row("softmax", lambda L, x: L.softmax(x, -1), [((4,),), ((2, 3),), ((2, 1, 3),)]),
    Row("softmax_dim0", lambda L, x: x.softmax(0), [((3, 2),), ((1, 2),)]),
    Row("log_softmax", lambda L, x: L.log_softmax(x, dim=1), [((2, 3),), ((2, 1),),
                                                              ((1, 3, 2),)]),
    Row("log_softmax_last", lambda L, x: x.log_softmax(-1), [((4,),), ((2, 2, 3),)]),
    Row("cumsum", lambda L, x: L.cumsum(x, 0), [((4,),), ((3, 2),), (S,)]),
    Row("cumsum_last", lambda L, x: x.cumsum(dim=-1), [((2, 3),), ((1, 1),), ((2, 1, 3),)]),
    # ---- matrix products -----------------------------------------------------------------
    Row("matmul_2d", lambda L, a, b: a @ b, [((2, 3), (3, 4)), ((1, 1), (1, 1)), ((3, 1), (1, 2))]),
    Row("matmul_batched", lambda L, a, b: L.matmul(a, b),
        [((2, 2, 3), (2, 3, 2)), ((2, 2, 3), (3, 2)), ((2, 1, 2, 3), (3, 3, 2))]),
    Row("matmul_1d_1d", lambda L, a, b: a @ b, [((3,), (3,)), ((1,), (1,))]),
    Row("matmul_1d_2d", lambda L, a, b: a @ b, [((3,), (3, 2)), ((3,), (2, 3, 2))]),
    Row("matmul_2d_1d", lambda L, a, b: a.matmul(b), [((2, 3), (3,)), ((2, 2, 3), (3,))]),
    Row("matmul_rmatmul", lambda L, a: B([[1.0, 2.0], [0.5, -1.0]]) @ a, [((2, 3),)],
        tfn=lambda L, a: torch.tensor([[1.0, 2.0], [0.5, -1.0]], dtype=torch.float64) @ a),
    Row("mm", lambda L, a, b: L.mm(a, b), [((2, 3), (3, 2))]),
    Row("bmm", lambda L, a, b: L.bmm(a, b), [((2, 2, 3), (2, 3, 2))]),
    Row("dot", lambda L, a, b: L.dot(a, b), [((3,), (3,))]),
    Row("linear", lambda L, x, w, b: L.linear(x, w, b),
        [((3, 4), (2, 4), (2,)), ((4,), (2, 4), (2,)), ((2, 3, 4), (2, 4), (2,)),
         ((1, 1), (1, 1), (1,))]),
    Row("linear_no_bias", lambda L, x, w: L.linear(x, w),
        [((3, 4), (2, 4)), ((1, 4), (1, 4)), ((1, 1), (1, 1))]),
    # ---- shape ---------------------------------------------------------------------------
    Row("reshape", lambda L, x: x.reshape(3, 4) * 1, [((2, 6),), ((12,),), ((1, 3, 4, 1),)]),
    Row("reshape_infer", lambda L, x: L.reshape(x, (-1,)), [((2, 3),), ((1, 1, 1),)]),
    Row("reshape_scalar", lambda L, x: x.reshape(1, 1), [(S,)]),
    Row("reshape_to_scalar", lambda L, x: x.reshape(()), [((1,),), ((1, 1),)]),
    Row("view", lambda L, x: x.view(2, -1), [((2, 3),), ((4, 1),), ((1, 2),)]),
    Row("flatten", lambda L, x: x.flatten(), [((2, 3),), ((2, 1, 2),), ((1,),)]),
    Row("flatten_range", lambda L, x: L.flatten(x, 1), [((2, 3, 2),), ((1, 1, 1),)]),
    Row("flatten_scalar", lambda L, x: x.flatten(), [(S,)]),
    Row("squeeze", lambda L, x: x.squeeze(), [((1, 3, 1),), ((1,),), ((2, 3),)]),
    Row("squeeze_dim", lambda L, x: L.squeeze(x, 0), [((1, 3),), ((3, 1),)]),
    Row("squeeze_dims", lambda L, x: x.squeeze((0, 2)), [((1, 3, 1),), ((1, 2, 2),)]),
    Row("unsqueeze", lambda L, x: x.unsqueeze(0), [(S,), ((3,),), ((2, 1),)]),
    Row("unsqueeze_last", lambda L, x: L.unsqueeze(x, -1), [((3,),), ((2, 3),)]),
    Row("transpose", lambda L, x: x.transpose(0, 1), [((2, 3),), ((1, 3, 2),), ((1, 1),)]),
    Row("transpose_neg", lambda L, x: L.transpose(x, -1, -3), [((2, 3, 1),)]),
    Row("t", lambda L, x: x.t(), [((2, 3),), ((3,),)]),
    Row("T", lambda L, x: x.T, [((2, 3),), ((1, 2, 3),)],
        tfn=lambda L, x: x.permute(*range(x.ndim - 1, -1, -1))),
    Row("mT", lambda L, x: x.mT, [((2, 3),), ((2, 1, 3),)]),
    Row("permute", lambda L, x: x.permute(2, 0, 1), [((2, 3, 1),), ((1, 1, 2),), ((2, 2, 3),)]),
    Row("permute_fn", lambda L, x: L.permute(x, (1, 0)), [((2, 3),)]),
    Row("expand", lambda L, x: x.expand(2, -1, 4), [((3, 1),), ((1, 4),), ((1, 1),)]),
    Row("expand_as", lambda L, x, y: x.expand_as(y) * y, [((3, 1), (2, 3, 4))]),
    Row("broadcast_to", lambda L, x: L.broadcast_to(x, (2, 3, 4)), [(S,), ((3, 1),), ((4,),)]),
    Row("flip", lambda L, x: L.flip(x, (0,)), [((3,),), ((2, 3),), ((1, 2),)]),
    Row("flip_dims", lambda L, x: x.flip((0, -1)), [((2, 3),), ((2, 1, 2),)]),
    Row("cat", lambda L, a, b: L.cat([a, b]),
        [((2, 3), (1, 3)), ((1,), (3,)), ((1, 1, 2), (2, 1, 2))]),
    Row("cat_dim", lambda L, a, b, c: L.cat((a, b, c), dim=-1),
        [((2, 1), (2, 3), (2, 2)), ((1, 2, 1), (1, 2, 2), (1, 2, 1))]),
    Row("cat_single", lambda L, a: L.cat([a], 0) * 2, [((2,),)]),
    Row("stack", lambda L, a, b: L.stack([a, b]), [(S, S), ((2, 3), (2, 3)), ((1,), (1,))]),
    Row("stack_last", lambda L, a, b, c: L.stack((a, b, c), dim=-1), [((2,), (2,), (2,))]),
    Row("split", lambda L, x: x.split(2), [((5,),), ((4, 2),), ((2, 1),)]),
    Row("split_sizes", lambda L, x: L.split(x, [1, 3], dim=1), [((2, 4),), ((1, 4, 1),)]),
    Row("chunk", lambda L, x: x.chunk(3, dim=-1), [((2, 7),), ((3,),), ((1, 1, 4),)]),
    Row("chunk_uneven", lambda L, x: L.chunk(x, 2), [((5,),), ((1, 2),)]),
    Row("unbind", lambda L, x: x.unbind(1), [((2, 3),)]),
    Row("pad", lambda L, x: L.pad(x, (1, 2)), [((3,),), ((2, 2),), ((1, 1, 1),)]),
    Row("pad_2d_value", lambda L, x: L.pad(x, (1, 0, 0, 2), value=0.5),
        [((2, 3),), ((1, 1, 2),)]),
    # ---- convolution and pooling ------------------------------------------------------------
    Row("conv2d", lambda L, x, w, b: L.conv2d(x, w, b),
        [((1, 1, 3, 3), (2, 1, 2, 2), (2,)), ((2, 2, 3, 2), (1, 2, 1, 2), (1,))]),
    Row("conv2d_stride_pad_dilation", lambda L, x, w: L.conv2d(x, w, stride=2, padding=1,
                                                               dilation=(1, 2)),
        [((1, 1, 4, 4), (2, 1, 2, 2)), ((1, 2, 3, 3), (1, 2, 1, 1))]),
    Row("max_pool2d", lambda L, x: L.max_pool2d(x, 2), [((1, 1, 4, 4),), ((2, 1, 2, 3),)],
        domain="distinct"),
    Row("max_pool2d_pad", lambda L, x: L.max_pool2d(x, 3, stride=1, padding=1),
        [((1, 2, 3, 3),)], domain="distinct"),
    Row("max_pool2d_dilation", lambda L, x: L.max_pool2d(x, 2, stride=1, dilation=(2, 1)),
        [((1, 2, 5, 4),)], domain="distinct"),
    Row("max_pool2d_ties", lambda L, x: L.max_pool2d(x.relu(), 3, stride=1, padding=1),
        [(np.zeros((1, 1, 3, 3)),), (np.array([[[[1.0, 1.0], [1.0, -1.0]]]]),)],
        gradcheck=False),  # ties: the first arg-max of each window gets the gradient
    Row("avg_pool2d", lambda L, x: L.avg_pool2d(x, 2), [((1, 1, 4, 4),), ((1, 2, 2, 3),)]),
    Row("avg_pool2d_pad", lambda L, x: L.avg_pool2d(x, 3, stride=2, padding=1),
        [((1, 1, 4, 4),)]),
    Row("unfold", lambda L, x: L.unfold(x, 2), [((1, 2, 3, 3),), ((2, 1, 2, 3),)],
        tfn=lambda L, x: torch.nn.functional.unfold(x, 2)),
    Row("fold", lambda L, c: L.fold(c, (3, 3), 2), [((1, 8, 4),), ((2, 4, 4),)],
        tfn=lambda L, c: torch.nn.functional.fold(c, (3, 3), 2)),
    # ---- indexing --------------------------------------------------------------------------
    Row("index_int", lambda L, x: x[1], [((3,),), ((3, 2),), ((2, 1, 1),)]),
    Row("index_negative_int", lambda L, x: x[-1, 0], [((2, 3),)]),
    Row("index_slice", lambda L, x: x[1:3], [((4,),), ((4, 2),), ((3, 1, 2),)]),
    Row("index_slice_step", lambda L, x: x[::2, 1:], [((5, 3),)]),
    Row("index_negative_step", lambda L, x: x[::-1], [((4,),), ((3, 2),)],
        tfn=lambda L, x: x.flip(0)),
    Row("index_negative_step2", lambda L, x: x[:, 3:0:-2], [((2, 5),)],
        tfn=lambda L, x: x[:, 1:4:2].flip(1)),
    Row("index_none", lambda L, x: x[None, :, None], [((3,),)]),
    Row("index_ellipsis", lambda L, x: x[..., 1], [((2, 2, 3),), ((3,),)]),
    Row("index_ellipsis_none", lambda L, x: x[0, ..., None], [((2, 3),)]),
    Row("index_bool_mask", lambda L, x, m: x[m], [((3, 4), _mask((3, 4))), ((4,), _mask(4))]),
    Row("index_bool_rows", lambda L, x, m: x[m], [((3, 2), B([True, False, True]))]),
    Row("index_int_array_repeats", lambda L, x, i: x[i],
        [((4,), B([0, 2, 0, 0, 3])), ((3, 2), B([[1, 1], [2, 1]]))]),
    Row("index_int_list_repeats", lambda L, x: x[[1, 1, 0]], [((3,),), ((3, 2),)]),
    Row("index_tensor_pair", lambda L, x, i, j: x[i, j],
        [((3, 4), B([0, 2, 0]), B([1, 3, 1]))]),
    Row("index_mixed", lambda L, x, i: x[1:, i], [((3, 4), B([3, 0, 3]))]),
    Row("setitem", lambda L, x, v: _setitem(L, x, v, (slice(1, 3),)),
        [((4,), S), ((4, 2), (2,)), ((4, 2), (2, 2))]),
    Row("setitem_int", lambda L, x, v: _setitem(L, x, v, 0), [((3,), S), ((3, 2), (2,))]),
    Row("setitem_mask", lambda L, x, m: _setitem_const(L, x, m, 0.25),
        [((3, 2), _mask((3, 2)))]),
    Row("setitem_fancy", lambda L, x, v, i: _setitem(L, x, v, i),
        [((4,), (2,), B([3, 0]))]),
    # Repeated targets: the last write wins and the overwritten value gets no gradient; torch
    # would still give it one, so its side writes only the surviving values.
    Row("setitem_repeated", lambda L, x, v: _setitem(L, x, v, (B([0, 2, 0]),)),
        [((3,), (3,)), ((3, 2), (3, 2)), ((3, 2), (1,))],
        tfn=lambda L, x, v: _setitem(L, x, v[1:] if v.shape[0] == 3 else v, (B([2, 0]),))),
    # ---- composites of the primitives -------------------------------------------------------
    Row("gather", lambda L, x, i: x.gather(1, i),
        [((2, 3), B([[0, 0], [2, 1]])), ((3, 2), B([[1], [1], [0]])), ((1, 4), B([[3, 3, 0]]))]),
    Row("gather_dim0", lambda L, x, i: L.gather(x, 0, i), [((3, 2), B([[2, 0], [2, 2]]))]),
    Row("index_select", lambda L, x, i: x.index_select(-1, i),
        [((2, 3), B([2, 0, 2])), ((4,), B([1])), ((1, 2, 3), B([0, 0]))]),
    Row("masked_fill", lambda L, x, m: x.masked_fill(m, 0.5),
        [((2, 3), _mask((2, 3))), ((2, 3), _mask((3,))), ((4,), _mask(()))]),
    Row("outer", lambda L, a, b: L.outer(a, b), [((3,), (2,)), ((1,), (4,)), ((2,), (1,))]),
    Row("reciprocal", lambda L, x: x.reciprocal(), [(S,), ((3,),), ((2, 1),)], domain="pos"),
    Row("clamp_min_max_fn", lambda L, x: L.clamp_max(L.clamp_min(x, -0.5), 0.5),
        [(S,), ((4,),), ((2, 3),)], domain="kink"),
    Row("view_as", lambda L, x, y: x.view_as(y) * y, [((6,), (2, 3)), ((1, 4), (4,)), (S, (1,))]),
    # ---- copies and dtype -------------------------------------------------------------------
    Row("clone", lambda L, x: x.clone(), [(S,), ((3,),), ((2, 1),)]),
    Row("clone_fn", lambda L, x: L.clone(x), [((2,),)]),
    Row("cast_float32", lambda L, x: x.to(L.float32) * 2, [(S,), ((3,),)],
        gc={"eps": 1e-2, "atol": 1e-3}, tol={"rtol": 1e-6, "atol": 1e-6}),
    Row("cast_roundtrip", lambda L, x: x.float().double(), [((3,),), ((1, 2),)],
        gc={"eps": 1e-2, "atol": 1e-3}, tol={"rtol": 1e-6, "atol": 1e-6}),
    Row("cast_to_int", lambda L, x: x * x.to(L.int64), [((4,),)], domain="kink"),
    # ---- rounding, remainders, special functions ------------------------------------------
    # The rounding functions have a zero gradient: times x, the product's gradient checks it.
    Row("floor", lambda L, x: L.floor(x) * x, [(S,), ((4,),), ((2, 1, 3),)]),
    Row("ceil", lambda L, x: x.ceil() * x, [(S,), ((4,),), ((2, 1, 3),)]),
    Row("trunc", lambda L, x: L.trunc(x) * x, [(S,), ((4,),), ((1, 3),)]),
    Row("fix", lambda L, x: L.fix(x) * x, [((3,),)]),
    Row("round", lambda L, x: L.round(x * 3) * x, [(S,), ((4,),), ((2, 1, 3),)]),
    Row("round_decimals", lambda L, x: x.round(decimals=2) * x + L.round(x * 50, decimals=-1),
        [((5,),), ((2, 3),)]),
    Row("frac", lambda L, x: L.frac(x * 3), [(S,), ((4,),), ((2, 1, 3),)]),
    Row("fmod", lambda L, a, b: L.fmod(a * 3, b), [(S, S), ((3, 4), (4,)), ((2, 1), (1, 3))],
        domain="pos"),
    Row("fmod_negative", lambda L, a, b: L.fmod(a * 3 - 3, b - 1.25),
        [((6,), (6,)), ((2, 3), (3,))], domain="pos"),
    Row("remainder_negative", lambda L, a, b: (a * 3 - 3) % (b - 1.25),
        [((6,), (6,)), ((2, 3), (3,))], domain="pos"),
    Row("expm1", lambda L, x: L.expm1(x), [(S,), ((3,),), ((2, 1, 3),)]),
    Row("erfinv", lambda L, x: x.erfinv(), [(S,), ((4,),), ((2, 1, 3),)], domain="open_unit"),
    Row("atan2", lambda L, a, b: L.atan2(a, b),
        [(S, S), ((3, 4), (4,)), ((2, 1, 3), (4, 1))]),
    Row("arctan2", lambda L, a, b: a.arctan2(b), [((3,), (3,))]),
    Row("hypot", lambda L, a, b: L.hypot(a, b), [(S, S), ((3, 4), (4,)), ((2, 1, 3), (4, 1))]),
    Row("lerp", lambda L, a, b: L.lerp(a, b, 0.3), [(S, S), ((3, 4), (4,)), ((2, 1), (1, 3))]),
    Row("lerp_near_end", lambda L, a, b: a.lerp(b, 0.75), [((3,), (3,)), ((2, 3), (3,))]),
    Row("lerp_tensor_weight", lambda L, a, b, w: L.lerp(a, b, w),
        [((3,), (3,), (3,)), ((2, 3), (3,), (2, 1)), ((4,), S, S)]),
    Row("addcmul", lambda L, a, b, c: L.addcmul(a, b, c, value=0.5),
        [((3,), (3,), (3,)), ((2, 3), (3,), (2, 1)), (S, (2,), S)]),
    Row("addcmul_default", lambda L, a, b, c: a.addcmul(b, c), [((2, 3), (2, 3), (3,))]),
    Row("addcdiv", lambda L, a, b, c: L.addcdiv(a, b, c * c + 1, value=-2),
        [((3,), (3,), (3,)), ((2, 3), (3,), (2, 1)), (S, (2,), S)]),
    Row("nan_to_num", lambda L, x: L.nan_to_num(x, posinf=5.0, neginf=-4.0) * 2,
        [(B([np.nan, 1.5, np.inf, -np.inf, -0.5]),), (B([[np.nan, 2.0], [0.5, np.inf]]),),
         ((3,),)]),
    # the default -inf replacement, -1.8e308, swamps any finite-difference sum: parity only
    Row("nan_to_num_defaults", lambda L, x: x.nan_to_num() + 0.0,
        [(B([np.nan, 1.5, -np.inf]),)], gradcheck=False),
    # ---- cumulative products and norms -----------------------------------------------------
    Row("cumprod", lambda L, x: L.cumprod(x, 0), [((4,),), ((3, 2),), (S,)]),
    Row("cumprod_last", lambda L, x: x.cumprod(dim=-1), [((2, 3),), ((1, 1),), ((2, 1, 3),)]),
    Row("cumprod_with_zeros", lambda L, x: L.cumprod(x, 1),
        [(B([[2.0, 0.0, 3.0, 0.5], [1.5, 2.0, 0.0, 0.0], [0.0, 1.0, 2.0, 3.0]]),),
         (B([[0.0]]),), (B([[1.5, -2.0, 0.0]]),)]),
    Row("norm", lambda L, x: L.norm(x), [((3,),), ((2, 3),), ((1, 2, 2),)]),
    Row("norm_p1_dim", lambda L, x: x.norm(p=1, dim=1), [((2, 3),), ((3, 1, 2),)],
        domain="kink"),
    Row("norm_inf_keepdim", lambda L, x: L.norm(x, p=float("inf"), dim=0, keepdim=True),
        [((3, 2),), ((4,),)], domain="distinct"),
    Row("norm_fro_dims", lambda L, x: L.norm(x, p="fro", dim=(0, 1)), [((2, 3),), ((2, 2, 3),)]),
    Row("vector_norm_ord3", lambda L, x: L.linalg.vector_norm(x, ord=3, dim=-1),
        [((4,),), ((2, 3),)], domain="kink"),
    Row("vector_norm_ord_half", lambda L, x: L.linalg.vector_norm(x, 0.5), [((3,),), ((2, 2),)],
        domain="pos"),
    Row("vector_norm_neg_inf", lambda L, x: L.linalg.vector_norm(x, float("-inf"), dim=(0, 1)),
        [((2, 3),)], domain="distinct"),
    Row("vector_norm_ord0", lambda L, x: L.linalg.vector_norm(x, 0) * x, [((3,),), ((2, 2),)]),
    Row("vector_norm_at_zero", lambda L, x: L.linalg.vector_norm(x, dim=1),
        [(B([[0.0, 0.0], [3.0, -4.0]]),)], gradcheck=False),  # gradient 0 at 0, as in PyTorch
    Row("linalg_norm", lambda L, x: L.linalg.norm(x), [((3,),), ((2, 3),)]),
    Row("linalg_norm_dim", lambda L, x: L.linalg.norm(x, 3, dim=1), [((2, 3),)], domain="kink"),
    Row("matrix_norm_1", lambda L, x: L.linalg.matrix_norm(x, ord=1), [((3, 4),), ((2, 3, 2),)],
        domain="distinct"),
    Row("matrix_norm_inf", lambda L, x: L.linalg.norm(x, ord=float("inf")), [((3, 4),)],
        domain="distinct"),
    Row("matrix_norm_neg", lambda L, x: L.linalg.matrix_norm(x, -1, dim=(0, 1), keepdim=True) +
        L.linalg.matrix_norm(x, float("-inf")), [((3, 4),)], domain="distinct"),
    Row("matrix_norm_fro", lambda L, x: L.linalg.matrix_norm(x), [((2, 3),), ((2, 2, 2),)]),
    Row("var_unbiased_positional", lambda L, x: x.var(False) + L.std(x, 0, True, True).sum(),
        [((3, 2),)]),
    # ---- products ----------------------------------------------------------------------------
    Row("einsum_matmul", lambda L, a, b: L.einsum("ij,jk->ik", a, b),
        [((2, 3), (3, 4)), ((1, 1), (1, 2)), ((3, 1), (1, 2))]),
    Row("einsum_batched", lambda L, a, b: L.einsum("bij,bjk->bik", a, b),
        [((2, 2, 3), (2, 3, 2))]),
    Row("einsum_ellipsis", lambda L, a, b: L.einsum("...ij,...jk", a, b),
        [((2, 1, 2, 3), (5, 3, 4)), ((2, 3), (3, 2))]),
    Row("einsum_diagonal", lambda L, x: L.einsum("ii->i", x), [((3, 3),), ((1, 1),)]),
    Row("einsum_trace", lambda L, x: L.einsum("ii", x), [((3, 3),)]),
    Row("einsum_sum_out", lambda L, x: L.einsum("ij->", x) + L.einsum("ij->j", x),
        [((2, 3),), ((1, 4),)]),
    Row("einsum_broadcast_size1", lambda L, a, b: L.einsum("ij,ij->ij", a, b),
        [((1, 3), (4, 3)), ((2, 1), (2, 5))]),
    Row("einsum_three", lambda L, a, b, c: L.einsum("bn,anm,bm->ba", a, b, c),
        [((2, 3), (4, 3, 5), (2, 5))]),
    Row("einsum_list_implicit", lambda L, a, b: L.einsum("i,j", [a, b]), [((2,), (3,))]),
    Row("einsum_transpose", lambda L, x: L.einsum("ba", x), [((2, 3),)]),
    Row("baddbmm", lambda L, i, a, b: L.baddbmm(i, a, b, beta=0.5, alpha=2),
        [((2, 3, 4), (2, 3, 5), (2, 5, 4)), ((3, 1), (2, 3, 2), (2, 2, 1)),
         (S, (1, 1, 2), (1, 2, 1))]),
    Row("addmm", lambda L, i, a, b: L.addmm(i, a, b, beta=-1.5, alpha=0.5),
        [((2, 4), (2, 3), (3, 4)), ((4,), (3, 2), (2, 4)), (S, (1, 1), (1, 1))]),
    Row("addmm_defaults", lambda L, i, a, b: i.addmm(a, b), [((2, 2), (2, 3), (3, 2))]),
    Row("addmm_beta0", lambda L, i, a, b: L.addmm(i, a, b, beta=0),
        [((2, 2), (2, 3), (3, 2))]),
    Row("addmv", lambda L, i, m, v: L.addmv(i, m, v, beta=2, alpha=-1),
        [((2,), (2, 3), (3,)), (S, (1, 4), (4,)), ((1,), (3, 1), (1,))]),
    Row("kron", lambda L, a, b: L.kron(a, b), [((2,), (3,)), ((2, 2), (1, 3)), ((2,), (2, 2))]),
    # ---- matrix structure, moving entries -----------------------------------------------------
    Row("tril", lambda L, x: L.tril(x), [((3, 3),), ((2, 4),), ((2, 3, 3),)]),
    Row("tril_diagonal", lambda L, x: x.tril(-1) + L.tril(x, diagonal=2), [((3, 4),)]),
    Row("triu", lambda L, x: L.triu(x, 1), [((3, 3),), ((4, 2),), ((2, 2, 3),)]),
    Row("diag_vector", lambda L, x: L.diag(x), [((3,),), ((1,),)]),
    Row("diag_vector_offset", lambda L, x: L.diag(x, -2) + L.diag(x * 2, 0).sum(), [((3,),)]),
    Row("diag_matrix", lambda L, x: x.diag(1), [((3, 4),), ((2, 2),)]),
    Row("diagonal", lambda L, x: L.diagonal(x), [((3, 3),), ((2, 4),), ((3, 2),)]),
    Row("diagonal_dims", lambda L, x: x.diagonal(offset=-1, dim1=2, dim2=0),
        [((3, 2, 4),), ((2, 1, 2),)]),
    Row("trace", lambda L, x: L.trace(x), [((3, 3),), ((2, 4),), ((1, 1),)]),
    Row("narrow", lambda L, x: L.narrow(x, 1, 1, 2), [((2, 4),), ((1, 3, 2),)]),
    Row("narrow_negative_start", lambda L, x: x.narrow(0, -2, 2), [((4,),), ((3, 2),)]),
    Row("roll", lambda L, x: L.roll(x, 1), [((4,),), ((2, 3),), (S,)]),
    Row("roll_dims", lambda L, x: x.roll((1, -3), (0, 1)), [((3, 4),), ((2, 2, 2),)]),
    Row("roll_zero", lambda L, x: L.roll(x, 4, 0), [((4,),)]),
    Row("repeat_interleave", lambda L, x: L.repeat_interleave(x, 2), [((3,),), ((2, 2),)]),
    Row("repeat_interleave_tensor", lambda L, x, r: x.repeat_interleave(r, dim=0),
        [((3, 2), B([1, 0, 2])), ((2,), B([3, 1]))]),
    Row("repeat_interleave_dim", lambda L, x: L.repeat_interleave(x, 3, dim=-1), [((2, 2),)]),
    Row("flip_varargs", lambda L, x: x.flip(0, 1), [((2, 3),)]),
    # ---- ordering ---------------------------------------------------------------------------
    Row("sort", lambda L, x: L.sort(x), [((5,),), ((2, 3),), ((2, 1, 3),)], domain="distinct"),
    Row("sort_descending_dim", lambda L, x: x.sort(dim=0, descending=True, stable=True),
        [((4, 2),), ((3,),)], domain="distinct"),
    Row("topk", lambda L, x: L.topk(x, 2), [((5,),), ((3, 4),), ((2, 1, 3),)],
        domain="distinct"),
    Row("topk_smallest_dim", lambda L, x: x.topk(3, dim=0, largest=False), [((4, 2),)],
        domain="distinct"),
    # ---- scattering -------------------------------------------------------------------------
    Row("scatter", lambda L, x, i, s: L.scatter(x, 1, i, s),
        [((2, 4), B([[3, 0], [1, 2]]), (2, 2)), ((3, 2), B([[1], [0]]), (2, 1)),
         ((2, 3), B([[0, 2, 1]]), (1, 3))]),
    Row("scatter_dim0", lambda L, x, i, s: x.scatter(0, i, s),
        [((3, 2), B([[2, 0], [0, 1]]), (2, 2))]),
    # src larger than index: only its leading part is used. PyTorch's rule returns a gradient
    # of index's shape there (and then fails), so its side takes the used part explicitly.
    Row("scatter_src_larger", lambda L, x, i, s: L.scatter(x, 1, i, s),
        [((2, 4), B([[3, 0], [1, 2]]), (3, 3))],
        tfn=lambda L, x, i, s: L.scatter(x, 1, i, s[:2, :2])),
    Row("scatter_value", lambda L, x, i: L.scatter(x, 0, i, 2.5),
        [((3, 2), B([[2, 0]])), ((4,), B([1, 3]))]),
    Row("scatter_add", lambda L, x, i, s: L.scatter_add(x, -1, i, s),
        [((2, 3), B([[0, 0, 2], [1, 1, 1]]), (2, 3)), ((4,), B([1, 1, 0]), (3,))]),
    Row("scatter_add_src_larger", lambda L, x, i, s: x.scatter_add(0, i, s),
        [((4,), B([1, 1, 0]), (5,))], tfn=lambda L, x, i, s: x.scatter_add(0, i, s[:3])),
    Row("scatter_reduce_sum", lambda L, x, i, s: L.scatter_reduce(x, 0, i, s, "sum"),
        [((3,), B([0, 2, 0, 0]), (4,)), ((2, 2), B([[1, 1], [0, 1]]), (2, 2))]),
    Row("scatter_reduce_sum_exclude", lambda L, x, i, s: x.scatter_reduce(
        0, i, s, "sum", include_self=False), [((3,), B([0, 2, 0, 0]), (4,))]),
    Row("scatter_reduce_mean", lambda L, x, i, s: L.scatter_reduce(x, 0, i, s, "mean"),
        [((3,), B([0, 2, 0, 0]), (4,)), ((2, 2), B([[1, 1], [0, 1]]), (2, 2))]),
    Row("scatter_reduce_mean_exclude", lambda L, x, i, s: L.scatter_reduce(
        x, 0, i, s, "mean", include_self=False), [((3,), B([0, 2, 0, 0]), (4,))]),
    Row("scatter_reduce_amax", lambda L, x, i, s: L.scatter_reduce(x, 0, i, s, "amax"),
        [((3,), B([0, 2, 0, 0]), (4,)), ((2, 2), B([[1, 1], [0, 1]]), (2, 2))],
        domain="distinct"),
    Row("scatter_reduce_amin_exclude", lambda L, x, i, s: L.scatter_reduce(
        x, 0, i, s, "amin", include_self=False), [((3,), B([0, 2, 0, 0]), (4,))],
        domain="distinct"),
    Row("scatter_reduce_amax_ties", lambda L, x, s: L.scatter_reduce(x, 0, B([0, 0, 1]), s,
                                                                      "amax"),
        [(B([2.0, 1.0]), B([2.0, 2.0, 0.5]))], gradcheck=False,
        tfn=lambda L, x, s: L.scatter_reduce(x, 0, torch.tensor([0, 0, 1]), s, "amax")),
    Row("scatter_reduce_prod", lambda L, x, i, s: L.scatter_reduce(x, 0, i, s, "prod"),
        [((3,), B([0, 2, 0, 0]), (4,)), ((2, 2), B([[1, 1], [0, 1]]), (2, 2))]),
    Row("scatter_reduce_prod_exclude", lambda L, x, i, s: L.scatter_reduce(
        x, 0, i, s, "prod", include_self=False), [((3,), B([0, 2, 0, 0]), (4,))]),
    Row("scatter_reduce_prod_zeros", lambda L, x, s: L.scatter_reduce(x, 0, B([0, 0, 1, 2]), s,
                                                                       "prod"),
        [(B([0.0, 2.0, 0.0]), B([1.5, -2.0, 0.0, 0.0])), (B([3.0, 2.0, 1.0]),
                                                         B([0.0, -2.0, 1.5, 4.0]))],
        gradcheck=False,  # no second derivative here; first order: test_scatter_prod_zeros
        tfn=lambda L, x, s: L.scatter_reduce(x, 0, torch.tensor([0, 0, 1, 2]), s, "prod")),
    # ---- the primitives of nn.functional: losses, normalization, embedding, dropout ----------
    Row("cross_entropy", lambda L, x, y: L.cross_entropy(x, y),
        [((4, 3), B([0, 2, 1, 0])), ((2, 5), B([4, 4])), ((1, 2), B([1]))]),
    Row("cross_entropy_probabilities", lambda L, x, t: L.cross_entropy(x, t),
        [((3, 4), (3, 4)), ((2, 2), (2, 2)), ((1, 5), (1, 5))]),
    Row("nll_loss", lambda L, x, y: L.nll_loss(x, y),
        [((3, 4), B([0, 3, 1])), ((2, 2), B([1, 0])), ((1, 3), B([2]))]),
    Row("mse_loss", lambda L, a, b: L.mse_loss(a, b), [((3,), (3,)), ((2, 3), (2, 3)),
                                                      ((1, 1), (1, 1))]),
    Row("l1_loss", lambda L, a, b: L.nn.functional.l1_loss(a, b), [((3,), (3,)),
        ((2, 3), (2, 3)), ((1, 1), (1, 1))], domain="distinct", smooth=False),
    Row("smooth_l1_loss", lambda L, a, b: L.nn.functional.smooth_l1_loss(a * 3, b, beta=0.7),
        [((3,), (3,)), ((2, 3), (2, 3)), ((1, 4), (1, 4))], domain="distinct", smooth=False),
    Row("huber_loss", lambda L, a, b: L.nn.functional.huber_loss(a * 3, b, delta=0.8),
        [((3,), (3,)), ((2, 3), (2, 3)), ((1, 4), (1, 4))], domain="distinct", smooth=False),
    # targets inside (0, 1): the finite differences step the target, which must stay in [0, 1]
    Row("binary_cross_entropy", lambda L, x, t: L.binary_cross_entropy(L.sigmoid(x), t),
        [((3,), B([0.2, 0.9, 0.5])), ((2, 2), B([[0.1, 0.9], [0.3, 0.7]])), ((1,), B([0.4]))]),
    # torch's top-level functions of these names take other arguments: use nn.functional's
    Row("binary_cross_entropy_with_logits",
        lambda L, x, t: L.binary_cross_entropy_with_logits(x, t),
        [((3,), B([0.2, 0.9, 0.5])), ((2, 2), B([[0.0, 1.0], [0.3, 0.7]])), ((1,), B([0.4]))],
        tfn=lambda L, x, t: torch.nn.functional.binary_cross_entropy_with_logits(x, t)),
    Row("binary_cross_entropy_with_logits_pos_weight",
        lambda L, x, t: L.binary_cross_entropy_with_logits(
            x, t, pos_weight=cr.tensor([1.0, 2.0, 0.5], dtype=cr.float64)),
        [((2, 3), B([[0.2, 0.9, 0.5], [1.0, 0.0, 0.3]]))],
        tfn=lambda L, x, t: torch.nn.functional.binary_cross_entropy_with_logits(
            x, t, pos_weight=torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64))),
    Row("embedding", lambda L, i, w: L.embedding(i, w),
        [(B([0, 2, 0]), (3, 2)), (B([[1, 1], [0, 2]]), (4, 3)), (B([1]), (2, 1))],
        tfn=lambda L, i, w: torch.nn.functional.embedding(i, w)),
    Row("layer_norm", lambda L, x, w, b: L.layer_norm(x, (x.shape[-1],), w, b),
        [((2, 3), (3,), (3,)), ((4,), (4,), (4,)), ((2, 2, 3), (3,), (3,))]),
    Row("batch_norm_training", lambda L, x, w, b: L.batch_norm(x, None, None, w, b,
                                                              training=True),
        [((4, 3), (3,), (3,)), ((3, 2, 2), (2,), (2,)), ((2, 2, 2, 2), (2,), (2,))],
        tfn=lambda L, x, w, b: torch.nn.functional.batch_norm(x, None, None, w, b,
                                                              training=True)),
    Row("scaled_dot_product_attention", lambda L, q, k, v: L.scaled_dot_product_attention(q, k, v),
        [((2, 3, 4), (2, 5, 4), (2, 5, 3)), ((1, 2, 2, 3), (1, 2, 4, 3), (1, 2, 4, 2)),
         ((3, 1, 2), (3, 1, 2), (3, 1, 1))]),
    Row("scaled_dot_product_attention_causal",
        lambda L, q, k, v: L.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.7),
        [((2, 4, 3), (2, 4, 3), (2, 4, 2)), ((1, 3, 2), (1, 5, 2), (1, 5, 2))]),
    Row("scaled_dot_product_attention_float_mask",
        lambda L, q, k, v, m: L.scaled_dot_product_attention(q, k, v, attn_mask=m),
        [((2, 3, 4), (2, 5, 4), (2, 5, 3), (3, 5)), ((1, 2, 2), (1, 2, 2), (1, 2, 2), (1, 2, 2))]),
    Row("lstm_layer", lambda L, *a: _lstm_layer(*a),
        [_lstm_shapes(3, 2, 2, 2), _lstm_shapes(1, 1, 3, 1), _lstm_shapes(2, 3, 1, 2)],
        tfn=lambda L, *a: _torch_lstm_layer(*a)),
    Row("lstm_layer_reverse_no_bias", lambda L, *a: _lstm_layer(*a, reverse=True),
        [_lstm_shapes(3, 2, 2, 2, bias=False), _lstm_shapes(2, 1, 1, 3, bias=False)],
        tfn=lambda L, *a: _torch_lstm_layer(*a, reverse=True)),
    Row("dropout", lambda L, x: _dropout(x), [((4,),), ((2, 3),), ((1, 2, 2),)],
        tfn=lambda L, x: x * torch.tensor(_dropout(cr.ones(*x.shape,
                                                           dtype=cr.float64)).detach().numpy())),
]


def _lstm_layer(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    from chainrule.nn.functional.recurrent import lstm_layer

    return lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=reverse)


def _torch_lstm_layer(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """The same layer written step by step in PyTorch: (T + 1, N, H), h_1..h_T then c_T."""
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    hs = {}
    for t in steps:
        gates = x[t] @ w_ih.T + h @ w_hh.T
        if b_ih is not None:
            gates = gates + b_ih + b_hh
        i, f, g, o = gates.chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = hs[t] = torch.sigmoid(o) * torch.tanh(c)
    return torch.stack([hs[t] for t in range(x.shape[0])] + [c])


def _dropout(x):
    """Dropout with a fixed mask (the seed is set on every call): a deterministic function."""
    cr.manual_seed(7)
    return cr.nn.functional.dropout(x, 0.5)


def _setitem(L, x, v, index):
    y = x.clone() * 1.0
    y[index] = v
    return y * y


def _setitem_const(L, x, m, value):
    y = x * 2.0
    y[m] = value
    return y.exp()


ROW_BY_NAME = {r.name: r for r in ROWS}
assert len(ROW_BY_NAME) == len(ROWS), "duplicate row names"


def _cases(pred=lambda r: True):
    return [pytest.param(r, i, id=f"{r.name}-{i}") for r in ROWS if pred(r)
            for i in range(len(r.cases))]


@pytest.mark.parametrize("row,case", _cases(lambda r: r.gradcheck))
def test_gradcheck(row, case):
    xs = make_inputs(_arrays(row, row.cases[case]), "cr")
    assert cr.gradcheck(lambda *a: row.fn(CR, *a), xs, **row.gc)


@pytest.mark.parametrize("row,case", _cases(lambda r: r.gradcheck and r.smooth))
def test_gradgradcheck(row, case):
    xs = make_inputs(_arrays(row, row.cases[case], seed=1), "cr")
    assert cr.gradgradcheck(lambda *a: row.fn(CR, *a), xs, **row.gc)


@pytest.mark.parametrize("row,case", _cases())
def test_torch_parity(row, case):
    check_parity(row.fn, _arrays(row, row.cases[case], seed=2), tfn=row.tfn, **row.tol)


# ---- the meta-test: every primitive has a row ---------------------------------------------


def _graph_ops(outputs) -> set:
    """(op, input shapes) of every node recorded behind ``outputs``."""
    seen, stack, found = set(), [o._node for o in outputs if o._node is not None], set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        found.add((node.op, tuple(t.shape for t in node.inputs)))
        stack.extend(t._node for t in node.inputs if t._node is not None)
    return found


def _ops_of_case(row: Row, case: int) -> set:
    """What one case records, in its forward and in its create_graph backward."""
    xs = make_inputs(_arrays(row, row.cases[case]), "cr")
    outs = [o for o in as_tuple(row.fn(CR, *xs)) if o.requires_grad]
    found = _graph_ops(outs)
    wrt = [x for x in xs if x.requires_grad]
    gs = cr.autograd.grad(outs, wrt, grad_outputs=[cr.ones_like(o) for o in outs],
                          create_graph=True, allow_unused=True)
    return found | _graph_ops([g for g in gs if g is not None and g.requires_grad])


@pytest.fixture(scope="module")
def recorded():
    """op -> the set of input-shape signatures it is gradchecked on, over all rows."""
    table: dict = {}
    for row in ROWS:
        if not row.gradcheck:
            continue
        for case in range(len(row.cases)):
            for op, shapes in _ops_of_case(row, case):
                table.setdefault(op, set()).add(shapes)
    return table


def _primitives():
    """Every op the registry holds (chainrule's own: a test may define more for a while)."""
    import chainrule.nn.functional  # noqa: F401  (its primitives register on import)

    return {op for op in all_ops() if op.__module__.startswith("chainrule.")}


def ops_without_rows(recorded, ops=None) -> list:
    """Registered ops that no row of the table gradchecks."""
    return sorted(op.__name__ for op in (ops if ops is not None else _primitives())
                  if op not in recorded)


def ops_on_too_few_shapes(recorded, ops=None) -> list:
    ops = ops if ops is not None else _primitives()
    return sorted(f"{op.__name__} ({len(recorded[op])})" for op in ops
                  if op in recorded and len(recorded[op]) < 3)


def test_every_op_has_a_row(recorded):
    missing = ops_without_rows(recorded)
    assert not missing, f"ops without a row in tests/test_ops.py: {missing}"


def test_every_op_is_checked_on_at_least_three_shapes(recorded):
    few = ops_on_too_few_shapes(recorded)
    assert not few, f"ops gradchecked on fewer than 3 input shapes: {few}"


# ---- numerical stability at extreme inputs ------------------------------------------------

STABLE = {
    "sigmoid": lambda L, x: L.sigmoid(x),
    "softplus": lambda L, x: L.softplus(x),
    "log_softmax": lambda L, x: L.log_softmax(x, -1),
    "logsumexp": lambda L, x: L.logsumexp(x, -1),
}


@pytest.mark.parametrize("name", sorted(STABLE))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_stable_at_extreme_inputs(name, dtype):
    fn = STABLE[name]
    data = np.array([[-1e4, 0.0, 1e4], [1e4, 1e4, -1e4], [-1e4, -1e4, -3.0]], dtype=dtype)
    x = cr.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    y, yt = fn(CR, x), fn(TH, xt)
    assert np.isfinite(y.detach().numpy()).all()
    y.sum().backward()
    yt.sum().backward()
    assert np.isfinite(x.grad.detach().numpy()).all()
    assert y.dtype == np.dtype(dtype) and x.grad.dtype == np.dtype(dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(x.grad.detach().numpy(), xt.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("fn", [cr.sign, lambda x: x ** 0, lambda x: x // 1.0])
def test_zero_gradient_is_zeros_not_none(fn):
    x = cr.tensor([0.5, -1.0], requires_grad=True)
    y = fn(x) + x * 0  # the second term keeps the graph alive even if fn records none
    y.sum().backward()
    assert x.grad is not None and x.grad.tolist() == [0.0, 0.0]


def test_floor_divide_matches_torch():
    for a, b in [([7, -7, 0], 2), ([7.5, -7.5], [2.0, -2.0]), ([[5, 6]], [[4], [-4]])]:
        got = cr.tensor(a) // (cr.tensor(b) if isinstance(b, list) else b)
        want = torch.tensor(a) // (torch.tensor(b) if isinstance(b, list) else b)
        np.testing.assert_array_equal(got.detach().numpy(), want.numpy())
        assert str(got.dtype) == str(want.dtype).replace("torch.", "")
    assert (7 // cr.tensor([2, -2])).tolist() == [3, -4]
    assert not (cr.tensor([1.0], requires_grad=True) // 1).requires_grad


def test_repeated_indices_accumulate_exactly():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[cr.tensor([0, 0, 2, 0])].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_torch_namespace_is_the_oracle():
    # A parity test is only worth something if the two sides are really different libraries.
    assert TH.exp is torch.exp and CR.exp is cr.exp


# These two rows ask for float64 on purpose (a float64 NumPy operand; an explicit .double()).
_WIDENING = {"matmul_rmatmul", "cast_roundtrip"}
# Dropout draws its mask in the input's dtype, so float32 and float64 masks differ;
# nan_to_num's default infinities are the dtype's own largest values.
_VALUES_DEPEND_ON_DTYPE = {"dropout", "nan_to_num_defaults"}


@pytest.mark.parametrize("row", [pytest.param(r, id=r.name) for r in ROWS
                                 if r.name not in _WIDENING])
def test_float32_stays_float32(row):
    """Every op keeps float32 inputs in float32, forward and backward, close to float64."""
    arrays = _arrays(row, row.cases[-1], seed=4)
    wide = make_inputs(arrays, "cr")
    narrow = [cr.tensor(a.astype(np.float32), requires_grad=True) if a.dtype == np.float64
              else cr.tensor(a) for a in arrays]
    outs64 = [o for o in as_tuple(row.fn(CR, *wide)) if o.dtype.kind == "f"]
    outs32 = [o for o in as_tuple(row.fn(CR, *narrow)) if o.dtype.kind == "f"]
    for o32, o64 in zip(outs32, outs64):
        assert o32.dtype == np.float32, f"{row.name}: output is {o32.dtype}"
        if row.name not in _VALUES_DEPEND_ON_DTYPE:
            np.testing.assert_allclose(o32.detach().numpy(), o64.detach().numpy(), rtol=1e-4,
                                       atol=1e-5)
    diff = [o for o in outs32 if o.requires_grad]
    if not diff:
        return
    sum(o.sum() for o in diff).backward()
    for t in narrow:
        if t.requires_grad and t.grad is not None:
            assert t.grad.dtype == np.float32, f"{row.name}: gradient is {t.grad.dtype}"


@pytest.mark.parametrize("fn", [
    lambda L, a, b: L.maximum(a, b), lambda L, a, b: L.minimum(a, b),
    lambda L, a, b: L.where(a > b, a, b), lambda L, a, b: L.sign(a) + b,
])
def test_unselected_entries_get_exact_zeros_even_for_infinite_upstream(fn):
    data = [np.array([1.0, 5.0, 2.0]), np.array([2.0, 3.0, 2.0])]
    upstream = np.array([np.inf, 1.0, 2.0])
    got = [cr.tensor(d, requires_grad=True) for d in data]
    want = [torch.tensor(d, requires_grad=True) for d in data]
    fn(CR, *got).backward(cr.tensor(upstream))
    fn(TH, *want).backward(torch.tensor(upstream))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.grad.detach().numpy(), w.grad.numpy())


@pytest.mark.parametrize("x", [np.float32(2.0), np.ones((), np.float32), np.ones((1,), np.float64),
                               np.ones((1, 1, 1, 1, 1, 1, 1), np.float32)],
                         ids=["numpy_scalar", "0d", "1d", "7d"])
def test_like_one_keeps_shape_and_dtype(x):
    from chainrule.ops._util import like_one

    before = np.array(x, copy=True)
    out = like_one(x, 1.0 / 3.0)
    assert out.shape == np.shape(x) and out.dtype == x.dtype
    assert out.reshape(-1)[0] == x.dtype.type(1.0 / 3.0)
    np.testing.assert_array_equal(x, before)  # a new array: the input is untouched


@pytest.mark.parametrize("shape", [(1023,), (32, 256), (16384,), (16385,), (3, 16384 + 7),
                                   (2, 3, 40, 41)])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_relu_zero_block_path_matches_torch(shape, dtype):
    """Large float arrays take the zero-block ``maximum`` (block rows plus a tail): the values,
    NaNs and infinities must be torch's, and the input must be left alone."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    flat[:4] = [np.nan, np.inf, -np.inf, 0.0]
    flat[-1] = np.nan
    before = x.copy()
    got = CR.relu(cr.tensor(x)).detach().numpy()
    want = torch.relu(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(got, want)
    assert got.dtype == dtype and got.shape == shape
    np.testing.assert_array_equal(x, before)
    # a non-contiguous view goes through the plain path with the same result
    view = x[..., ::2]
    np.testing.assert_array_equal(CR.relu(cr.tensor(view)).detach().numpy(), np.maximum(view, 0))


def test_scatter_prod_zeros_first_order_gradcheck():
    """scatter_reduce(prod) with zeros in a group: exact first derivatives (finite differences);
    its second derivative there is refused with a clear error."""
    index = cr.tensor([0, 0, 1, 2, 1])
    for x, s in [([0.0, 2.0, 0.0], [1.5, -2.0, 0.0, 0.0, 3.0]),
                 ([3.0, 2.0, 1.0], [0.0, -2.0, 1.5, 4.0, 0.0])]:
        xs = [cr.tensor(x, dtype=cr.float64, requires_grad=True),
              cr.tensor(s, dtype=cr.float64, requires_grad=True)]
        assert cr.gradcheck(lambda a, b: cr.scatter_reduce(a, 0, index, b, "prod"), xs)
        with pytest.raises(NotImplementedError, match="scatter_reduce.*prod.*zero"):
            cr.gradgradcheck(lambda a, b: cr.scatter_reduce(a, 0, index, b, "prod"), xs)
