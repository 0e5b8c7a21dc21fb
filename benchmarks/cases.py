"""The benchmark cases: a registry where each case is one entry.

A case says what one timed unit is (a training step, or an epoch) and how each implementation
builds a runner for it. A runner is any object with ``step()`` (run one unit) and, for the
gradient check, ``grads()`` (the parameter gradients on the check batch, as NumPy arrays, in
the order W1, b1, W2, b2, ...). Implementations import their framework inside the builder, so a
process measuring one implementation's memory loads nothing else.

Adding a case (a CNN, an LSTM, attention) is one ``register(Case(...))`` with its builders.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import models
import numpy as np
from models import ProductsBound
from reference import CnnGemmBound, GemmBound, NumpyCNN, NumpyMLP, mlp_gemm_flops

# Implementation names, in the order the tables show them.
CHAINRULE, CHAINRULE_FIT, TORCH, JAX, NUMPY, GEMM = (
    "chainrule", "chainrule fit", "pytorch", "jax jit", "numpy", "gemm bound")
IMPLS = (CHAINRULE, CHAINRULE_FIT, TORCH, JAX, NUMPY, GEMM)
# JAX is optional (``pip install jax``): its column appears only where it is installed.
HAVE_JAX = importlib.util.find_spec("jax") is not None


@dataclass
class Case:
    key: str
    title: str
    unit: str  # "step" or "epoch"
    flops: int  # GEMM flops of one unit (for GFLOP/s); 0 if not meaningful
    builders: dict[str, Callable[[], object]]
    targets: dict[str, float] = field(default_factory=dict)  # e.g. {"pytorch": 0.9}
    note: str = ""
    # The gradient check runs in float64 with dropout off (the real-model cases: see models.py)
    float64_check: bool = False


CASES: dict[str, Case] = {}


def register(case: Case) -> Case:
    CASES[case.key] = case
    return case


# ---- data and weights shared by every implementation ------------------------------------------


def init_weights(sizes, seed: int = 0):
    """PyTorch's default Linear init (U(-1/sqrt(in), 1/sqrt(in))), float32, from one seed."""
    rng = np.random.default_rng(seed)
    out = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        w = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        b = rng.uniform(-bound, bound, fan_out).astype(np.float32)
        out.append((w, b))
    return out


def batch_data(sizes, batch: int, loss: str, seed: int = 1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    if loss == "cross_entropy":
        y = rng.integers(0, sizes[-1], batch).astype(np.int64)
    else:
        y = rng.standard_normal((batch, sizes[-1])).astype(np.float32)
    return x, y


_MNIST_CACHE = "mnist/mnist.npz"  # chainrule's processed cache (raw uint8 pixels)


def mnist_arrays() -> tuple[np.ndarray, np.ndarray, str]:
    """MNIST training images (60000, 784) float32 in [0, 1] and labels, read straight from
    chainrule's dataset cache with NumPy (so no process loads a framework just for the data).
    Falls back to random MNIST-shaped data when the cache is absent."""
    root = Path(os.environ.get("CHAINRULE_DATA") or Path.home() / ".cache" / "chainrule")
    path = root / _MNIST_CACHE
    if path.exists():
        with np.load(path) as f:
            x, y = f["x_train"], f["y_train"]
        x = np.divide(x.reshape(len(x), 784), np.float32(255), dtype=np.float32)
        return x, y.astype(np.int64), "real MNIST (60,000 training images)"
    rng = np.random.default_rng(2)
    x = rng.random((60000, 784), dtype=np.float32)
    y = rng.integers(0, 10, 60000).astype(np.int64)
    return x, y, "synthetic MNIST-shaped data (MNIST cache not found)"


# ---- the MLP family: one builder per implementation --------------------------------------------


@dataclass
class MLPSpec:
    sizes: tuple
    act: str  # "relu" | "sigmoid"
    loss: str  # "cross_entropy" | "mse"
    optimizer: str  # "sgd" | "adam"
    lr: float
    batch: int


def _cr_model(spec: MLPSpec, weights):
    import chainrule as cr

    layers = []
    for i, (w, b) in enumerate(weights):
        lin = cr.nn.Linear(w.shape[1], w.shape[0])
        np.copyto(lin.weight.detach().numpy(), w)
        np.copyto(lin.bias.detach().numpy(), b)
        layers.append(lin)
        if i < len(weights) - 1:
            layers.append(cr.nn.ReLU() if spec.act == "relu" else cr.nn.Sigmoid())
    model = cr.nn.Sequential(*layers)
    loss_fn = cr.nn.CrossEntropyLoss() if spec.loss == "cross_entropy" else cr.nn.MSELoss()
    opt_cls = cr.optim.SGD if spec.optimizer == "sgd" else cr.optim.Adam
    return cr, model, loss_fn, opt_cls(model.parameters(), lr=spec.lr)


def _torch_model(spec: MLPSpec, weights):
    import torch

    layers = []
    for i, (w, b) in enumerate(weights):
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if i < len(weights) - 1:
            layers.append(torch.nn.ReLU() if spec.act == "relu" else torch.nn.Sigmoid())
    model = torch.nn.Sequential(*layers)
    loss_fn = torch.nn.CrossEntropyLoss() if spec.loss == "cross_entropy" else torch.nn.MSELoss()
    opt_cls = torch.optim.SGD if spec.optimizer == "sgd" else torch.optim.Adam
    return torch, model, loss_fn, opt_cls(model.parameters(), lr=spec.lr)


class _JaxMLP:
    """The same network (the MLP of ``spec`` unless ``loss_fn`` is given) as one
    ``jax.jit``-compiled training step (forward, loss, grad, update).

    The parameters are donated to the step, so XLA may update them in place. ``step`` waits for
    the result (JAX dispatches asynchronously): the time is the whole computation.
    """

    def __init__(self, spec: MLPSpec, weights, loss_fn=None) -> None:
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        act = jax.nn.relu if spec.act == "relu" else jax.nn.sigmoid

        def mlp_loss(params, x, y):
            h = x
            for i, (w, b) in enumerate(params):
                h = h @ w.T + b
                if i < len(params) - 1:
                    h = act(h)
            if spec.loss == "cross_entropy":
                logp = jax.nn.log_softmax(h, axis=1)
                return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))
            return jnp.mean((h - y) ** 2)

        loss_fn = loss_fn or mlp_loss
        lr, adam = spec.lr, spec.optimizer == "adam"
        b1, b2, eps = 0.9, 0.999, 1e-8

        def step(state, x, y):
            params, m, v, t = state
            grads = jax.grad(loss_fn)(params, x, y)
            if not adam:
                return jax.tree.map(lambda p, g: p - lr * g, params, grads), m, v, t
            t = t + 1  # PyTorch's Adam, bias corrections included
            m = jax.tree.map(lambda a, g: b1 * a + (1 - b1) * g, m, grads)
            v = jax.tree.map(lambda a, g: b2 * a + (1 - b2) * g * g, v, grads)
            c1, c2 = 1 - b1 ** t, 1 - b2 ** t
            params = jax.tree.map(
                lambda p, a, s: p - (lr / c1) * a / (jnp.sqrt(s) / jnp.sqrt(c2) + eps),
                params, m, v)
            return params, m, v, t

        params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in weights]
        zeros = jax.tree.map(jnp.zeros_like, params)
        self.state = (params, zeros, jax.tree.map(jnp.zeros_like, params),
                      jnp.asarray(0.0, jnp.float32))
        self._step = jax.jit(step, donate_argnums=0)
        self._grad = jax.jit(jax.grad(loss_fn))

    def train(self, x, y) -> None:
        self.state = self._step(self.state, x, y)

    def wait(self) -> None:
        self.jax.block_until_ready(self.state)

    def grads(self, x, y) -> list[np.ndarray]:
        g = self._grad(self.state[0], x, y)
        return [np.asarray(a) for wb in g for a in wb]


class _JaxRunner:
    def __init__(self, spec: MLPSpec, weights, x, y, loss_fn=None) -> None:
        self.net = _JaxMLP(spec, weights, loss_fn)
        self.x, self.y = self.net.jnp.asarray(x), self.net.jnp.asarray(y)

    def step(self) -> None:
        self.net.train(self.x, self.y)
        self.net.wait()

    def grads(self) -> list[np.ndarray]:
        return self.net.grads(self.x, self.y)


class _LoopRunner:
    """The PyTorch-style loop (zero_grad, forward, loss, backward, step), for either framework."""

    def __init__(self, fw, model, loss_fn, opt, x, y) -> None:
        self.fw, self.model, self.loss_fn, self.opt = fw, model, loss_fn, opt
        self.x, self.y = fw.from_numpy(x), fw.from_numpy(y)

    def step(self) -> None:
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()

    def grads(self) -> list[np.ndarray]:
        self.opt.zero_grad()
        self.loss_fn(self.model(self.x), self.y).backward()
        return [np.array(p.grad.numpy()) for p in self.model.parameters()]


class _NumpyRunner:
    def __init__(self, spec: MLPSpec, weights, x, y) -> None:
        self.net, self.x, self.y = NumpyMLP(weights, spec.act, spec.loss, spec.optimizer,
                                            spec.lr), x, y

    def step(self) -> None:
        self.net.step(self.x, self.y)

    def grads(self) -> list[np.ndarray]:
        return self.net.gradients(self.x, self.y)[1]


class _NumpyCnnRunner(_NumpyRunner):
    def __init__(self, layers, weights, lr: float, x, y) -> None:
        self.net, self.x, self.y = NumpyCNN(layers, weights, lr), x, y


def mlp_step_case(key: str, title: str, spec: MLPSpec, targets: dict, note: str = "") -> Case:
    weights = init_weights(spec.sizes)
    x, y = batch_data(spec.sizes, spec.batch, spec.loss)

    def chainrule():
        cr, model, loss_fn, opt = _cr_model(spec, weights)
        return _LoopRunner(cr, model, loss_fn, opt, x, y)

    def pytorch():
        torch, model, loss_fn, opt = _torch_model(spec, weights)
        return _LoopRunner(torch, model, loss_fn, opt, x, y)

    builders = {
        CHAINRULE: chainrule,
        TORCH: pytorch,
        NUMPY: lambda: _NumpyRunner(spec, weights, x, y),
        GEMM: lambda: GemmBound(weights, spec.batch),
    }
    if HAVE_JAX:
        builders[JAX] = lambda: _JaxRunner(spec, weights, x, y)
    return Case(key, title, "step", mlp_gemm_flops(spec.sizes, spec.batch), builders, targets,
                note)


# ---- the epoch case: data loading and shuffling included ---------------------------------------



def _epoch(loader, model, loss_fn, opt) -> None:
    """One epoch of the PyTorch-style loop; chainrule and PyTorch run this same code."""
    for xb, yb in loader:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()

class _CrEpoch(_LoopRunner):
    def __init__(self, spec: MLPSpec, weights, x, y, use_fit: bool) -> None:
        cr, model, loss_fn, opt = _cr_model(spec, weights)
        super().__init__(cr, model, loss_fn, opt, x[:spec.batch], y[:spec.batch])
        ds = cr.data.TensorDataset(cr.from_numpy(x), cr.from_numpy(y))
        self.loader = cr.data.DataLoader(ds, batch_size=spec.batch, shuffle=True)
        self.use_fit = use_fit

    def step(self) -> None:
        if self.use_fit:
            self.fw.train.fit(self.model, self.loader, loss=self.loss_fn, optimizer=self.opt,
                              epochs=1, verbose=0, metrics=())
            return
        _epoch(self.loader, self.model, self.loss_fn, self.opt)


class _TorchEpoch(_LoopRunner):
    def __init__(self, spec: MLPSpec, weights, x, y) -> None:
        torch, model, loss_fn, opt = _torch_model(spec, weights)
        super().__init__(torch, model, loss_fn, opt, x[:spec.batch], y[:spec.batch])
        ds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
        self.loader = torch.utils.data.DataLoader(ds, batch_size=spec.batch, shuffle=True)

    def step(self) -> None:
        _epoch(self.loader, self.model, self.loss_fn, self.opt)


class _Epoch:
    """Mixin for a runner whose unit is one shuffled epoch, batches gathered with NumPy."""

    def __init__(self, spec: MLPSpec, weights, x, y) -> None:
        super().__init__(spec, weights, x[:spec.batch], y[:spec.batch])
        self.data, self.batch = (x, y), spec.batch
        self.rng = np.random.default_rng(0)

    def batches(self):
        x, y = self.data
        order = self.rng.permutation(len(x))
        for i in range(0, len(x), self.batch):
            idx = order[i:i + self.batch]
            yield np.take(x, idx, axis=0), np.take(y, idx, axis=0)


class _NumpyEpoch(_Epoch, _NumpyRunner):
    def step(self) -> None:
        for xb, yb in self.batches():
            self.net.step(xb, yb)


class _JaxEpoch(_Epoch, _JaxRunner):
    """Each batch handed to the compiled step; the epoch waits for the last one."""

    def step(self) -> None:
        for xb, yb in self.batches():
            self.net.train(xb, yb)
        self.net.wait()


def mlp_epoch_case(key: str, title: str, spec: MLPSpec, targets: dict) -> Case:
    weights = init_weights(spec.sizes)
    state: dict = {}

    def data():
        if not state:
            state["xy"] = mnist_arrays()
        return state["xy"][:2]

    builders = {
        CHAINRULE: lambda: _CrEpoch(spec, weights, *data(), use_fit=False),
        CHAINRULE_FIT: lambda: _CrEpoch(spec, weights, *data(), use_fit=True),
        TORCH: lambda: _TorchEpoch(spec, weights, *data()),
        NUMPY: lambda: _NumpyEpoch(spec, weights, *data()),
    }
    if HAVE_JAX:
        builders[JAX] = lambda: _JaxEpoch(spec, weights, *data())
    steps = -(-60000 // spec.batch)
    case = Case(key, title, "epoch", mlp_gemm_flops(spec.sizes, spec.batch) * steps, builders,
                targets)
    case.describe_data = lambda: state["xy"][2] if state else mnist_arrays()[2]
    return case


# ---- the CNN family: a layer list builds every implementation ----------------------------------

LENET = (("conv", 1, 6, 5), ("relu",), ("pool", 2), ("conv", 6, 16, 5), ("relu",), ("pool", 2),
         ("flatten",), ("linear", 256, 120), ("relu",), ("linear", 120, 84), ("relu",),
         ("linear", 84, 10))


def cnn_weights(layers, seed: int = 0):
    """PyTorch's default init for every conv and linear layer, float32, from one seed."""
    rng = np.random.default_rng(seed)
    out = []
    for spec in layers:
        if spec[0] in ("conv", "linear"):
            cin, cout = spec[1], spec[2]
            shape = (cout, cin, spec[3], spec[3]) if spec[0] == "conv" else (cout, cin)
            bound = 1 / np.sqrt(int(np.prod(shape[1:])))
            out.append((rng.uniform(-bound, bound, shape).astype(np.float32),
                        rng.uniform(-bound, bound, cout).astype(np.float32)))
    return out


def _sequential(fw, layers, weights):
    """The layer list as ``fw.nn.Sequential`` (chainrule or PyTorch) holding ``weights``."""
    nn, mods, it = fw.nn, [], iter(weights)
    for spec in layers:
        kind = spec[0]
        if kind in ("conv", "linear"):
            mod = nn.Conv2d(*spec[1:]) if kind == "conv" else nn.Linear(*spec[1:])
            w, b = next(it)
            for param, value in ((mod.weight, w), (mod.bias, b)):
                if fw.__name__ == "torch":
                    with fw.no_grad():
                        param.copy_(fw.from_numpy(value))
                else:
                    np.copyto(param.detach().numpy(), value)
            mods.append(mod)
        else:
            mods.append({"relu": nn.ReLU, "flatten": nn.Flatten}[kind]() if kind != "pool"
                        else nn.MaxPool2d(spec[1]))
    return nn.Sequential(*mods)


def _jax_cnn_loss(layers):
    import jax
    import jax.numpy as jnp

    def loss_fn(params, x, y):
        h, it = x, iter(params)
        for spec in layers:
            kind = spec[0]
            if kind == "conv":
                w, b = next(it)
                h = jax.lax.conv_general_dilated(h, w, (1, 1), "VALID") + b[None, :, None, None]
            elif kind == "linear":
                w, b = next(it)
                h = h @ w.T + b
            elif kind == "relu":
                h = jax.nn.relu(h)
            elif kind == "pool":
                k = spec[1]
                h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 1, k, k), (1, 1, k, k),
                                          "VALID")
            else:
                h = h.reshape(h.shape[0], -1)
        logp = jax.nn.log_softmax(h, axis=1)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    return loss_fn


def cnn_gemm_flops(layers, batch: int, size: int) -> int:
    """Flops of the step's products: forward, weight gradient, and input gradient but for the
    first layer (2 per multiply-add)."""
    flops, first, hw = 0, True, size
    for spec in layers:
        if spec[0] == "conv":
            hw = hw - spec[3] + 1
            per = 2 * batch * hw * hw * spec[2] * spec[1] * spec[3] ** 2
        elif spec[0] == "linear":
            per = 2 * batch * spec[1] * spec[2]
        else:
            hw = hw // spec[1] if spec[0] == "pool" else hw
            continue
        flops += per * (2 if first else 3)
        first = False
    return flops


def cnn_step_case(key: str, title: str, layers, batch: int, lr: float, targets: dict) -> Case:
    weights = cnn_weights(layers)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, batch).astype(np.int64)

    def build(fw):
        model = _sequential(fw, layers, weights)
        return _LoopRunner(fw, model, fw.nn.CrossEntropyLoss(),
                           fw.optim.SGD(model.parameters(), lr=lr), x, y)

    def chainrule():
        import chainrule as cr

        return build(cr)

    def pytorch():
        import torch

        return build(torch)

    builders = {
        CHAINRULE: chainrule,
        TORCH: pytorch,
        NUMPY: lambda: _NumpyCnnRunner(layers, weights, lr, x, y),
        GEMM: lambda: CnnGemmBound(layers, weights, x.shape),
    }
    if HAVE_JAX:
        spec = MLPSpec((), "relu", "cross_entropy", "sgd", lr, batch)
        builders[JAX] = lambda: _JaxRunner(spec, weights, x, y, _jax_cnn_loss(layers))
    return Case(key, title, "step", cnn_gemm_flops(layers, batch, x.shape[2]), builders,
                targets)


# ---- the registry -----------------------------------------------------------------------------

register(mlp_step_case(
    "C", "1-1-1 net (sigmoid hidden, linear out), MSE, SGD, one sample",
    MLPSpec((1, 1, 1), "sigmoid", "mse", "sgd", 0.1, 1), {TORCH: 0.30},
    note="pure framework overhead: every array has one element"))
register(mlp_step_case(
    "A32", "MLP 784-256-10, ReLU, softmax cross-entropy, SGD, batch 32",
    MLPSpec((784, 256, 10), "relu", "cross_entropy", "sgd", 0.01, 32), {TORCH: 0.75}))
register(mlp_step_case(
    "A128", "MLP 784-256-10, ReLU, softmax cross-entropy, SGD, batch 128",
    MLPSpec((784, 256, 10), "relu", "cross_entropy", "sgd", 0.01, 128), {TORCH: 0.90}))
register(mlp_step_case(
    "B", "MLP 784-1024-1024-10, ReLU, softmax cross-entropy, SGD, batch 256",
    MLPSpec((784, 1024, 1024, 10), "relu", "cross_entropy", "sgd", 0.01, 256),
    {TORCH: 0.95, GEMM: 1.2}))
register(mlp_epoch_case(
    "E", "one MNIST epoch of the batch-128 MLP (784-256-10), shuffled, Adam",
    MLPSpec((784, 256, 10), "relu", "cross_entropy", "adam", 1e-3, 128), {TORCH: 0.90}))
register(cnn_step_case(
    "CNN", "LeNet-like CNN (conv 6 and 16 channels 5x5, ReLU, max-pool 2, dense 120-84-10), "
    "softmax cross-entropy, SGD, batch 64", LENET, 64, 0.01, {}))


# ---- real models: one model definition drives both frameworks (models.py) ---------------------


def model_case(key: str, title: str, runner, products, targets: dict, note: str = "") -> Case:
    """A case whose chainrule and PyTorch runners come from the same model code."""

    def chainrule():
        import chainrule as cr

        return runner(cr)

    def pytorch():
        import torch

        return runner(torch)

    builders = {CHAINRULE: chainrule, TORCH: pytorch, GEMM: lambda: ProductsBound(products)}
    return Case(key, title, "step", ProductsBound.flops_of(products), builders, targets, note,
                float64_check=True)


register(model_case(
    "gpt", "nanoGPT-shaped decoder: 4 blocks, d=128, 4 heads, T=64, batch 12, vocab 65, exact "
    "GELU, dropout 0.1, tied head, cross entropy, AdamW", models.gpt_runner,
    models.gpt_products(), {TORCH: 0.90}, note="attention written out: QK^T, masked_fill, "
    "softmax, dropout, @ V"))
register(model_case(
    "gpt-sdpa", "the same decoder with F.scaled_dot_product_attention(is_causal=True)",
    lambda fw: models.gpt_runner(fw, sdpa=True), models.gpt_products(), {TORCH: 0.90}))
register(model_case(
    "convnet", "PyTorch's MNIST example net: conv 1-32 and 32-64 3x3, ReLU, max-pool 2, dropout "
    "0.25, dense 9216-128, dropout 0.5, dense 10, log_softmax + nll_loss, SGD momentum, batch 64",
    models.convnet_runner, models.convnet_products(), {TORCH: 0.90}))
register(model_case(
    "lstm", "PyTorch's word LM example: embedding 10000x200, 2-layer LSTM 200 (dropout 0.2), "
    "decoder 10000, bptt 35, batch 20, cross entropy, clip_grad_norm_ 0.25, SGD",
    models.lstm_runner, models.lstm_products(), {TORCH: 0.90}))
register(model_case(
    "transformer", "2 x nn.TransformerEncoderLayer (d=128, 4 heads, feed-forward 2048, dropout "
    "0.1), seq 64, batch 16, linear head, cross entropy, Adam", models.transformer_runner,
    models.transformer_products(), {TORCH: 0.90}))
