"""One LSTM layer over a whole sequence as a single primitive.

Written as per-step ops, an LSTM step records about a dozen nodes (two dense layers, a chunk,
three sigmoids, two tanh, the cell update) and runs a small GEMM for its input projection;
over 35 steps and two layers that is a thousand nodes per batch, mostly Python. ``LstmLayer``
instead

- projects the input of all steps with one GEMM (``x W_ih^T + b_ih + b_hh``),
- runs one GEMM per step for the recurrent term, followed by the gate nonlinearities and the
  cell update in place in preallocated per-sequence buffers,
- and runs the backward as one loop over the steps (one GEMM per step for the hidden state's
  gradient), then the weight and input gradients of all steps as three GEMMs.

Its output is one (T + 1, N, H) array: the hidden states of the T steps, then the last cell
state; ``nn.LSTM`` slices h_n and c_n out of it. Under ``create_graph=True`` the rule rebuilds
the layer from per-step ops and differentiates those, so higher-order gradients still work.
"""

from __future__ import annotations

import numpy as np

from ...autograd.graph import apply
from ...ops.op import Op
from ...tensor import Tensor


def _gate_order(hid: int) -> np.ndarray:
    """Rows of PyTorch's (i, f, g, o) gate layout in the order (i, f, o, g): the three sigmoid
    gates side by side, so one sigmoid pass covers them and no work is spent on g."""
    return np.r_[0:2 * hid, 3 * hid:4 * hid, 2 * hid:3 * hid]


def _forward_np(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
    t_len, n = x.shape[:2]
    hid = w_hh.shape[1]
    dt = x.dtype
    order = _gate_order(hid)
    w_ih, w_hh = w_ih[order], w_hh[order]
    if reverse:
        x = x[::-1]
    xw = np.dot(x.reshape(t_len * n, -1), w_ih.T)
    if b_ih is not None:
        xw += b_ih[order]
        xw += b_hh[order]
    xw = xw.reshape(t_len, n, 4 * hid)
    acts = np.empty((t_len, n, 4 * hid), dt)  # sigmoid(i), sigmoid(f), sigmoid(o), tanh(g)
    cells = np.empty((t_len + 1, n, hid), dt)  # c_0 .. c_T
    tanh_c = np.empty((t_len, n, hid), dt)
    hs = np.empty((t_len + 2, n, hid), dt)  # h_0, h_1 .. h_T, then c_T (the output's tail)
    cells[0] = c0
    hs[0] = h0
    pre = np.empty((n, 4 * hid), dt)
    ig = np.empty((n, hid), dt)
    w_hh_t = w_hh.T
    sig, i_, f_, o_, g_ = (slice(0, 3 * hid), slice(0, hid), slice(hid, 2 * hid),
                           slice(2 * hid, 3 * hid), slice(3 * hid, 4 * hid))
    with np.errstate(over="ignore"):  # exp(-x) overflows to inf for x < -88: sigmoid 0, right
        for t in range(t_len):
            np.dot(hs[t], w_hh_t, out=pre)
            pre += xw[t]
            a = acts[t]
            s = a[:, sig]
            np.negative(pre[:, sig], out=s)
            np.exp(s, out=s)
            s += 1
            np.reciprocal(s, out=s)
            np.tanh(pre[:, g_], out=a[:, g_])
            np.multiply(a[:, f_], cells[t], out=cells[t + 1])
            np.multiply(a[:, i_], a[:, g_], out=ig)
            cells[t + 1] += ig
            np.tanh(cells[t + 1], out=tanh_c[t])
            np.multiply(a[:, o_], tanh_c[t], out=hs[t + 1])
    hs[t_len + 1] = cells[t_len]
    out = hs[1:]
    if reverse:  # the outputs in the input's time order, the final cell state last
        out = np.concatenate([out[t_len - 1::-1], out[t_len:]])
    return out, (acts, cells, tanh_c, hs, w_ih, w_hh)


def _backward_np(g, x, saved, reverse, needs):
    acts, cells, tanh_c, hs, w_ih, w_hh = saved  # the weights' rows in (i, f, o, g) order
    t_len, n, four_h = acts.shape
    hid = four_h // 4
    i_, f_, o_, g_ = (slice(0, hid), slice(hid, 2 * hid), slice(2 * hid, 3 * hid),
                      slice(3 * hid, 4 * hid))
    if reverse:
        x = x[::-1]
        g = np.concatenate([g[t_len - 1::-1], g[t_len:]])
    dgates = np.empty_like(acts)
    # The local derivatives of all steps at once: s(1-s) for the sigmoid gates, 1-t^2 for g.
    slope = np.subtract(1, acts)
    slope *= acts
    gg = acts[:, :, g_]
    np.multiply(gg, gg, out=slope[:, :, g_])
    np.subtract(1, slope[:, :, g_], out=slope[:, :, g_])
    tanh_slope = np.multiply(tanh_c, tanh_c)
    np.subtract(1, tanh_slope, out=tanh_slope)
    dc = g[t_len].copy()
    dh = g[t_len - 1].copy()
    dc_t = np.empty((n, hid), acts.dtype)
    for t in range(t_len - 1, -1, -1):
        a, d = acts[t], dgates[t]
        np.multiply(dh, tanh_c[t], out=d[:, o_])  # d h / d o
        np.multiply(dh, a[:, o_], out=dc_t)
        dc_t *= tanh_slope[t]
        dc_t += dc  # the cell's total gradient at step t
        np.multiply(dc_t, a[:, g_], out=d[:, i_])  # d c / d i
        np.multiply(dc_t, cells[t], out=d[:, f_])  # d c / d f
        np.multiply(dc_t, a[:, i_], out=d[:, g_])  # d c / d g
        d *= slope[t]
        np.multiply(dc_t, a[:, f_], out=dc)
        if t:
            np.dot(d, w_hh, out=dh)
            dh += g[t - 1]
        else:
            dh = np.dot(d, w_hh)
    d2 = dgates.reshape(t_len * n, four_h)
    order = _gate_order(hid)

    def rows_back(a):  # (i, f, o, g) rows back to PyTorch's (i, f, g, o)
        out = np.empty_like(a)
        out[order] = a
        return out

    grads = {}
    if needs[0]:
        dx = np.dot(d2, w_ih).reshape(x.shape)
        grads["x"] = dx[::-1].copy() if reverse else dx
    grads["h0"] = dh if needs[1] else None
    grads["c0"] = dc if needs[2] else None
    grads["w_ih"] = rows_back(np.dot(d2.T, x.reshape(t_len * n, -1))) if needs[3] else None
    grads["w_hh"] = rows_back(np.dot(d2.T, hs[:t_len].reshape(t_len * n, hid))) if needs[4] \
        else None
    if len(needs) > 5:
        db = rows_back(np.add.reduce(d2, axis=0))
        grads["b_ih"] = db if needs[5] else None
        grads["b_hh"] = (db.copy() if needs[5] else db) if needs[6] else None
    return grads


def _composite(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
    """The same layer from per-step ops (the differentiable backward differentiates this)."""
    from ...ops.elementwise import sigmoid, tanh
    from ...ops.linalg import linear
    from ...ops.shape import stack

    steps = list(x.unbind(0))
    if reverse:
        steps = steps[::-1]
    h, c, hs = h0, c0, []
    for x_t in steps:
        gates = linear(x_t, w_ih, b_ih) + linear(h, w_hh, b_hh)
        i, f, gg, o = gates.chunk(4, 1)
        c = sigmoid(f) * c + sigmoid(i) * tanh(gg)
        h = sigmoid(o) * tanh(c)
        hs.append(h)
    if reverse:
        hs = hs[::-1]
    return stack(hs + [c], 0)


class LstmLayer(Op):
    """One LSTM layer over a (T, N, I) sequence -> (T + 1, N, H): h_1..h_T, then c_T;
    gradients by backpropagation through time, one loop over the steps"""

    public, kind = None, "other"
    formula = ("c_t = f c_(t-1) + i g, h_t = o tanh(c_t): dc_(t-1) = dc_t f, "
               "dh_(t-1) = dgates W_hh, dW = sum_t dgates^T [x_t | h_(t-1)]")
    saves = True
    fresh_grads = True
    pass_needs_input_grad = True

    def forward(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse):
        return _forward_np(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)

    def backward(F, g, out, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse, saved,
                 needs_input_grad=(True,) * 7):
        if F.differentiable:
            from ...autograd import grad

            inputs = [x, h0, c0, w_ih, w_hh] + ([b_ih, b_hh] if b_ih is not None else [])
            wrt = [t for t, need in zip(inputs, needs_input_grad) if need]
            ys = _composite(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)
            gs = iter(grad([ys], wrt, grad_outputs=[g], create_graph=True, allow_unused=True))
            return tuple(next(gs) if need else None for need in needs_input_grad)
        grads = _backward_np(g, x, saved, reverse, needs_input_grad)
        order = ("x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh")[:len(needs_input_grad)]
        return tuple(grads[k] for k in order)


def lstm_layer(x: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor,
               b_ih: Tensor | None = None, b_hh: Tensor | None = None,
               reverse: bool = False) -> Tensor:
    """Run one LSTM layer (PyTorch's gate order i, f, g, o) over ``x`` (T, N, I) from states
    ``h0``, ``c0`` (N, H). Returns (T + 1, N, H): the T hidden states, then the last cell state.
    ``reverse`` runs the steps last to first (the backward direction of a bidirectional LSTM);
    the outputs stay in the input's time order.

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.functional.recurrent import lstm_layer
        >>> w_ih, w_hh = cr.randn(8, 3), cr.randn(8, 2)
        >>> out = lstm_layer(cr.randn(5, 4, 3), cr.zeros(4, 2), cr.zeros(4, 2), w_ih, w_hh)
        >>> out.shape
        (6, 4, 2)
    """
    if x.ndim != 3 or x.shape[0] == 0:
        raise ValueError(f"lstm_layer: x must be (T, N, I) with T >= 1, got {x.shape}")
    inputs = (x, h0, c0, w_ih, w_hh) + ((b_ih, b_hh) if b_ih is not None else ())
    return apply(LstmLayer, inputs, {"reverse": reverse})
