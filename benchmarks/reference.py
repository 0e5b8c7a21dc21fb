"""The hand-written NumPy training step: the ceiling chainrule is measured against.

No framework, no graph: the forward keeps what the backward needs, the backward is written out
by hand, softmax and cross entropy are fused, activations and gradients are updated in place
and the optimizer writes into the weights. Anything chainrule spends beyond this is the price of
being a framework (graph recording, Python dispatch, generic rules).

``GemmBound`` keeps only the matrix products of the same step, with preallocated outputs: no
framework or NumPy implementation of the step can be faster than that. ``NumpyCNN`` and
``CnnGemmBound`` are the same pair for a convolutional network given as a layer list.
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


_ZEROS: dict = {}


def _zeros_like(a: np.ndarray) -> np.ndarray:
    """Cached zeros shaped like ``a``: ``np.maximum`` against an array of zeros runs 2-3x
    faster than against the scalar 0 (NumPy's array-scalar loop is the slow one)."""
    z = _ZEROS.get((a.shape, a.dtype))
    if z is None:
        z = _ZEROS[(a.shape, a.dtype)] = np.zeros(a.shape, a.dtype)
    return z


def _softmax_ce_(h: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Fused softmax + mean CE of logits ``h`` (N, C): the loss, and its gradient
    (softmax - onehot) / N made in place in ``h``."""
    n = h.shape[0]
    h -= h.max(axis=1, keepdims=True)
    rows = np.arange(n)
    picked = h[rows, y]
    np.exp(h, out=h)
    s = h.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(s[:, 0]) - picked))
    h /= s
    h[rows, y] -= 1
    h *= 1.0 / n
    return loss, h


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
                    np.maximum(z, _zeros_like(z), out=z)
                else:
                    _sigmoid_(z)
            acts.append(z)
            h = z
        if self.loss == "cross_entropy":
            loss, g = _softmax_ce_(h, y)
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


# ---- the CNN: the same idea for a layer list (conv, relu, pool, flatten, linear) ----------------
#
# Inside the step the images are laid out as (C, H, W, N), batch innermost: a convolution is then
# ``W (Cout, C*kh*kw) @ cols (C*kh*kw, Ho*Wo*N)``, whose result already is the next layer's
# (Cout, Ho, Wo, N) image, and every im2col / col2im copy moves runs of Wo*N contiguous values.
# ``flatten`` turns (C, H, W, N) into the (N, C*H*W) rows PyTorch's Flatten gives, as a view.


def _parse_layers(layers) -> list[tuple]:
    """The layer list as ``(kind, *sizes)`` tuples, checked: only valid (unpadded) stride-1
    convolutions and non-overlapping max pools; anything else raises ``ValueError``."""
    plan = []
    for spec in layers:
        kind, rest = spec[0], tuple(spec[1:])
        if kind == "conv" and len(rest) >= 3 and rest[3:] in ((), (1,), (1, 0)):
            plan.append(("conv", *rest[:3]))
        elif kind == "pool" and len(rest) in (1, 2) and rest[-1] == rest[0]:
            plan.append(("pool", rest[0]))
        elif kind == "linear" and len(rest) == 2 or kind in ("relu", "flatten") and not rest:
            plan.append((kind, *rest))
        else:
            raise ValueError(f"unsupported layer {spec!r}: only conv (stride 1, no padding), "
                             "relu, non-overlapping pool, flatten and linear")
    return plan


def _im2col(x: np.ndarray, k: int) -> np.ndarray:
    """(C, H, W, N) image -> (C*k*k, Ho*Wo*N) receptive fields, rows in PyTorch's weight order."""
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))
    cols = np.ascontiguousarray(windows.transpose(0, 4, 5, 1, 2, 3))  # (C, k, k, Ho, Wo, N)
    return cols.reshape(x.shape[0] * k * k, -1)


def _col2im(dcols: np.ndarray, shape: tuple, k: int) -> np.ndarray:
    """The adjoint of ``_im2col``: add each kernel offset's block back into the image."""
    c, h, w, n = shape
    ho, wo = h - k + 1, w - k + 1
    blocks = dcols.reshape(c, k, k, ho, wo, n)
    dx = np.zeros(shape, dtype=dcols.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, i:i + ho, j:j + wo] += blocks[:, i, j]
    return dx


def _pool_views(x: np.ndarray, k: int) -> list[np.ndarray]:
    """The k*k strided views of a (C, H, W, N) image, one per window offset, row-major."""
    ho, wo = x.shape[1] // k, x.shape[2] // k
    return [x[:, i:ho * k:k, j:wo * k:k] for i in range(k) for j in range(k)]


class NumpyCNN:
    """A CNN given as a layer list (the ``LENET`` format of cases.py) trained by hand, SGD.

    ``layers``: ``("conv", in, out, k)``, ``("relu",)``, ``("pool", k)``, ``("flatten",)``,
    ``("linear", in, out)``; ``weights``: one ``(W, b)`` per conv (W of shape (out, in, k, k))
    and linear layer, copied. Convolutions are im2col (a strided view, one copy) and one GEMM;
    the backward is one GEMM for the weight gradient and one GEMM plus a col2im over the k*k
    kernel offsets for the input gradient. Max pooling is ``np.maximum`` over the k*k strided
    views; its backward routes each window's gradient to the first maximum in row-major order,
    as PyTorch does when there are ties. Softmax and cross entropy are fused; ReLU, the loss
    gradient and the SGD update work in place. The input image gets no gradient.
    """

    def __init__(self, layers, weights, lr: float) -> None:
        self.plan = _parse_layers(layers)
        self.params = [p.copy() for wb in weights for p in wb]
        if len(self.params) != 2 * sum(s[0] in ("conv", "linear") for s in self.plan):
            raise ValueError("one (W, b) pair per conv and linear layer is needed")
        if self.plan[-1][0] != "linear":
            raise ValueError("the last layer must be linear: its outputs are the logits")
        self.lr = lr

    def gradients(self, x: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
        """Loss and the gradient of every parameter (W1, b1, W2, b2, ...)."""
        h = np.ascontiguousarray(x.transpose(1, 2, 3, 0))  # (N, C, H, W) -> (C, H, W, N)
        p, n = self.params, x.shape[0]
        tape = []  # per layer, what its backward needs
        i = 0  # index of the next weight in p
        for kind, *size in self.plan:
            if kind == "conv":
                cout, k = size[1], size[2]
                cols = _im2col(h, k)
                z = p[i].reshape(cout, -1) @ cols
                z += p[i + 1][:, None]
                tape.append((kind, i, cols, h.shape, k))
                h = z.reshape(cout, h.shape[1] - k + 1, h.shape[2] - k + 1, n)
                i += 2
            elif kind == "linear":
                tape.append((kind, i, h))
                h = h @ p[i].T
                h += p[i + 1]
                i += 2
            elif kind == "relu":
                np.maximum(h, _zeros_like(h), out=h)
                tape.append((kind, h))
            elif kind == "pool":
                views = _pool_views(h, size[0])
                out = np.maximum(views[0], views[1])
                for v in views[2:]:
                    np.maximum(out, v, out=out)
                tape.append((kind, h, out, size[0]))
                h = out
            else:  # flatten: (C, H, W, N) -> (N, C*H*W), a view
                tape.append((kind, h.shape))
                h = h.reshape(-1, n).T
        loss, g = _softmax_ce_(h, y)
        grads = [None] * len(p)
        for kind, *saved in reversed(tape):
            if kind == "conv":
                i, cols, shape, k = saved
                w2 = p[i].reshape(len(p[i]), -1)
                g2 = g.reshape(len(w2), -1)  # (Cout, Ho*Wo*N)
                grads[i] = (g2 @ cols.T).reshape(p[i].shape)
                grads[i + 1] = g2.sum(axis=1)
                if i == 0:
                    break  # the input is data: no gradient
                g = _col2im(w2.T @ g2, shape, k)
            elif kind == "linear":
                i, a = saved
                grads[i] = g.T @ a
                grads[i + 1] = g.sum(axis=0)
                if i == 0:
                    break
                g = g @ p[i]
            elif kind == "relu":
                np.multiply(g, saved[0] > 0, out=g)
            elif kind == "pool":
                g = self._pool_backward(g, *saved)
            else:  # flatten
                g = g.T.reshape(saved[0])
        return loss, grads

    @staticmethod
    def _pool_backward(g, x, out, k) -> np.ndarray:
        """Each window's gradient to its first maximum (row-major), zeros elsewhere."""
        gx = np.zeros_like(x)
        free = np.ones(out.shape, dtype=bool)  # windows whose maximum is not found yet
        for v, gv in zip(_pool_views(x, k), _pool_views(gx, k)):
            hit = v == out
            hit &= free
            np.multiply(g, hit, out=gv)  # windows do not overlap: write straight into gx
            free ^= hit
        return gx

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        loss, grads = self.gradients(x, y)
        for w, g in zip(self.params, grads):
            g *= self.lr
            w -= g
        return loss


class CnnGemmBound:
    """Only the matrix products of one ``NumpyCNN`` step, into preallocated outputs.

    Per conv layer ``W (Cout, C*k*k) @ cols (C*k*k, Ho*Wo*N)`` (forward) and ``G cols^T``
    (weight gradient); per linear layer ``h @ W^T`` and ``G^T h``; and the input gradient
    (``W^T G`` for a conv, ``G W`` for a linear) for every layer but the first, whose input is
    data. Same operand shapes and orientations as ``NumpyCNN``, random data. Not included:
    im2col and col2im copies, ReLU, pooling, the loss and the update.
    """

    def __init__(self, layers, weights, input_shape, dtype=np.float32) -> None:
        rng = np.random.default_rng(0)

        def rand(*shape):
            return rng.standard_normal(shape).astype(dtype)

        def product(a, b):  # (a, b, out) for out = a @ b
            return a, b, np.empty((a.shape[0], b.shape[1]), dtype=dtype)

        n, c, h, w = input_shape
        ws = iter(weights)
        forward, backward = [], []  # backward in forward order, run reversed
        flat = None  # the (F, N) array whose transpose the first linear layer reads
        first = True
        for kind, *size in _parse_layers(layers):
            if kind == "conv":
                k = size[2]
                h, w = h - k + 1, w - k + 1
                w2 = next(ws)[0].astype(dtype).reshape(size[1], -1)
                cols, g = rand(w2.shape[1], h * w * n), rand(size[1], h * w * n)
                forward.append(product(w2, cols))
                backward.append([product(g, cols.T)] + ([] if first else [product(w2.T, g)]))
                c = size[1]
            elif kind == "linear":
                wt = next(ws)[0].astype(dtype)
                a = flat.T if flat is not None else rand(n, size[0])
                g = rand(n, size[1])
                forward.append(product(a, wt.T))
                backward.append([product(g.T, a)] + ([] if first else [product(g, wt)]))
                flat = None
            elif kind == "pool":
                h, w = h // size[0], w // size[0]
            elif kind == "flatten":
                flat = rand(c * h * w, n)
            first = first and kind not in ("conv", "linear")
        self.products = forward + [p for layer in reversed(backward) for p in layer]

    def step(self) -> None:
        for a, b, out in self.products:
            np.matmul(a, b, out=out)
