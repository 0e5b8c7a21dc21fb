"""Whole models exported and run by onnxruntime: MLP, convnet with batch norm, GPT-style
transformer, LSTM tagger, GRU classifier; at the example's batch size and at others."""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx_check import op_types, roundtrip

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F


def _train_a_little(model, x, y, steps=3):
    """A few optimizer steps, so that weights and batch-norm statistics are not the initial
    ones."""
    opt = cr.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()


def test_mlp():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(32, 10))
    _train_a_little(model, cr.randn(16, 1, 28, 28), cr.randint(0, 10, (16,)))
    proto = roundtrip(model, cr.randn(4, 1, 28, 28), names=["image"],
                      dynamic={"image": {0: "batch"}}, others=(cr.randn(1, 1, 28, 28),
                                                               cr.randn(7, 1, 28, 28)))
    assert op_types(proto) == {"Reshape", "Gemm", "Relu"}
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [1, 28, 28]
    out = proto.graph.output[0].type.tensor_type.shape.dim
    assert out[0].dim_param == "batch" and out[1].dim_value == 10


class ConvNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1, groups=2), nn.BatchNorm2d(16), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(16, 10))

    def forward(self, x):
        return F.log_softmax(self.head(self.features(x)), dim=1)


def test_convnet_with_batch_norm_exports_its_eval_statistics():
    model = ConvNet()
    _train_a_little(model, cr.randn(8, 1, 12, 12), cr.randint(0, 10, (8,)))
    bn = model.features[1]
    stats = (bn.running_mean.detach().numpy().copy(), bn.running_var.detach().numpy().copy())
    assert not np.allclose(stats[0], 0)  # trained: the statistics are not the initial ones
    weights = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    proto = roundtrip(model, cr.randn(2, 1, 12, 12), dynamic={"x0": {0: "batch"}},
                      others=(cr.randn(5, 1, 12, 12),))
    assert {"Conv", "BatchNormalization", "MaxPool", "GlobalAveragePool", "Gemm",
            "LogSoftmax"} <= op_types(proto)
    assert model.training and bn.training  # export ran in eval mode and put the modes back
    np.testing.assert_array_equal(bn.running_mean.detach().numpy(), stats[0])
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.detach().numpy(), weights[k])
    # the parameters are initializers under their state-dict names
    inits = {i.name for i in proto.graph.initializer}
    assert {"features.0.weight", "features.1.running_mean", "head.2.bias"} <= inits


class CausalSelfAttention(nn.Module):
    """nanoGPT's attention: the mask a buffer, masked_fill with -inf, softmax, dropout."""

    def __init__(self, n_embd, n_head, block_size, fused=False) -> None:
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.attn_dropout, self.resid_dropout = nn.Dropout(0.1), nn.Dropout(0.1)
        self.n_head, self.n_embd, self.fused = n_head, n_embd, fused
        self.register_buffer("bias", cr.tril(cr.ones(block_size, block_size))
                             .view(1, 1, block_size, block_size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        if self.fused:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = self.attn_dropout(F.softmax(att, dim=-1))
            y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class Block(nn.Module):
    def __init__(self, n_embd, n_head, block_size, fused) -> None:
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, block_size, fused)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(),
                                 nn.Linear(4 * n_embd, n_embd), nn.Dropout(0.1))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab=20, n_embd=16, n_head=2, block_size=8, n_layer=2,
                 fused=False) -> None:
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, n_embd), nn.Embedding(block_size, n_embd)
        self.blocks = nn.ModuleList([Block(n_embd, n_head, block_size, fused)
                                     for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying, as nanoGPT

    def forward(self, idx):
        t = idx.size(1)
        pos = cr.arange(0, t, dtype=cr.long)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.blocks:
            x = block(x)
        return self.lm_head(self.ln_f(x))


def test_gpt_style_transformer():
    model = GPT()
    tokens = cr.randint(0, 20, (2, 6))
    proto = roundtrip(model, tokens, names=["idx"], dynamic={"idx": {0: "batch"}},
                      others=(cr.randint(0, 20, (3, 6)), cr.randint(0, 20, (1, 6))))
    assert {"Gather", "LayerNormalization", "MatMul", "Softmax", "Where"} <= op_types(proto)
    # the tied weight is one initializer, read by the embedding and the head
    assert [i.name for i in proto.graph.initializer].count("wte.weight") == 1


def test_gpt_style_transformer_with_fused_attention_at_opset_21():
    model = GPT(fused=True)
    proto = roundtrip(model, cr.randint(0, 20, (2, 5)), names=["idx"],
                      dynamic={"idx": {0: "batch"}}, others=(cr.randint(0, 20, (4, 5)),),
                      opset=21)
    assert "Gelu" in op_types(proto)


class LSTMTagger(nn.Module):
    def __init__(self, vocab=30, tags=5) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, 8)
        self.lstm = nn.LSTM(8, 12, batch_first=True, bidirectional=True)
        self.tag = nn.Linear(24, tags)

    def forward(self, words):
        out, _ = self.lstm(self.embed(words))
        return F.log_softmax(self.tag(out), dim=-1)


def test_lstm_tagger_any_batch_and_length():
    model = LSTMTagger()
    proto = roundtrip(model, cr.randint(0, 30, (2, 7)), names=["words"],
                      dynamic={"words": {0: "batch", 1: "length"}},
                      others=(cr.randint(0, 30, (3, 4)), cr.randint(0, 30, (1, 11))))
    assert "LSTM" in op_types(proto)
    lstm = next(n for n in proto.graph.node if n.op_type == "LSTM")
    assert {a.name: onnx.helper.get_attribute_value(a) for a in lstm.attribute}[
        "direction"] == b"bidirectional"
    dims = proto.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims[:2]] == ["batch", "length"]


class GRUClassifier(nn.Module):
    def __init__(self, vocab=30, classes=3) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, 8)
        self.gru = nn.GRU(8, 10, num_layers=2, dropout=0.2)
        self.out = nn.Linear(10, classes)

    def forward(self, tokens):  # (length, batch)
        _, h = self.gru(self.embed(tokens))
        return F.softmax(self.out(h[-1]), dim=-1)


def test_gru_classifier_any_batch_and_length():
    model = GRUClassifier()
    proto = roundtrip(model, cr.randint(0, 30, (6, 2)), names=["tokens"],
                      dynamic={"tokens": {0: "length", 1: "batch"}},
                      others=(cr.randint(0, 30, (3, 5)), cr.randint(0, 30, (9, 1))))
    assert [n.op_type for n in proto.graph.node].count("GRU") == 2
