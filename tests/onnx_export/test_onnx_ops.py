"""Every op and layer export maps, exported and run by onnxruntime at two batch sizes.

Each case names the ops (the registry's names) or layers it covers; the meta-test fails until
every mapping has a case whose traced forward pass really records it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from onnx_check import Fn, op_types, roundtrip, traced_ops

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.onnx import _layers


def r(*shape):
    return cr.randn(*shape)


def pos(*shape):
    return cr.randn(*shape).abs() + 0.1


@dataclass
class Case:
    id: str
    model: object  # a Module, or a function of the inputs
    inputs: object  # () -> tuple of the example inputs
    others: object  # () -> tuple of inputs at another batch size
    covers: tuple  # op and layer names the case exercises
    onnx: tuple = ()  # ONNX op types the graph must use
    dynamic: dict | None = None  # None: axis 0 of every input
    opsets: tuple = (17, 21)

    def module(self):
        return self.model if isinstance(self.model, nn.Module) else Fn(self.model)


def unary(name, fn, onnx=(), positive=False, covers=None):
    make = pos if positive else r
    return Case(name, fn, lambda: (make(2, 3, 4),), lambda: (make(5, 3, 4),),
                (name,) if covers is None else covers, onnx)


MASK = cr.tensor([[True, False, True, False]])
CASES = [
    # elementwise
    Case("add_sub_mul_div", lambda x, y: (x + y) * (x - 0.5) / (y.abs() + 1),
         lambda: (r(2, 4), r(2, 4)), lambda: (r(3, 4), r(3, 4)), ("add", "sub", "mul", "div")),
    Case("broadcast_binary", lambda x, y: x * y + x, lambda: (r(2, 3, 4), r(4)),
         lambda: (r(5, 3, 4), r(4)), ("mul", "add"), dynamic={"x0": {0: "batch"}}),
    unary("neg", lambda x: -x, ("Neg",)),
    unary("exp", cr.exp, ("Exp",)),
    unary("log", cr.log, ("Log",), positive=True),
    unary("sqrt", cr.sqrt, ("Sqrt",), positive=True),
    unary("abs", cr.abs, ("Abs",)),
    unary("sign", cr.sign, ("Sign",)),
    unary("sin", cr.sin, ("Sin",)),
    unary("cos", cr.cos, ("Cos",)),
    unary("tanh", nn.Tanh(), ("Tanh",)),
    unary("sigmoid", nn.Sigmoid(), ("Sigmoid",)),
    unary("relu", nn.ReLU(), ("Relu",)),
    unary("erf", cr.erf, ("Erf",)),
    unary("floor", lambda x: cr.floor(x * 3), ("Floor",)),
    unary("ceil", lambda x: cr.ceil(x * 3), ("Ceil",)),
    unary("trunc", lambda x: cr.trunc(x * 3)),
    unary("frac", lambda x: cr.frac(x * 3)),
    unary("round", lambda x: cr.round(x * 3) + cr.round(x, decimals=2), ("Round",)),
    unary("clone", lambda x: x.clone() * 2),
    unary("log1p", lambda x: cr.log1p(x) + cr.log1p(x * 1e-6) * 1e6, positive=True),
    unary("expm1", lambda x: cr.expm1(x) + cr.expm1(x * 1e-6) * 1e6),
    unary("leaky_relu", nn.LeakyReLU(0.1), ("LeakyRelu",)),
    unary("elu", nn.ELU(0.7), ("Elu",)),
    unary("softplus", lambda x: F.softplus(x * 10, beta=2.0, threshold=5.0) + F.softplus(x),
          ("Softplus",)),
    unary("silu", nn.SiLU()),
    unary("gelu", lambda x: F.gelu(x) + F.gelu(x * 2, approximate="tanh")),
    unary("clamp", lambda x: x.clamp(-0.5, 0.7) + x.clamp(min=0.1) + x.clamp(max=0.2),
          ("Clip",)),
    unary("pow_scalar", lambda x: x ** 2 + x ** 3 + x.abs() ** 0.5),
    unary("cast", lambda x: x.double().float() + x.to(cr.float16).float(), ("Cast",)),
    Case("pow", lambda x, y: x ** y, lambda: (pos(2, 4), r(2, 4)), lambda: (pos(3, 4), r(3, 4)),
         ("pow",), ("Pow",)),
    Case("maximum_minimum", lambda x, y: cr.maximum(x, y) - cr.minimum(x, y),
         lambda: (r(2, 4), r(2, 4)), lambda: (r(3, 4), r(3, 4)), ("maximum", "minimum"),
         ("Max", "Min")),
    Case("where", lambda x, y: cr.where(MASK, x, y) + x.masked_fill(MASK, -1.0),
         lambda: (r(2, 4), r(2, 4)), lambda: (r(3, 4), r(3, 4)), ("where",), ("Where",)),
    unary("compare", lambda x: cr.where((x > 0) & (x < 1) | ~(x == 0.5), x, -x) + x.masked_fill(
        (x >= 0.2) ^ (x <= -0.2), 0.0) * (x != 0.1).float() + cr.gt(x, 0.3).float(),
          ("Greater", "Less", "Equal", "And", "Or", "Xor", "Not"),
          covers=("gt", "lt", "ge", "le", "eq", "ne", "logical_and", "logical_or", "logical_xor",
                  "logical_not", "where", "cast")),
    unary("logical_functions", lambda x: cr.logical_and(x, x > 0).float() + cr.logical_or(
        x > 1, x < -1).float() - cr.logical_xor(x, x > 0).float() + cr.logical_not(x).float(),
          covers=("logical_and", "logical_or", "logical_xor", "logical_not")),
    Case("integer_ops", lambda i: ((i & 3) | (i ^ 1)) + ~i * 2 + (i % 3),
         lambda: (cr.tensor([[1, 5, 9], [2, 7, 4]]),),
         lambda: (cr.tensor([[1, 5, 9], [2, 7, 4], [0, 3, 8]]),),
         ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "remainder", "mul", "add"),
         ("BitwiseAnd", "BitwiseNot"), opsets=(18, 21)),
    Case("compare_integers_with_floats", lambda i, x: x.masked_fill(i > 1.5, 0.0) + (
        i == np.array([2, 3, 4])).float(), lambda: (cr.tensor([[1, 2, 3], [2, 5, 0]]), r(2, 3)),
         lambda: (cr.tensor([[1, 2, 3], [2, 5, 0], [4, 4, 1]]), r(3, 3)), ("gt", "eq")),
    Case("remainder_fmod", lambda x: cr.remainder(x * 5, 0.7) + cr.fmod(x * 5, 0.7),
         lambda: (r(2, 4),), lambda: (r(3, 4),), ("remainder", "fmod")),
    Case("hypot", cr.hypot, lambda: (r(2, 4), r(2, 4)), lambda: (r(3, 4), r(3, 4)), ("hypot",)),
    # activations as layers
    unary("softmax", nn.Softmax(dim=-1), ("Softmax",)),
    unary("log_softmax", nn.LogSoftmax(dim=1), ("LogSoftmax",)),
    unary("mish_hardswish", lambda x: F.mish(x) + F.hardswish(x) + F.hardsigmoid(x),
          covers=("softplus", "maximum", "minimum")),
    Case("Hardtanh", nn.Hardtanh(-0.5, 0.5), lambda: (r(2, 6),), lambda: (r(3, 6),),
         ("Hardtanh",), ("Clip",)),
    Case("ReLU6", nn.ReLU6(), lambda: (r(2, 6) * 5,), lambda: (r(3, 6) * 5,), ("ReLU6",),
         ("Clip",)),
    # matrix products
    Case("linear", nn.Linear(4, 3), lambda: (r(2, 4),), lambda: (r(5, 4),), ("linear",),
         ("Gemm",)),
    Case("linear_3d", nn.Linear(4, 3, bias=False), lambda: (r(2, 5, 4),),
         lambda: (r(3, 5, 4),), ("linear",), ("MatMul",)),
    Case("matmul", lambda x, y: x @ y, lambda: (r(2, 3, 4), r(2, 4, 5)),
         lambda: (r(3, 3, 4), r(3, 4, 5)), ("matmul",), ("MatMul",)),
    Case("einsum", lambda x, y: cr.einsum("bij,bjk->bik", x, y), lambda: (r(2, 3, 4), r(2, 4, 5)),
         lambda: (r(3, 3, 4), r(3, 4, 5)), ("einsum",), ("Einsum",)),
    # reductions
    unary("sum_mean", lambda x: x.sum(1) + x.mean((1, 2), keepdim=True).squeeze(2) + x.sum(),
          covers=("sum", "mean")),
    Case("sum", lambda x: x.sum(-1), lambda: (r(2, 3, 4),), lambda: (r(5, 3, 4),), ("sum",),
         ("ReduceSum",)),
    Case("mean", lambda x: x.mean(1), lambda: (r(2, 3, 4),), lambda: (r(5, 3, 4),), ("mean",),
         ("ReduceMean",)),
    unary("var_std", lambda x: x.var(1) + x.std(1, correction=0), covers=("var", "std")),
    Case("var", lambda x: x.var((1, 2), keepdim=True), lambda: (r(2, 3, 4),),
         lambda: (r(5, 3, 4),), ("var",)),
    Case("std", lambda x: x.std(2), lambda: (r(2, 3, 4),), lambda: (r(5, 3, 4),), ("std",)),
    unary("amax_amin", lambda x: cr.amax(x, 1) - cr.amin(x, (1, 2)).unsqueeze(1),
          covers=("amax", "amin")),
    Case("amax", lambda x: cr.amax(x, -1), lambda: (r(2, 3, 4),), lambda: (r(5, 3, 4),),
         ("amax",), ("ReduceMax",)),
    Case("amin", lambda x: cr.amin(x, 1), lambda: (r(2, 3, 4),), lambda: (r(5, 3, 4),),
         ("amin",), ("ReduceMin",)),
    unary("max_dim", lambda x: x.max(dim=1).values + x.min(1, keepdim=True)[0].squeeze(1)),
    unary("prod", lambda x: x.prod(1), ("ReduceProd",)),
    unary("logsumexp", lambda x: cr.logsumexp(x, 2), ("ReduceLogSumExp",)),
    unary("cumsum", lambda x: x.cumsum(1), ("CumSum",)),
    unary("vector_norm", lambda x: cr.linalg.vector_norm(x, 2, dim=1) + cr.linalg.vector_norm(
        x, 1, dim=1) + cr.linalg.vector_norm(x, math.inf, dim=1) + cr.linalg.vector_norm(
        x, 3, dim=1) + cr.linalg.vector_norm(x, -math.inf, dim=1)),
    unary("normalize_l2", lambda x: F.normalize(x, dim=1), covers=("vector_norm", "clamp", "div")),
    # shapes and indexing
    Case("reshape_flatten", nn.Sequential(nn.Flatten(), nn.Linear(12, 2)), lambda: (r(2, 3, 4),),
         lambda: (r(5, 3, 4),), ("reshape",), ("Reshape",)),
    unary("reshape_view", lambda x: x.reshape(x.shape[0], 2, 6).view(-1, 3, 4) + x.reshape(-1, 12)
          .reshape(x.shape), covers=("reshape",)),
    unary("permute", lambda x: x.permute(2, 0, 1) + x.transpose(0, 2).transpose(1, 2),
          ("Transpose",)),
    Case("broadcast_to", lambda x: x.expand(x.shape[0], 3, 4) * 2, lambda: (r(2, 1, 4),),
         lambda: (r(5, 1, 4),), ("broadcast_to",), ("Expand",)),
    unary("flip", lambda x: x.flip(1) + x.flip((0, 2))),
    Case("cat", lambda x, y: cr.cat([x, y, x], 1), lambda: (r(2, 3), r(2, 4)),
         lambda: (r(5, 3), r(5, 4)), ("cat",), ("Concat",)),
    unary("stack", lambda x: cr.stack([x, x * 2], 1)),
    unary("pad", lambda x: F.pad(x, (1, 2)) + 0 * F.pad(x, (0, 0, 2, 1), value=3.0)[:, 2:-1, 1:-2]
          .sum() + F.pad(x, (1, 2), value=-1.5), ("Pad",)),
    unary("get_item", lambda x: x[:, 1:3, ::2] + x[:, -1:, 1::2] * x[..., 0:1].mean() +
          x[:, 0, None, :2].unsqueeze(2).squeeze(2), ("Slice", "Gather")),
    unary("get_item_negative_step", lambda x: x[:, ::-1, :] + x[:, -1].unsqueeze(1),
          covers=("get_item",)),
    unary("get_item_array", lambda x: x[:, [2, 0]] + x[:, [0, 1]], covers=("get_item",)),
    unary("split_chunk", lambda x: sum(x.split(1, dim=1)) + sum(x.chunk(2, dim=2)).sum(
        2, keepdim=True), covers=("get_item",)),
    # convolution and pooling
    Case("conv2d_op", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
         lambda: (r(2, 3, 8, 8), r(4, 3, 3, 3), r(4)), lambda: (r(3, 3, 8, 8), r(4, 3, 3, 3),
                                                              r(4)),
         ("conv2d",), ("Conv",), dynamic={"x0": {0: "batch"}}),
    Case("Conv2d", nn.Conv2d(3, 4, 3, stride=2, padding=1), lambda: (r(2, 3, 9, 9),),
         lambda: (r(3, 3, 9, 9),), ("Conv2d",), ("Conv",)),
    Case("Conv2d_groups_dilation", nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2),
         lambda: (r(2, 4, 8, 7),), lambda: (r(3, 4, 8, 7),), ("Conv2d",), ("Conv",)),
    Case("Conv2d_same", nn.Conv2d(3, 4, (4, 3), padding="same", bias=False),
         lambda: (r(2, 3, 8, 8),), lambda: (r(3, 3, 8, 8),), ("Conv2d",), ("Conv",)),
    Case("Conv1d", nn.Conv1d(3, 4, 3, stride=2, padding=1, dilation=2),
         lambda: (r(2, 3, 11),), lambda: (r(3, 3, 11),), ("Conv1d",), ("Conv",)),
    Case("Conv1d_groups", nn.Conv1d(4, 8, 3, groups=4, padding="valid"),
         lambda: (r(2, 4, 11),), lambda: (r(3, 4, 11),), ("Conv1d",), ("Conv",)),
    Case("Conv2d_reflect", nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"),
         lambda: (r(2, 3, 6, 6),), lambda: (r(3, 3, 6, 6),), ("conv2d",), ("Conv",)),
    Case("unfold", nn.Unfold(2, stride=2), lambda: (r(2, 3, 6, 6),), lambda: (r(3, 3, 6, 6),),
         ("unfold",), ("Conv",)),
    Case("max_pool2d", nn.MaxPool2d(3, 2, padding=1), lambda: (r(2, 3, 8, 8),),
         lambda: (r(3, 3, 8, 8),), ("max_pool2d",), ("MaxPool",)),
    Case("max_pool2d_ceil", nn.MaxPool2d(3, 2, ceil_mode=True), lambda: (r(2, 3, 8, 8),),
         lambda: (r(3, 3, 8, 8),), ("max_pool2d",), ("MaxPool",)),
    Case("max_pool1d", nn.MaxPool1d(2), lambda: (r(2, 3, 9),), lambda: (r(3, 3, 9),),
         ("max_pool2d",), ("MaxPool",)),
    Case("AvgPool2d", nn.AvgPool2d(2, padding=1), lambda: (r(2, 3, 8, 8),),
         lambda: (r(3, 3, 8, 8),), ("AvgPool2d",), ("AveragePool",)),
    Case("AvgPool2d_no_pad_count", nn.AvgPool2d(3, 2, padding=1, count_include_pad=False),
         lambda: (r(2, 3, 8, 8),), lambda: (r(3, 3, 8, 8),), ("AvgPool2d",), ("AveragePool",)),
    Case("AvgPool2d_ceil", nn.AvgPool2d(3, 2, ceil_mode=True), lambda: (r(2, 3, 8, 8),),
         lambda: (r(3, 3, 8, 8),), ("unfold", "mean")),
    Case("AvgPool1d", nn.AvgPool1d(3, 2), lambda: (r(2, 3, 9),), lambda: (r(3, 3, 9),),
         ("AvgPool1d",), ("AveragePool",)),
    Case("AdaptiveAvgPool2d", nn.AdaptiveAvgPool2d(1), lambda: (r(2, 3, 5, 6),),
         lambda: (r(3, 3, 5, 6),), ("AdaptiveAvgPool2d",), ("GlobalAveragePool",)),
    Case("AdaptiveAvgPool2d_2", nn.AdaptiveAvgPool2d(2), lambda: (r(2, 3, 6, 6),),
         lambda: (r(3, 3, 6, 6),), ("mean", "reshape")),
    Case("AdaptiveAvgPool1d", nn.AdaptiveAvgPool1d(1), lambda: (r(2, 3, 7),),
         lambda: (r(3, 3, 7),), ("AdaptiveAvgPool1d",), ("GlobalAveragePool",)),
    # normalization, dropout, embedding
    Case("BatchNorm2d", nn.BatchNorm2d(3), lambda: (r(2, 3, 4, 4),), lambda: (r(3, 3, 4, 4),),
         ("BatchNorm2d",), ("BatchNormalization",)),
    Case("BatchNorm1d", nn.BatchNorm1d(3, affine=False), lambda: (r(2, 3),), lambda: (r(3, 3),),
         ("BatchNorm1d",), ("BatchNormalization",)),
    Case("BatchNorm1d_3d", nn.BatchNorm1d(3), lambda: (r(2, 3, 5),), lambda: (r(4, 3, 5),),
         ("BatchNorm1d",), ("BatchNormalization",)),
    Case("LayerNorm", nn.LayerNorm((3, 4)), lambda: (r(2, 3, 4),), lambda: (r(5, 3, 4),),
         ("normalize",), ("LayerNormalization",)),
    Case("LayerNorm_no_affine", nn.LayerNorm(4, elementwise_affine=False), lambda: (r(2, 3, 4),),
         lambda: (r(5, 3, 4),), ("normalize",), ("LayerNormalization",)),
    Case("GroupNorm", nn.GroupNorm(2, 4), lambda: (r(2, 4, 3, 3),), lambda: (r(3, 4, 3, 3),),
         ("normalize",)),
    Case("instance_norm", lambda x: F.instance_norm(x), lambda: (r(2, 4, 3, 3),),
         lambda: (r(3, 4, 3, 3),), ("normalize",)),
    Case("Dropout", nn.Sequential(nn.Dropout(0.5), nn.Linear(4, 2)), lambda: (r(2, 4),),
         lambda: (r(3, 4),), ("linear",)),
    Case("embedding", nn.Embedding(10, 4), lambda: (cr.tensor([[1, 2, 3], [9, 0, 3]]),),
         lambda: (cr.tensor([[1, 2, 3], [9, 0, 3], [4, 4, 4]]),), ("embedding",), ("Gather",)),
    # attention and transformers
    Case("attention", lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
         lambda: (r(2, 2, 5, 4), r(2, 2, 6, 4), r(2, 2, 6, 4)),
         lambda: (r(3, 2, 5, 4), r(3, 2, 6, 4), r(3, 2, 6, 4)), ("attention",), ("Softmax",)),
    Case("attention_causal_dynamic_length",
         lambda q: F.scaled_dot_product_attention(q, q, q, is_causal=True),
         lambda: (r(2, 2, 5, 4),), lambda: (r(3, 2, 7, 4),), ("attention",), ("Trilu",),
         dynamic={"x0": {0: "batch", 2: "time"}}),
    Case("attention_causal", lambda q: F.scaled_dot_product_attention(q, q, q, is_causal=True),
         lambda: (r(2, 5, 4),), lambda: (r(3, 5, 4),), ("attention",)),
    Case("attention_mask", lambda q: F.scaled_dot_product_attention(
        q, q, q, attn_mask=cr.tensor([[0.0, -1.0, 0.5, -math.inf, 0.0]] * 5)),
         lambda: (r(2, 5, 4),), lambda: (r(3, 5, 4),), ("attention",)),
    Case("MultiheadAttention", nn.MultiheadAttention(8, 2, batch_first=True),
         lambda: (r(2, 5, 8), r(2, 6, 8), r(2, 6, 8)),
         lambda: (r(3, 5, 8), r(3, 6, 8), r(3, 6, 8)), ("linear", "softmax")),
    Case("TransformerEncoderLayer", nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
         lambda: (r(2, 5, 8),), lambda: (r(3, 7, 8),), ("attention", "normalize"),
         ("LayerNormalization",), dynamic={"x0": {0: "batch", 1: "time"}}),
    Case("TransformerEncoderLayer_gelu_norm_first",
         nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", norm_first=True),
         lambda: (r(5, 2, 8),), lambda: (r(5, 3, 8),), ("attention", "gelu"),
         dynamic={"x0": {1: "batch"}}),
    # recurrent layers
    Case("LSTM", nn.LSTM(4, 6, batch_first=True), lambda: (r(2, 5, 4),),
         lambda: (r(3, 7, 4),), ("LSTM",), ("LSTM",), dynamic={"x0": {0: "batch", 1: "time"}}),
    Case("LSTM_2_layers_bidirectional_states", nn.LSTM(4, 6, num_layers=2, bidirectional=True),
         lambda: (r(5, 2, 4), (r(4, 2, 6), r(4, 2, 6))),
         lambda: (r(5, 3, 4), (r(4, 3, 6), r(4, 3, 6))), ("LSTM",), ("LSTM",),
         dynamic={"x0": {1: "batch"}, "x1": {1: "batch"}, "x2": {1: "batch"}}),
    Case("LSTM_unbatched", nn.LSTM(4, 6), lambda: (r(5, 4),), lambda: (r(8, 4),), ("LSTM",),
         ("LSTM",)),
    Case("GRU", nn.GRU(4, 6, batch_first=True), lambda: (r(2, 5, 4),), lambda: (r(3, 7, 4),),
         ("GRU",), ("GRU",), dynamic={"x0": {0: "batch", 1: "time"}}),
    Case("GRU_2_layers_bidirectional", nn.GRU(4, 6, num_layers=2, bidirectional=True),
         lambda: (r(5, 2, 4), r(4, 2, 6)), lambda: (r(5, 3, 4), r(4, 3, 6)), ("GRU",), ("GRU",),
         dynamic={"x0": {1: "batch"}, "x1": {1: "batch"}}),
    Case("RNN", nn.RNN(4, 6), lambda: (r(5, 2, 4),), lambda: (r(5, 3, 4),), ("RNN",), ("RNN",),
         dynamic={"x0": {1: "batch"}}),
    Case("RNN_relu_2_layers_bidirectional",
         nn.RNN(4, 6, num_layers=2, nonlinearity="relu", bidirectional=True, bias=False),
         lambda: (r(2, 5, 4),), lambda: (r(3, 5, 4),), ("RNN",), ("RNN",)),
]


def _flat_inputs(xs):
    out = []
    for x in xs:
        out.extend(x if isinstance(x, tuple) else (x,))
    return tuple(out)


class _Flat(nn.Module):
    """Inputs given as a flat tuple; an LSTM's (h0, c0) rebuilt as its pair."""

    def __init__(self, inner, pair_from: int | None) -> None:
        super().__init__()
        self.inner, self.pair_from = inner, pair_from

    def forward(self, *xs):
        if self.pair_from is None:
            return self.inner(*xs)
        k = self.pair_from
        return self.inner(*xs[:k], (xs[k], xs[k + 1]))


def _prepare(case: Case):
    model = case.module()
    xs, others = case.inputs(), case.others()
    pair_from = next((i for i, x in enumerate(xs) if isinstance(x, tuple)), None)
    if pair_from is not None:
        model = _Flat(model, pair_from)
    xs, others = _flat_inputs(xs), _flat_inputs(others)
    dynamic = case.dynamic if case.dynamic is not None else {
        f"x{i}": {0: "batch"} for i in range(len(xs))}
    for m in model.modules():  # batch norm with statistics that are not the defaults
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.copy_(cr.randn(m.num_features) * 0.1)
            m.running_var.copy_(cr.rand(m.num_features) + 0.5)
    return model, xs, others, dynamic


@pytest.mark.parametrize("opset", [17, 21])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_export_matches_onnxruntime(case, opset):
    opset = max(opset, case.opsets[0])
    model, xs, others, dynamic = _prepare(case)
    proto = roundtrip(model, xs, dynamic=dynamic, others=(others,), opset=opset)
    assert set(case.onnx) <= op_types(proto), sorted(op_types(proto))


@pytest.mark.parametrize("opset", [18, 19, 20])
@pytest.mark.parametrize("case", [c for c in CASES if c.id in (
    "sum_mean", "var_std", "amax_amin", "max_dim", "prod", "logsumexp", "vector_norm", "gelu",
    "LayerNorm", "GroupNorm", "pad", "TransformerEncoderLayer")], ids=lambda c: c.id)
def test_opset_dependent_mappings(case, opset):
    model, xs, others, dynamic = _prepare(case)
    roundtrip(model, xs, dynamic=dynamic, others=(others,), opset=opset)


def test_every_mapping_has_a_case_that_records_it():
    """Meta-test: each op with a mapping and each layer exported whole is exercised."""
    recorded = set()
    for case in CASES:
        model, xs, _, _ = _prepare(case)
        seen = traced_ops(model, xs)
        missing = set(case.covers) - seen
        assert not missing, f"{case.id} claims {sorted(missing)} but records {sorted(seen)}"
        recorded |= seen
    layers = {cls.__name__ for cls in _layers.LAYERS}
    assert not (set(cr.onnx.supported_ops()) | layers) - recorded


def test_export_maps_every_public_activation_layer():
    """The activation layers of ``nn`` that PyTorch exports export here too."""
    layers = [nn.ReLU(), nn.GELU(), nn.GELU("tanh"), nn.Sigmoid(), nn.Tanh(), nn.SiLU(),
              nn.Softmax(1), nn.LogSoftmax(1), nn.LeakyReLU(), nn.ELU(), nn.Softplus(),
              nn.Mish(), nn.Hardswish(), nn.Hardsigmoid(), nn.Hardtanh(), nn.ReLU6(),
              nn.Softsign(), nn.Tanhshrink(), nn.SELU(), nn.CELU(), nn.LogSigmoid(),
              nn.PReLU(), nn.Identity()]
    for layer in layers:
        roundtrip(layer, r(2, 5) * 3, dynamic={"x0": {0: "batch"}}, others=(r(4, 5) * 3,))


def test_constant_folding_off_keeps_the_weight_ops():
    model = nn.MultiheadAttention(8, 2, batch_first=True)
    q = r(2, 5, 8)
    folded = roundtrip(Fn(lambda x: model(x, x, x)[0]), q)
    kept = roundtrip(Fn(lambda x: model(x, x, x)[0]), q, do_constant_folding=False)
    assert len(kept.graph.node) > len(folded.graph.node)
