"""``cr.explain_memory``: the bytes it reports are the bytes the graph holds.

Three independent checks: hand arithmetic on small graphs (shapes times itemsizes), Python's
``tracemalloc`` (NumPy reports every array allocation to it) before and after the graph is
dropped, and the resident memory of a fresh process for a large model.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
import tracemalloc

import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.explain import cli
from chainrule.explain.memory import MemoryReport, size
from chainrule.utils.checkpoint import checkpoint_sequential

F32 = 4


def test_a_small_mlp_by_hand():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    x = cr.ones(16, 4)
    r = cr.explain_memory(net(x))
    assert isinstance(r, MemoryReport)
    # linear 1 keeps x (input data) and z1; relu keeps z1 (counted once) and h1; linear 2 keeps
    # h1 (once) and its output
    assert r.input_bytes == 16 * 4 * F32
    assert r.activation_bytes == (16 * 8 + 16 * 8 + 16 * 2) * F32
    assert r.total_bytes == r.input_bytes + r.activation_bytes
    assert r.parameter_bytes == (8 * 4 + 8 + 2 * 8 + 2) * F32
    assert [op.name for op in r.by_op] == ["linear", "relu", "linear"]
    assert [op.bytes for op in r.by_op] == [(64 + 128) * F32, 128 * F32, 32 * F32]
    relu = r.by_op[1]
    assert [(a.role, a.shape, a.held, a.shared_with) for a in relu.arrays] == [
        ("input 0", (16, 8), 0, "#1 linear"), ("output", (16, 8), 128 * F32, None)]
    assert r.largest(1)[0].index == 1


def test_the_callable_form_records_lines_and_modules():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    r = cr.explain_memory(net, cr.ones(16, 4))
    # the first linear also keeps the input batch (input data, 16 x 4)
    assert r.by_module == {"0": (128 + 64) * F32, "1": 128 * F32, "2": 32 * F32}
    assert [op.module for op in r.by_op] == ["0", "1", "2"]
    assert "test_memory.py" in r.by_op[0].where and "linear.py" in r.by_op[0].where
    assert r.output.shape == (16, 2) and r.output.requires_grad
    r.output.sum().backward()  # the graph is still there for backward
    assert net[0].weight.grad is not None

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(3, 3)

        def forward(self, x):
            return (self.inner(x) * 2.0).tanh()

    class Top(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([Block(), Block()])

        def forward(self, x):
            for b in self.blocks:
                x = b(x)
            return x.sum()

    top = Top()
    r = cr.explain_memory(top, cr.ones(5, 3))
    modules = [op.module for op in r.by_op]
    assert modules == ["blocks.0.inner", "blocks.0", "blocks.0", "blocks.1.inner", "blocks.1",
                       "blocks.1", ""]
    assert "return (self.inner(x) * 2.0).tanh()" in r.by_op[1].where
    # a module's total includes its submodules'
    assert r.by_module["blocks.0"] == sum(op.bytes for op in r.by_op[:3])
    assert r.by_module["blocks"] == r.by_module["blocks.0"] + r.by_module["blocks.1"]


def test_views_and_an_array_saved_twice_count_once():
    w = cr.randn(6, 5, requires_grad=True)
    e = w.exp()  # 30 floats, the only new array but the products'
    y = (e[:, :2].sum() + e.T.sum() + (e * e).sum())
    r = cr.explain_memory(y)
    # e, e*e and the three scalars (two sums, their sum... each op's own output)
    scalars = sum(1 for op in r.by_op if op.name in ("sum", "add")) * F32
    assert r.activation_bytes == 30 * F32 + 30 * F32 + scalars
    mul = next(op for op in r.by_op if op.name == "mul")
    assert [a.shared_with for a in mul.arrays[:2]] == ["#1 exp", "#1 exp"]
    assert r.parameter_bytes == 30 * F32


def test_a_view_keeps_its_whole_base():
    big = cr.randn(100, 100, requires_grad=True) * 1.0  # an activation of 40,000 bytes
    y = big[:2, :2].exp().sum()
    r = cr.explain_memory(y)
    getitem = r.by_op[1]
    assert getitem.name == "get_item" and getitem.arrays[-1].nbytes == 4 * F32  # the slice
    assert r.activation_bytes >= 100 * 100 * F32  # but it keeps all of big


def _freed(build):
    """Bytes Python's allocator gets back when the graph ``build()`` made is dropped."""
    gc.collect()
    tracemalloc.start()
    try:
        out = build()
        report = cr.explain_memory(out)
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        del out
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return before - after, report


def _mlp_loss():
    net = nn.Sequential(nn.Linear(64, 256), nn.GELU(), nn.LayerNorm(256), nn.Linear(256, 256),
                        nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))
    x, y = cr.randn(512, 64), cr.randint(0, 10, (512,))
    return lambda: F.cross_entropy(net(x), y)


def _convnet_loss():
    net = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(), nn.Linear(16 * 8 * 8, 10))
    x, y = cr.randn(32, 3, 16, 16), cr.randint(0, 10, (32,))
    return lambda: F.nll_loss(F.log_softmax(net(x), dim=1), y)


def _lstm_loss():
    lstm, head = nn.LSTM(32, 64, num_layers=2), nn.Linear(64, 50)
    x, y = cr.randn(20, 16, 32), cr.randint(0, 50, (20 * 16,))
    return lambda: F.cross_entropy(head(lstm(x)[0]).reshape(-1, 50), y)


def _attention_loss():
    attn = nn.MultiheadAttention(64, 4, batch_first=True)
    enc = nn.TransformerEncoderLayer(64, 4, dim_feedforward=128, batch_first=True)
    x = cr.randn(8, 32, 64)
    mask = nn.Transformer.generate_square_subsequent_mask(32)
    return lambda: (enc(attn(x, x, x, need_weights=False)[0], src_mask=mask) ** 2).mean()


def _checkpointed_loss():
    net = nn.Sequential(*[m for _ in range(8) for m in (nn.Linear(128, 128), nn.Tanh())])
    x = cr.randn(256, 128, requires_grad=True)
    return lambda: checkpoint_sequential(net, 3, x).square().sum()


def _float16_hooks_loss():
    net = nn.Sequential(nn.Linear(128, 256), nn.ReLU(), nn.Linear(256, 64))
    x = cr.randn(256, 128)

    def build():
        with cr.autograd.graph.saved_tensors_hooks(lambda t: t.to(cr.float16),
                                                   lambda t: t.to(cr.float32)):
            return net(x).square().sum()
    return build


@pytest.mark.parametrize("make", [_mlp_loss, _convnet_loss, _lstm_loss, _attention_loss,
                                  _checkpointed_loss, _float16_hooks_loss],
                         ids=lambda f: f.__name__.strip("_"))
def test_reported_bytes_are_the_bytes_freed_with_the_graph(make):
    freed, report = _freed(make())
    nodes = len(report.by_op)
    # Python objects (nodes, tensors, tuples) come on top of the arrays: well under 2 KB a node.
    assert report.activation_bytes <= freed <= report.activation_bytes + 2048 * nodes + 4096, (
        freed, report.activation_bytes, nodes)
    assert report.activation_bytes > 50_000


def test_float16_hooks_show_the_packed_copies():
    net = nn.Sequential(nn.Linear(128, 256), nn.ReLU(), nn.Linear(256, 64))
    x = cr.randn(256, 128)
    plain = cr.explain_memory(net(x).square().sum())
    with cr.autograd.graph.saved_tensors_hooks(lambda t: t.to(cr.float16),
                                               lambda t: t.to(cr.float32)):
        half = cr.explain_memory(net(x).square().sum())
    packed = [a for op in half.by_op for a in op.arrays if a.state == "packed"]
    # every saved array, the parameters' included, is kept as a float16 copy of half the size
    assert packed and all(a.dtype == "float16" for a in packed)
    assert sum(a.nbytes for a in packed) * 2 == sum(a.nbytes for op in plain.by_op
                                                    for a in op.arrays)
    # each node packs its own copy: z1, kept by linear and by relu, is packed twice
    relu = half.by_op[1]
    assert [a.shared_with for a in relu.arrays] == [None, None]


def test_checkpointing_keeps_the_segment_inputs_by_hand():
    # 8 layers of Linear(128)+Tanh, batch 256: a layer keeps z and h (128 KiB each).
    act = 256 * 128 * F32
    net = nn.Sequential(*[m for _ in range(8) for m in (nn.Linear(128, 128), nn.Tanh())])
    x = cr.randn(256, 128)
    plain = cr.explain_memory(net(x).sum())
    assert plain.activation_bytes == 16 * act + F32  # + the loss
    # 4 segments of 4 modules: 3 checkpointed (their inputs kept: x, h2, h4), the last plain
    # (its input h6 and the z and h of the last two layers)
    ck = cr.explain_memory(checkpoint_sequential(net, 4, x).sum())
    assert ck.input_bytes == act  # x
    assert ck.activation_bytes == 2 * act + 5 * act + F32
    text = str(ck)
    assert "recomputed in backward" in text and "checkpoint input" in text


def test_relu_and_the_arithmetic_of_the_docs():
    # Activations per layer x batch: an L-layer Linear+ReLU MLP keeps 2 L B H floats.
    for batch in (32, 64):
        layers, h = 3, 50
        mods = []
        for _ in range(layers):
            mods += [nn.Linear(h, h), nn.ReLU()]
        r = cr.explain_memory(nn.Sequential(*mods)(cr.ones(batch, h)))
        assert r.activation_bytes == 2 * layers * batch * h * F32


def test_fused_cross_entropy_keeps_less_than_the_textbook_formula():
    m, c = 256, 1000
    logits = nn.Linear(8, c)(cr.randn(m, 8))
    y = cr.randint(0, c, (m,))
    fused = cr.explain_memory(F.cross_entropy(logits, y))
    onehot = F.one_hot(y, c).to(cr.float32)
    textbook = cr.explain_memory(-(onehot * F.softmax(logits, dim=1).log()).sum(1).mean())
    logsm = cr.explain_memory(F.nll_loss(F.log_softmax(logits, dim=1), y))
    mc = m * c * F32
    # fused: the logits (held by the linear anyway) and exp(logits - max): one M x C array
    assert fused.activation_bytes - mc < 1.1 * mc
    # log_softmax then nll_loss: the logits and log_softmax's output, the same
    assert abs(logsm.activation_bytes - fused.activation_bytes) < 0.05 * mc
    # softmax, its log, the product with the one-hot target: three more M x C arrays
    assert textbook.activation_bytes - mc > 3 * mc


def test_chinese_and_errors():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
    r = cr.explain_memory(net, cr.ones(2, 4), lang="zh")
    text = str(r)
    assert text.startswith("反向传播保留的内存") and "参数" in text
    assert r.to_text("en").startswith("Memory kept for the backward pass")
    with pytest.raises(ValueError, match="lang"):
        cr.explain_memory(net(cr.ones(2, 4)), lang="fr")
    with pytest.raises(ValueError, match="without one|with a graph"):
        cr.explain_memory(cr.ones(3))
    with pytest.raises(TypeError, match="only for a callable"):
        cr.explain_memory(net(cr.ones(2, 4)), 3)
    with pytest.raises(ValueError, match="returned no tensor"):
        cr.explain_memory(lambda: 3)
    out = net(cr.ones(2, 4)).sum()
    out.backward()
    with pytest.raises(RuntimeError, match="freed by a backward"):
        cr.explain_memory(out)
    assert "not recorded" in str(cr.explain_memory(net(cr.ones(2, 4))))


def test_size_units():
    assert [size(n) for n in (0, 1023, 1024, 3 << 20, 5 << 30)] == [
        "0 B", "1023 B", "1.0 KiB", "3.0 MiB", "5.0 GiB"]


@pytest.mark.parametrize("lang,title", [("en", "Without checkpointing"), ("zh", "不用检查点")])
def test_the_command_line(lang, title, capsys):
    assert cli.main(["explain", "--memory", "--lang", lang]) == 0
    out = capsys.readouterr().out
    assert out.startswith(title)
    assert "checkpoint_sequential" in out and "%" in out


_RSS_SCRIPT = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    import chainrule as cr

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()

    cr.manual_seed(0)
    # arrays of 64 MiB: above glibc's largest mmap threshold, so each is its own mapping and
    # the resident size follows exactly what is allocated and freed
    batch, width, layers = 32768, 512, 3
    mods = []
    for _ in range(layers):
        mods += [cr.nn.Linear(width, width), cr.nn.Tanh()]
    net = cr.nn.Sequential(*mods)
    x = cr.randn(batch, width)
    with cr.no_grad():
        net(x)  # first touch of every code path
    peak0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    base = rss()
    out = net(x)
    held = rss()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    report = cr.explain_memory(out)
    del out
    freed = held - rss()
    json.dump({"held": held - base, "freed": freed, "peak": peak - base, "raised": peak > peak0,
               "reported": report.activation_bytes,
               "one": batch * width * 4}, sys.stdout)
""")


@pytest.mark.slow
def test_resident_memory_of_a_large_model_in_a_fresh_process():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    res = subprocess.run([sys.executable, "-c", _RSS_SCRIPT], capture_output=True, text=True,
                         env=env, timeout=600)
    assert res.returncode == 0, res.stderr
    m = json.loads(res.stdout)
    reported, one = m["reported"], m["one"]
    assert reported == 6 * one  # z and h of three layers, 64 MiB each
    # the process grew by what the report says, and shrank by it when the graph went
    assert abs(m["held"] - reported) < 0.03 * reported, m
    assert abs(m["freed"] - reported) < 0.03 * reported, m
    # the peak of the forward: what is kept plus at most a couple of temporaries
    assert m["raised"] and reported * 0.97 <= m["peak"] <= reported + 2 * one + (16 << 20), m
