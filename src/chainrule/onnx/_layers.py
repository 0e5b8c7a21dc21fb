"""Layers exported as a whole: one ONNX op where ONNX has the layer's own op.

Op by op, a grouped convolution is an im2col and a matrix product, a batch norm in eval mode
a scale and a shift, and a recurrent layer a loop unrolled over the example's time steps. Those
would export correctly, but as graphs a runtime cannot recognise (and, for the recurrent
layers, for one sequence length only). So the tracer records a call of these layers as one step
and maps it here: ``Conv``, ``BatchNormalization``, ``AveragePool``, ``GlobalAveragePool``,
``Clip``, and ONNX's ``RNN``, ``GRU`` and ``LSTM`` (with PyTorch's gate order converted).

A handler's ``inputs(module, args, kwargs)`` says whether this call is exported as a whole
(the tensors it reads) or op by op (None: a configuration ONNX's op does not cover, such as a
reflect-padded convolution or a packed sequence).
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..tensor import Tensor
from ._convert import Call


def _arg(args, kwargs, i, name, default=None):
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


class Handler:
    def inputs(self, m, args, kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def attrs(self, m, args, kwargs) -> dict:
        return {}

    def convert(self, c: Call):  # pragma: no cover - abstract
        raise NotImplementedError


class _Conv(Handler):
    def inputs(self, m, args, kwargs):
        x = _arg(args, kwargs, 0, "input")
        if not isinstance(x, Tensor) or x.ndim != m.dims + 2 or m.padding_mode != "zeros":
            return None
        return [x]

    def convert(self, c: Call):
        m = c.step.op
        n = m.dims
        if m.padding == "same":
            pairs = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                     for k, d in zip(m.kernel_size, m.dilation)]
        elif m.padding == "valid":
            pairs = [(0, 0)] * n
        else:
            pairs = [(p, p) for p in m.padding]
        ins = [c.x[0], c.param(m.weight)] + ([c.param(m.bias)] if m.bias is not None else [])
        return [c.g.op("Conv", ins, kernel_shape=list(m.kernel_size), strides=list(m.stride),
                       dilations=list(m.dilation), group=m.groups,
                       pads=[lo for lo, _ in pairs] + [hi for _, hi in pairs])]


class _BatchNorm(Handler):
    def inputs(self, m, args, kwargs):
        x = _arg(args, kwargs, 0, "input")
        if m.training or m.running_mean is None or not isinstance(x, Tensor):
            return None
        return [x]

    def convert(self, c: Call):
        m = c.step.op
        g = c.g
        dt = m.running_mean._data.dtype
        scale = c.param(m.weight) if m.weight is not None else g.const(
            np.ones(m.num_features, dt), "bn_scale")
        bias = c.param(m.bias) if m.bias is not None else g.const(
            np.zeros(m.num_features, dt), "bn_bias")
        return [g.op("BatchNormalization", [c.x[0], scale, bias, c.param(m.running_mean),
                                            c.param(m.running_var)], epsilon=float(m.eps))]


class _AvgPool(Handler):
    def __init__(self, dims: int) -> None:
        self.dims = dims

    def inputs(self, m, args, kwargs):
        x = _arg(args, kwargs, 0, "input")
        if not isinstance(x, Tensor) or x.ndim != self.dims + 2 or m.ceil_mode or \
                getattr(m, "divisor_override", None) is not None:
            return None
        return [x]

    def convert(self, c: Call):
        m, n = c.step.op, self.dims

        def tup(v):
            return list(v) if isinstance(v, (tuple, list)) else [v] * n

        pads = tup(m.padding)
        return [c.g.op("AveragePool", [c.x[0]], kernel_shape=tup(m.kernel_size),
                       strides=tup(m.stride), pads=pads + pads,
                       count_include_pad=int(bool(m.count_include_pad)))]


class _GlobalAvgPool(Handler):
    def __init__(self, dims: int) -> None:
        self.dims = dims

    def inputs(self, m, args, kwargs):
        x = _arg(args, kwargs, 0, "input")
        size = m.output_size if isinstance(m.output_size, (tuple, list)) else (m.output_size,)
        if not isinstance(x, Tensor) or x.ndim != self.dims + 2 or any(s != 1 for s in size):
            return None
        return [x]

    def convert(self, c: Call):
        return [c.g.op("GlobalAveragePool", [c.x[0]])]


class _Clip(Handler):
    def inputs(self, m, args, kwargs):
        x = _arg(args, kwargs, 0, "input")
        return [x] if isinstance(x, Tensor) and x.dtype.kind == "f" else None

    def convert(self, c: Call):
        m = c.step.op
        lo, hi = (0.0, 6.0) if isinstance(m, nn.ReLU6) else (m.min_val, m.max_val)
        return [c.g.op("Clip", [c.x[0], c.scalar(lo), c.scalar(hi)])]


# ONNX's gate order, as rows of PyTorch's stacked weights (blocks of hidden_size rows).
_GATES = {"LSTM": (0, 3, 1, 2),  # PyTorch i, f, g, o -> ONNX i, o, f, c
          "GRU": (1, 0, 2),  # PyTorch r, z, n -> ONNX z, r, h
          "RNN_TANH": (0,), "RNN_RELU": (0,)}


class _Recurrent(Handler):
    """``nn.RNN``, ``nn.GRU`` and ``nn.LSTM`` (not packed sequences or LSTM projections): one
    ONNX op per layer, bidirectional ones included; the states come in as inputs, or are left
    out (zeros) when the call passes none."""

    def inputs(self, m, args, kwargs):
        x = _arg(args, kwargs, 0, "input")
        hx = _arg(args, kwargs, 1, "hx")
        if not isinstance(x, Tensor) or x.ndim not in (2, 3) or m.proj_size:
            return None
        if m.mode == "LSTM":
            h0, c0 = (None, None) if hx is None else tuple(hx)
            return [x, h0, c0]
        return [x, hx]

    def convert(self, c: Call):
        m, g = c.step.op, c.g
        hid, dirs = m.hidden_size, 2 if m.bidirectional else 1
        batched = c.rank(0) == 3
        x = c.x[0]
        if not batched:
            x = g.unsqueeze(x, [1])
        elif m.batch_first:
            x = g.transpose(x, (1, 0, 2))
        states = []
        for s in c.x[1:]:
            states.append(None if s is None else (s if batched else g.unsqueeze(s, [1])))
        op_type = "LSTM" if m.mode == "LSTM" else "GRU" if m.mode == "GRU" else "RNN"
        order = np.concatenate([np.arange(k * hid, (k + 1) * hid) for k in _GATES[m.mode]])
        finals: list[list] = [[] for _ in states]
        dt = m.weight_ih_l0._data.dtype
        for layer in range(m.num_layers):
            ws, rs, bs = [], [], []
            for d in range(dirs):
                w_ih, w_hh, b_ih, b_hh, _ = m._layer_params(layer, d)
                ws.append(w_ih._data[order])
                rs.append(w_hh._data[order])
                if b_ih is not None:
                    bs.append(np.concatenate([b_ih._data[order], b_hh._data[order]]))
            name = c.step.attrs.get("path") or "rnn"
            ins = [x, g.const(np.stack(ws).astype(dt), f"{name}.W_l{layer}"),
                   g.const(np.stack(rs).astype(dt), f"{name}.R_l{layer}"),
                   g.const(np.stack(bs).astype(dt), f"{name}.B_l{layer}") if bs else None,
                   None]  # sequence_lens: every sequence runs the whole length
            for s in states:
                ins.append(None if s is None else g.slice(s, [layer * dirs],
                                                          [(layer + 1) * dirs], [0]))
            attrs = {"hidden_size": hid,
                     "direction": "bidirectional" if dirs == 2 else "forward"}
            if op_type == "GRU":
                attrs["linear_before_reset"] = 1  # PyTorch: r * (W_hn h + b_hn)
            if op_type == "RNN":
                attrs["activations"] = ["Relu" if m.mode == "RNN_RELU" else "Tanh"] * dirs
            while ins[-1] is None:
                ins.pop()
            outs = g.op(op_type, ins, outputs=1 + len(states), hint=op_type.lower(), **attrs)
            y = outs[0]  # (T, dirs, N, H)
            for k in range(len(states)):
                finals[k].append(outs[1 + k])
            x = g.reshape(g.transpose(y, (0, 2, 1, 3)), [0, 0, -1])
        out = x
        if not batched:
            out = g.squeeze(out, [1])
        elif m.batch_first:
            out = g.transpose(out, (1, 0, 2))
        results = [out]
        for parts in finals:
            h = parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=0)
            results.append(h if batched else g.squeeze(h, [1]))
        return results


LAYERS: dict[type, Handler] = {
    nn.Conv1d: _Conv(), nn.Conv2d: _Conv(),
    nn.BatchNorm1d: _BatchNorm(), nn.BatchNorm2d: _BatchNorm(),
    nn.AvgPool1d: _AvgPool(1), nn.AvgPool2d: _AvgPool(2),
    nn.AdaptiveAvgPool1d: _GlobalAvgPool(1), nn.AdaptiveAvgPool2d: _GlobalAvgPool(2),
    nn.Hardtanh: _Clip(), nn.ReLU6: _Clip(),
    nn.RNN: _Recurrent(), nn.GRU: _Recurrent(), nn.LSTM: _Recurrent(),
}
