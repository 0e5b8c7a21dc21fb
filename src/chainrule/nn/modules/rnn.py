"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their single-step cells.

The time loop works on lists of per-step (N, H) tensors and stacks the outputs once at the end:
slicing one big (L, N, H) tensor step by step would make every slice's backward scatter into a
full-size gradient (quadratic in the sequence length).
"""

from __future__ import annotations

import math

import numpy as np

from ...ops.elementwise import relu, sigmoid, tanh
from ...ops.linalg import linear
from ...ops.shape import cat, stack
from ...tensor import Tensor, _wrap
from .. import functional as F
from .. import init
from ..functional.recurrent import lstm_layer
from ..parameter import Parameter
from .linear import _factory_dtype
from .module import Module

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _rnn_step(mode, x_t, h, w_ih, w_hh, b_ih, b_hh):
    pre = linear(x_t, w_ih, b_ih) + linear(h, w_hh, b_hh)
    return tanh(pre) if mode == "RNN_TANH" else relu(pre)


def _lstm_step(x_t, h, c, w_ih, w_hh, b_ih, b_hh):
    gates = linear(x_t, w_ih, b_ih) + linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, 1)
    c = sigmoid(f) * c + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c), c


def _gru_step(x_t, h, w_ih, w_hh, b_ih, b_hh):
    xr, xz, xn = linear(x_t, w_ih, b_ih).chunk(3, 1)
    hr, hz, hn = linear(h, w_hh, b_hh).chunk(3, 1)
    r = sigmoid(xr + hr)
    z = sigmoid(xz + hz)
    n = tanh(xn + r * hn)
    return n + z * (h - n)  # = (1 - z) n + z h


class _CellBase(Module):
    def __init__(self, mode, input_size, hidden_size, bias, dtype):
        super().__init__()
        if input_size <= 0 or hidden_size <= 0:
            raise ValueError(f"{type(self).__name__}: input_size and hidden_size must be "
                             f"positive, got {input_size} and {hidden_size}")
        self.input_size, self.hidden_size, self.bias, self._mode = (input_size, hidden_size,
                                                                   bias, mode)
        dt = _factory_dtype(dtype)
        gates = _GATES[mode] * hidden_size
        self.weight_ih = Parameter(np.empty((gates, input_size), dtype=dt))
        self.weight_hh = Parameter(np.empty((gates, hidden_size), dtype=dt))
        self.bias_ih = Parameter(np.empty(gates, dtype=dt)) if bias else None
        self.bias_hh = Parameter(np.empty(gates, dtype=dt)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _prepare(self, input: Tensor, hx):  # noqa: A002
        name = type(self).__name__
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(f"{name}({self.input_size}, {self.hidden_size}): expected input "
                             f"(N, {self.input_size}) or ({self.input_size},), got {input.shape}")
        batched = input.ndim == 2
        x = input if batched else input.reshape(1, -1)
        want = (x.shape[0], self.hidden_size)
        states = hx if isinstance(hx, tuple) else (hx,)
        out = []
        for s in states:
            if s is None:
                out.append(_wrap(np.zeros(want, dtype=x.dtype)))
                continue
            s2 = s if batched else s.reshape(1, -1)
            if s2.shape != want:
                raise ValueError(f"{name}: hidden state of shape {s.shape} does not fit input "
                                 f"{input.shape} (expected {want if batched else want[1:]})")
            out.append(s2)
        return x, out, batched

    def _params(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self._mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        return s


class RNNCell(_CellBase):
    """One step of an Elman RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.RNNCell(3, 5)(cr.randn(2, 3)).shape
        (2, 5)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, bias, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), batched = self._prepare(input, hx)
        h = _rnn_step(self._mode, x, h, *self._params())
        return h if batched else h.reshape(-1)


class LSTMCell(_CellBase):
    """One LSTM step; returns ``(h', c')``.

    Example:
        >>> import chainrule as cr
        >>> h, c = cr.nn.LSTMCell(3, 5)(cr.randn(2, 3))
        >>> h.shape, c.shape
        ((2, 5), (2, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, bias, dtype)

    def forward(self, input: Tensor, hx: tuple | None = None):  # noqa: A002
        x, (h, c), batched = self._prepare(input, (None, None) if hx is None else tuple(hx))
        h, c = _lstm_step(x, h, c, *self._params())
        return (h, c) if batched else (h.reshape(-1), c.reshape(-1))


class GRUCell(_CellBase):
    """One GRU step.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.GRUCell(3, 5)(cr.randn(2, 3)).shape
        (2, 5)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__("GRU", input_size, hidden_size, bias, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), batched = self._prepare(input, hx)
        h = _gru_step(x, h, *self._params())
        return h if batched else h.reshape(-1)


class _RNNBase(Module):
    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        name = type(self).__name__
        if proj_size:
            raise ValueError(f"{name}: proj_size is not supported")
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"{name}: num_layers must be a positive int, got {num_layers!r}")
        if input_size <= 0 or hidden_size <= 0:
            raise ValueError(f"{name}: input_size and hidden_size must be positive, got "
                             f"{input_size} and {hidden_size}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1], got {dropout}")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        dt = _factory_dtype(dtype)
        gates = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        # Names and order as in PyTorch, so state dicts line up.
        for layer in range(num_layers):
            width = input_size if layer == 0 else hidden_size * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                setattr(self, "weight_ih" + sfx, Parameter(np.empty((gates, width), dtype=dt)))
                setattr(self, "weight_hh" + sfx,
                        Parameter(np.empty((gates, hidden_size), dtype=dt)))
                if bias:
                    setattr(self, "bias_ih" + sfx, Parameter(np.empty(gates, dtype=dt)))
                    setattr(self, "bias_hh" + sfx, Parameter(np.empty(gates, dtype=dt)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _layer_params(self, layer: int, d: int):
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        g = self.__dict__.get
        return g("weight_ih" + sfx), g("weight_hh" + sfx), g("bias_ih" + sfx), g("bias_hh" + sfx)

    def _check_input(self, input: Tensor):  # noqa: A002
        name = type(self).__name__
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            order = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
            raise ValueError(f"{name}(input_size={self.input_size}): expected input {order} or "
                             f"(L, H_in) with H_in={self.input_size}, got {input.shape}")

    def _initial(self, hx, n: int, dtype, batched: bool, what: str):
        dirs = 2 if self.bidirectional else 1
        want = (self.num_layers * dirs, n, self.hidden_size)
        if hx is None:
            zero = np.zeros((n, self.hidden_size), dtype=dtype)
            return [_wrap(zero) for _ in range(want[0])]
        h = hx.reshape(want[0], 1, self.hidden_size) if not batched and hx.ndim == 2 else hx
        if h.shape != want:
            shown = want if batched else (want[0], want[2])
            raise ValueError(f"{type(self).__name__}: {what} of shape {hx.shape} does not fit; "
                             f"expected {shown}")
        return list(h.unbind(0))

    def _run(self, input: Tensor, states):  # noqa: A002
        """The layer/direction/time loops; ``states`` is a list per state kind (h, or h and c)
        of per-(layer, direction) initial tensors. Returns the output sequence and the finals."""
        x = input if not self.batch_first else input.transpose(0, 1)
        if self.mode == "LSTM":
            return self._run_lstm(x, states)
        steps = list(x.unbind(0))
        dirs = 2 if self.bidirectional else 1
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                params = self._layer_params(layer, d)
                cur = [s[layer * dirs + d] for s in states]
                seq = steps if d == 0 else steps[::-1]
                hs = []
                for x_t in seq:
                    if self.mode == "LSTM":
                        cur = list(_lstm_step(x_t, cur[0], cur[1], *params))
                    elif self.mode == "GRU":
                        cur = [_gru_step(x_t, cur[0], *params)]
                    else:
                        cur = [_rnn_step(self.mode, x_t, cur[0], *params)]
                    hs.append(cur[0])
                for k, c in enumerate(cur):
                    finals[k].append(c)
                outs.append(hs if d == 0 else hs[::-1])
            steps = outs[0] if dirs == 1 else [cat([a, b], 1) for a, b in zip(*outs)]
            if self.dropout and self.training and layer < self.num_layers - 1:
                steps = [F.dropout(s, self.dropout) for s in steps]
        out = stack(steps, 0)
        if self.batch_first:
            out = out.transpose(0, 1)
        return out, [stack(f, 0) for f in finals]

    def _run_lstm(self, x: Tensor, states):
        """``_run`` for an LSTM: each layer and direction is one fused ``lstm_layer`` over the
        whole sequence (see ``nn.functional.recurrent``)."""
        t_len = x.shape[0]
        dirs = 2 if self.bidirectional else 1
        finals: list = [[], []]
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                seq = lstm_layer(x, states[0][k], states[1][k], *self._layer_params(layer, d),
                                 reverse=bool(d))
                outs.append(seq[:t_len])
                finals[0].append(seq[t_len - 1] if d == 0 else seq[0])
                finals[1].append(seq[t_len])
            x = outs[0] if dirs == 1 else cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout)
        if self.batch_first:
            x = x.transpose(0, 1)
        return x, [stack(f, 0) for f in finals]

    def _forward(self, input: Tensor, hx, kinds: int):  # noqa: A002
        self._check_input(input)
        batched = input.ndim == 3
        if not batched:
            input = input.unsqueeze(1)
        n = input.shape[0] if self.batch_first else input.shape[1]
        hx = (None,) * kinds if hx is None else (tuple(hx) if kinds > 1 else (hx,))
        names = ("h_0", "c_0")
        states = [self._initial(h, n, input.dtype, batched, names[k]) for k, h in enumerate(hx)]
        out, finals = self._run(input, states)
        if not batched:
            out = out.squeeze(1)
            finals = [f.squeeze(1) for f in finals]
        return out, finals

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(_RNNBase):
    """Multi-layer Elman RNN (tanh or relu); returns ``(output, h_n)`` like PyTorch.

    Input (L, N, H_in), or (N, L, H_in) with ``batch_first``, or unbatched (L, H_in).

    Example:
        >>> import chainrule as cr
        >>> out, h = cr.nn.RNN(3, 4, num_layers=2)(cr.randn(5, 2, 3))
        >>> out.shape, h.shape
        ((5, 2, 4), (2, 2, 4))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None):  # noqa: A002
        out, (h,) = self._forward(input, hx, 1)
        return out, h


class LSTM(_RNNBase):
    """Multi-layer LSTM; returns ``(output, (h_n, c_n))`` like PyTorch.

    Example:
        >>> import chainrule as cr
        >>> out, (h, c) = cr.nn.LSTM(3, 4, batch_first=True)(cr.randn(2, 5, 3))
        >>> out.shape, h.shape, c.shape
        ((2, 5, 4), (1, 2, 4), (1, 2, 4))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple | None = None):  # noqa: A002
        out, (h, c) = self._forward(input, hx, 2)
        return out, (h, c)


class GRU(_RNNBase):
    """Multi-layer GRU; returns ``(output, h_n)`` like PyTorch.

    Example:
        >>> import chainrule as cr
        >>> out, h = cr.nn.GRU(3, 4, bidirectional=True)(cr.randn(5, 2, 3))
        >>> out.shape, h.shape
        ((5, 2, 8), (2, 2, 4))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None):  # noqa: A002
        out, (h,) = self._forward(input, hx, 1)
        return out, h
