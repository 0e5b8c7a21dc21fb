"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their single-step cells.

Each also takes a ``PackedSequence`` (``nn.utils.rnn``), and LSTM takes ``proj_size``.

The time loop works on lists of per-step (N, H) tensors and stacks the outputs once at the end:
slicing one big (L, N, H) tensor step by step would make every slice's backward scatter into a
full-size gradient (quadratic in the sequence length).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ... import _validate as check
from ...ops.elementwise import relu, sigmoid, tanh
from ...ops.linalg import linear
from ...ops.shape import cat, stack
from ...tensor import Tensor, _wrap
from .. import functional as F
from .. import init
from ..functional.recurrent import lstm_layer
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
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


def _same_dtype(x: Tensor, weight: Tensor, name: str) -> Tensor:
    """An RNN's input: real, of the weights' dtype (PyTorch: "RNN input dtype does not match
    weight dtype")."""
    if x._data.dtype != weight._data.dtype:
        if x._data.dtype.kind == "c":
            check.real(x, name)
        raise TypeError(f"{name}: input dtype {x.dtype} does not match the weights' dtype "
                        f"{weight.dtype}; convert the input with .to({weight.dtype}) or the "
                        "module with .to(...)")
    return x


class _CellBase(Module):
    def __init__(self, mode, input_size, hidden_size, bias, dtype):
        super().__init__()
        # sizes of 0 make empty weights, as in PyTorch
        input_size = check.integer(input_size, type(self).__name__, "input_size", low=0)
        hidden_size = check.integer(hidden_size, type(self).__name__, "hidden_size", low=0)
        self.input_size, self.hidden_size, self.bias, self._mode = (input_size, hidden_size,
                                                                   bias, mode)
        dt = _factory_dtype(dtype)
        gates = _GATES[mode] * hidden_size
        self.weight_ih = Parameter(check.new_array(np.empty, (gates, input_size), dt, self))
        self.weight_hh = Parameter(check.new_array(np.empty, (gates, hidden_size), dt, self))
        self.bias_ih = Parameter(check.new_array(np.empty, gates, dt, self)) if bias else None
        self.bias_hh = Parameter(check.new_array(np.empty, gates, dt, self)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _prepare(self, input: Tensor, hx):  # noqa: A002
        name = type(self).__name__
        input = _same_dtype(check.tensor(input, name), self.weight_ih, name)  # noqa: A001
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


RNNCellBase = _CellBase


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
    """What RNN, LSTM and GRU share (PyTorch's ``RNNBase``): parameters named and ordered as in
    PyTorch, the layer / direction / time loops, packed sequences and LSTM projections."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        name = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"{name}: mode must be one of {sorted(_GATES)}, got {mode!r}")
        for arg, v in (("input_size", input_size), ("hidden_size", hidden_size),
                       ("num_layers", num_layers), ("proj_size", proj_size)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
                raise TypeError(f"{name}: {arg} must be an int, got {type(v).__name__}")
        if input_size <= 0 or hidden_size <= 0 or num_layers <= 0:
            raise ValueError(f"{name}: input_size, hidden_size and num_layers must be positive, "
                             f"got {input_size}, {hidden_size} and {num_layers}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or \
                not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        if proj_size < 0 or (proj_size and proj_size >= hidden_size):
            raise ValueError(f"{name}: proj_size must be 0 (no projection) or in [1, "
                             f"hidden_size={hidden_size}), got {proj_size}")
        if proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size is only supported by LSTM")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout is applied between recurrent layers, so dropout="
                          f"{dropout} with num_layers=1 does nothing", stacklevel=3)
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = proj_size
        dt = _factory_dtype(dtype)
        gates = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        out_size = proj_size or hidden_size
        # Names and order as in PyTorch, so state dicts line up.
        self._flat_weights_names, self._all_weights = [], []
        for layer in range(num_layers):
            width = input_size if layer == 0 else out_size * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                shapes = [("weight_ih", (gates, width)), ("weight_hh", (gates, out_size))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for pname, shape in shapes:
                    setattr(self, pname + sfx,
                            Parameter(check.new_array(np.empty, shape, dt, self)))
                names = [pname + sfx for pname, _ in shapes]
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def flatten_parameters(self) -> None:
        """Does nothing, and is here so PyTorch code that calls it runs unchanged.

        PyTorch copies the weights into one contiguous buffer for cuDNN's fused kernels;
        chainrule's NumPy steps read each weight where it is, so there is nothing to compact.
        """

    @property
    def all_weights(self) -> list:
        """The parameters per layer and direction, as PyTorch lists them."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n) for n in self._flat_weights_names]

    def _layer_params(self, layer: int, d: int):
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        g = self.__dict__.get
        return (g("weight_ih" + sfx), g("weight_hh" + sfx), g("bias_ih" + sfx),
                g("bias_hh" + sfx), g("weight_hr" + sfx))

    def _check_input(self, input: Tensor):  # noqa: A002
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor or a PackedSequence, got "
                            f"{type(input).__name__}")
        _same_dtype(input, self.weight_ih_l0, name)
        if input.ndim >= 2 and input.shape[1 if self.batch_first and input.ndim == 3 else 0] == 0:
            raise ValueError(f"{name}: the input sequence is empty (PyTorch expects a sequence "
                             "length larger than 0)")
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            order = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
            raise ValueError(f"{name}(input_size={self.input_size}): expected input {order} or "
                             f"(L, H_in) with H_in={self.input_size}, got {input.shape}")

    def _initial(self, hx, n: int, dtype, batched: bool, what: str, size: int, order=None):
        dirs = 2 if self.bidirectional else 1
        want = (self.num_layers * dirs, n, size)
        if hx is None:
            zero = np.zeros((n, size), dtype=dtype)
            return [_wrap(zero) for _ in range(want[0])]
        if not isinstance(hx, Tensor):
            raise TypeError(f"{type(self).__name__}: {what} must be a Tensor, got "
                            f"{type(hx).__name__}")
        h = hx.reshape(want[0], 1, size) if not batched and hx.ndim == 2 else hx
        if h.shape != want:
            shown = want if batched else (want[0], want[2])
            raise ValueError(f"{type(self).__name__}: {what} of shape {hx.shape} does not fit; "
                             f"expected {shown}")
        if order is not None:  # a packed batch runs sorted by length
            h = h[:, order]
        return list(h.unbind(0))

    def _cell(self, params):
        w_ih, w_hh, b_ih, b_hh, w_hr = params
        if self.mode == "LSTM":
            def step(x_t, h, c):
                h, c = _lstm_step(x_t, h, c, w_ih, w_hh, b_ih, b_hh)
                return [h if w_hr is None else linear(h, w_hr), c]
        elif self.mode == "GRU":
            def step(x_t, h):
                return [_gru_step(x_t, h, w_ih, w_hh, b_ih, b_hh)]
        else:
            mode = self.mode

            def step(x_t, h):
                return [_rnn_step(mode, x_t, h, w_ih, w_hh, b_ih, b_hh)]
        return step

    def _run(self, steps: list, states, batch_sizes=None):
        """The layer/direction/time loops over per-step (N_t, H_in) inputs; ``states`` is a
        list per state kind (h, or h and c) of per-(layer, direction) initial tensors.

        With ``batch_sizes`` (a packed batch, sorted by decreasing length) step t has only the
        first ``batch_sizes[t]`` sequences. Returns the per-step outputs and the final states.
        """
        dirs = 2 if self.bidirectional else 1
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                step = self._cell(self._layer_params(layer, d))
                init_state = [s[layer * dirs + d] for s in states]
                scan = _scan_backward if d else _scan_forward
                hs, last = scan(step, steps, init_state, batch_sizes)
                for k, c in enumerate(last):
                    finals[k].append(c)
                outs.append(hs)
            steps = outs[0] if dirs == 1 else [cat([a, b], 1) for a, b in zip(*outs)]
            if self.dropout and self.training and layer < self.num_layers - 1:
                steps = [F.dropout(s, self.dropout) for s in steps]
        return steps, [stack(f, 0) for f in finals]

    def _run_lstm(self, x: Tensor, states):
        """``_run`` for an LSTM without projections on a (T, N, H_in) tensor: each layer and
        direction is one fused ``lstm_layer`` over the whole sequence (see
        ``nn.functional.recurrent``). Returns the (T, N, H * dirs) output and the finals."""
        t_len = x.shape[0]
        dirs = 2 if self.bidirectional else 1
        finals: list = [[], []]
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                w_ih, w_hh, b_ih, b_hh, _ = self._layer_params(layer, d)
                seq = lstm_layer(x, states[0][k], states[1][k], w_ih, w_hh, b_ih, b_hh,
                                 reverse=bool(d))
                outs.append(seq[:t_len])
                finals[0].append(seq[t_len - 1] if d == 0 else seq[0])
                finals[1].append(seq[t_len])
            x = outs[0] if dirs == 1 else cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout)
        return x, [stack(f, 0) for f in finals]

    def _forward(self, input, hx, kinds: int):  # noqa: A002
        names = ("h_0", "c_0")
        sizes = (self.proj_size or self.hidden_size, self.hidden_size)
        hx = (None,) * kinds if hx is None else (tuple(hx) if kinds > 1 else (hx,))
        if len(hx) != kinds:
            raise ValueError(f"{type(self).__name__}: hx must be a pair (h_0, c_0), got "
                             f"{len(hx)} tensors")
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx, names, sizes)
        self._check_input(input)
        batched = input.ndim == 3
        if not batched:
            input = input.unsqueeze(1)
        n = input.shape[0] if self.batch_first else input.shape[1]
        states = [self._initial(h, n, input.dtype, batched, names[k], sizes[k])
                  for k, h in enumerate(hx)]
        x = input if not self.batch_first else input.transpose(0, 1)
        if self.mode == "LSTM" and not self.proj_size:
            out, finals = self._run_lstm(x, states)
        else:
            steps, finals = self._run(list(x.unbind(0)), states)
            out = stack(steps, 0)
        if self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(1)
            finals = [f.squeeze(1) for f in finals]
        return out, finals

    def _forward_packed(self, packed: PackedSequence, hx, names, sizes):
        data = packed.data
        if data.ndim != 2 or data.shape[1] != self.input_size:
            raise ValueError(f"{type(self).__name__}(input_size={self.input_size}): packed data "
                             f"must be (sum of lengths, {self.input_size}), got {data.shape}")
        bs = [int(b) for b in packed.batch_sizes._data]
        order = None if packed.sorted_indices is None else packed.sorted_indices._data
        states = [self._initial(h, bs[0], data.dtype, True, names[k], sizes[k], order)
                  for k, h in enumerate(hx)]
        bounds = np.cumsum([0] + bs)
        steps = [data[int(bounds[t]):int(bounds[t + 1])] for t in range(len(bs))]
        steps, finals = self._run(steps, states, bs)
        out = packed._replace(data=cat(steps, 0))
        if packed.unsorted_indices is not None:
            back = packed.unsorted_indices._data
            finals = [f[:, back] for f in finals]
        return out, finals

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
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


def _scan_forward(step, xs, state, batch_sizes):
    """Run ``step`` over the steps in time order. A packed batch loses its shortest sequences
    as they end: their final states are set aside, the rest run on."""
    outs, ended = [], []
    for t, x_t in enumerate(xs):
        if batch_sizes is not None and batch_sizes[t] < state[0].shape[0]:
            b = batch_sizes[t]
            ended.append([s[b:] for s in state])
            state = [s[:b] for s in state]
        state = step(x_t, *state)
        outs.append(state[0])
    if ended:  # later-ended pieces belong to earlier (longer) rows
        state = [cat([s] + [piece[k] for piece in reversed(ended)], 0)
                 for k, s in enumerate(state)]
    return outs, state


def _scan_backward(step, xs, state, batch_sizes):
    """Run ``step`` over the steps in reverse time order. In a packed batch a sequence joins
    at its own last step, starting from its initial state."""
    full = state
    if batch_sizes is not None:
        state = [s[:batch_sizes[-1]] for s in full]
    outs = []
    for t in range(len(xs) - 1, -1, -1):
        if batch_sizes is not None and batch_sizes[t] > state[0].shape[0]:
            b0, b1 = state[0].shape[0], batch_sizes[t]
            state = [cat([s, f[b0:b1]], 0) for s, f in zip(state, full)]
        state = step(xs[t], *state)
        outs.append(state[0])
    return outs[::-1], state


RNNBase = _RNNBase


class RNN(_RNNBase):
    """Multi-layer Elman RNN (tanh or relu); returns ``(output, h_n)`` like PyTorch.

    Input (L, N, H_in), or (N, L, H_in) with ``batch_first``, or unbatched (L, H_in), or a
    ``PackedSequence`` (then the output is packed the same way). So for LSTM and GRU.

    Example:
        >>> import chainrule as cr
        >>> out, h = cr.nn.RNN(3, 4, num_layers=2)(cr.randn(5, 2, 3))
        >>> out.shape, h.shape
        ((5, 2, 4), (2, 2, 4))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None, proj_size: int = 0) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, proj_size, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None):  # noqa: A002
        out, (h,) = self._forward(input, hx, 1)
        return out, h


class LSTM(_RNNBase):
    """Multi-layer LSTM; returns ``(output, (h_n, c_n))`` like PyTorch.

    With ``proj_size > 0`` each step's hidden state is projected to ``proj_size`` features by
    ``weight_hr_l{k}`` (PyTorch's LSTM with projections): the output and ``h_n`` then have
    ``proj_size`` features, ``c_n`` keeps ``hidden_size``.

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
                 bidirectional: bool = False, device=None, dtype=None,
                 proj_size: int = 0) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None):  # noqa: A002
        out, (h,) = self._forward(input, hx, 1)
        return out, h
