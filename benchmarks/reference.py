"""The hand-written NumPy training step: the ceiling chainrule is measured against.

No framework, no graph: the forward keeps what the backward needs, the backward is written out
by hand, softmax and cross entropy are fused, activations and gradients are updated in place
and the optimizer writes into the weights. Anything chainrule spends beyond this is the price of
being a framework (graph recording, Python dispatch, generic rules).

``GemmBound`` keeps only the matrix products of the same step, with preallocated outputs: no
framework or NumPy implementation of the step can be faster than that.
"""

from __future__ import annotations

import numpy as np


def _sigmoid_(z: np.ndarray) -> None:
    """In-place sigmoid, PyTorch's formula (overflow to inf gives the right 0)."""
    with np.errstate(over="ignore"):
        np.negative(z, out=z)
        np.exp(z, out=z)
        z += 1
        np.reciprocal(z, out=z)


class NumpyMLP:
    """A dense network ``x -> (Linear -> act)* -> Linear`` trained by hand.

    ``weights``: list of ``(W, b)`` with ``W`` of shape (out, in), copied. ``act``: ``"relu"``
    or ``"sigmoid"``; ``loss``: ``"cross_entropy"`` (integer labels) or ``"mse"``;
    ``optimizer``: ``"sgd"`` or ``"adam"`` (PyTorch's defaults for betas and eps).
    """

    def __init__(self, weights, act: str, loss: str, optimizer: str, lr: float) -> None:
        self.params = [p.copy() for wb in weights for p in wb]
        self.act, self.loss, self.optimizer, self.lr = act, loss, optimizer, lr
        if optimizer == "adam":
            self.m = [np.zeros_like(p) for p in self.params]
            self.v = [np.zeros_like(p) for p in self.params]
            self.t = 0

    def gradients(self, x: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
        """Loss and the gradient of every parameter (W1, b1, W2, b2, ...)."""
        p, n_layers = self.params, len(self.params) // 2
        acts = [x]
        h = x
        for i in range(n_layers):
            z = h @ p[2 * i].T
            z += p[2 * i + 1]
            if i < n_layers - 1:
                if self.act == "relu":
                    np.maximum(z, 0, out=z)
                else:
                    _sigmoid_(z)
            acts.append(z)
            h = z
        n = h.shape[0]
        if self.loss == "cross_entropy":
            # Fused softmax + CE: the gradient is (softmax - onehot) / N, made in place.
            h -= h.max(axis=1, keepdims=True)
            rows = np.arange(n)
            picked = h[rows, y]
            np.exp(h, out=h)
            s = h.sum(axis=1, keepdims=True)
            loss = float(np.mean(np.log(s[:, 0]) - picked))
            h /= s
            h[rows, y] -= 1
            h *= 1.0 / n
            g = h
        else:
            g = h - y
            loss = float(np.mean(g * g))
            g *= 2.0 / g.size
        grads = [None] * len(p)
        for i in range(n_layers - 1, -1, -1):
            a = acts[i]
            grads[2 * i] = g.T @ a
            grads[2 * i + 1] = g.sum(axis=0)
            if i == 0:
                break  # the input is data: no gradient
            g = g @ p[2 * i]
            if self.act == "relu":
                np.multiply(g, a > 0, out=g)
            else:
                g *= a * (1 - a)
        return loss, grads

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        loss, grads = self.gradients(x, y)
        if self.optimizer == "sgd":
            for w, g in zip(self.params, grads):
                g *= self.lr
                w -= g
        else:
            self._adam(grads)
        return loss

    def _adam(self, grads, b1=0.9, b2=0.999, eps=1e-8) -> None:
        self.t += 1
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        step, root_c2 = self.lr / c1, np.sqrt(c2)
        for w, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            np.multiply(g, g, out=g)
            g *= 1 - b2
            v += g
            np.sqrt(v, out=g)  # g is free now: reuse it as the denominator
            g /= root_c2
            g += eps
            np.divide(m, g, out=g)
            g *= step
            w -= g


class GemmBound:
    """Only the matrix products of one MLP training step, into preallocated outputs.

    Forward ``h @ W^T`` per layer; backward ``G^T h`` (weight gradient) per layer and ``G W``
    (input gradient) for every layer but the first, whose input is data.
    """

    def __init__(self, weights, batch: int, dtype=np.float32) -> None:
        rng = np.random.default_rng(0)
        self.ws = [w.astype(dtype) for w, _ in weights]
        sizes = [self.ws[0].shape[1]] + [w.shape[0] for w in self.ws]
        self.hs = [rng.standard_normal((batch, s)).astype(dtype) for s in sizes]
        self.gs = [rng.standard_normal((batch, s)).astype(dtype) for s in sizes]
        self.gws = [np.empty_like(w) for w in self.ws]

    def step(self) -> None:
        hs, gs, ws = self.hs, self.gs, self.ws
        for i, w in enumerate(ws):
            np.matmul(hs[i], w.T, out=hs[i + 1])
        for i in range(len(ws) - 1, -1, -1):
            np.matmul(gs[i + 1].T, hs[i], out=self.gws[i])
            if i:
                np.matmul(gs[i + 1], ws[i], out=gs[i])


def mlp_gemm_flops(sizes, batch: int) -> int:
    """Floating-point operations of the products ``GemmBound`` runs (2 per multiply-add)."""
    flops = 0
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        per = 2 * batch * fan_in * fan_out
        flops += per * (3 if i else 2)
    return flops
