"""Real-model cases: one model definition drives both chainrule and PyTorch.

Each ``*_model(fw, ...)`` builds its network from ``fw`` (the ``chainrule`` or the ``torch``
module) with the code a user would write for PyTorch, and each ``*_step`` runs one training
step the way the model's well-known example does. The weights are not each framework's own
random init: every parameter is overwritten from a NumPy generator seeded by its name
(``set_weights``), so both frameworks start from the same values without either importing the
other.

The models:

- ``gpt``: nanoGPT's decoder (token + position embeddings, pre-LayerNorm blocks with causal
  self-attention from one QKV projection, exact GELU MLP, final LayerNorm, the head tied to the
  token embedding), cross entropy, AdamW with nanoGPT's two weight-decay groups. ``sdpa=True``
  computes the attention with ``F.scaled_dot_product_attention``.
- ``convnet``: PyTorch's MNIST example network (two 3x3 convolutions, max pooling, dropout,
  two dense layers, log_softmax + nll_loss), SGD with momentum.
- ``lstm``: PyTorch's word language model example (embedding, 2-layer LSTM, linear decoder),
  the hidden state carried over and detached between steps, cross entropy, gradient clipping
  at 0.25, SGD.
- ``transformer``: two ``nn.TransformerEncoderLayer`` (PyTorch's defaults), a linear head per
  token, cross entropy, Adam.

``products()`` of each case lists its matrix products (forward and backward) for the GEMM-only
bound.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

# ---- shared --------------------------------------------------------------------------------------


def set_weights(fw, model, seed: int = 0) -> None:
    """Overwrite every parameter of ``model`` with values drawn from its name (same in both
    frameworks): normalisation scales near 1, everything else U(-b, b) with b = 1/sqrt(fan_in)
    (0.1 for vectors and embeddings)."""
    for name, p in model.named_parameters():
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        shape = tuple(p.shape)
        norm = ("ln" in name or "norm" in name) and len(shape) == 1
        if norm and name.endswith("weight"):
            value = 1.0 + rng.uniform(-0.1, 0.1, shape)
        else:
            fan_in = math.prod(shape[1:]) if len(shape) > 1 and "wte" not in name and \
                "wpe" not in name and "encoder" not in name else 100
            bound = 1.0 / math.sqrt(fan_in)
            value = rng.uniform(-bound, bound, shape)
        value = value.astype(np.float32)
        if fw.__name__ == "torch":
            with fw.no_grad():
                p.copy_(fw.from_numpy(value))
        else:
            np.copyto(p.detach().numpy(), value)


def sorted_grads(model) -> list[np.ndarray]:
    """Parameter gradients as NumPy arrays, ordered by parameter name."""
    named = sorted(model.named_parameters(), key=lambda kv: kv[0])
    return [np.array(p.grad.numpy() if p.grad is not None else np.zeros(tuple(p.shape)))
            for _, p in named]


class ModelRunner:
    """``step()``: one training step of ``train_step(fw, state)``; ``grads()``: the gradients
    of one batch in eval mode (dropout off), for the gradient check."""

    def __init__(self, fw, model, train_step, loss_of, opt=None, **state) -> None:
        self.fw, self.model, self.train_step, self.loss_of, self.opt = (fw, model, train_step,
                                                                        loss_of, opt)
        self.state = state

    def step(self) -> None:
        self.train_step(self)

    def grads(self) -> list[np.ndarray]:
        """In float64: in float32 the two frameworks' roundings differ enough to flip a few
        ReLU signs or max-pool choices among millions of values, which moves a weight
        gradient by up to 1e-2 relative although both are right."""
        self.model.double()
        for k, v in self.state.items():
            self.state[k] = _double(v)
        self.model.eval()
        for p in self.model.parameters():
            p.grad = None
        self.loss_of(self).backward()
        self.model.train()
        return sorted_grads(self.model)


def _double(v):
    if isinstance(v, tuple):
        return tuple(_double(t) for t in v)
    if hasattr(v, "dtype") and v.is_floating_point():
        return v.double()
    return v


def _flops(products) -> int:
    return sum(2 * b * m * k * n for b, m, k, n in products)


def linear_products(rows: int, fan_in: int, fan_out: int, input_grad: bool = True) -> list:
    """A dense layer's products (batch, m, k, n): forward x W^T, dW = G^T x, dx = G W."""
    out = [(1, rows, fan_in, fan_out), (1, fan_out, rows, fan_in)]
    return out + ([(1, rows, fan_out, fan_in)] if input_grad else [])


# ---- gpt: nanoGPT --------------------------------------------------------------------------------


GPT = dict(vocab=65, block=64, n_layer=4, n_head=4, n_embd=128, batch=12, dropout=0.1,
           lr=1e-3, weight_decay=0.1, betas=(0.9, 0.99))


def gpt_model(fw, cfg: dict, sdpa: bool = False):
    nn, F = fw.nn, fw.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            d = cfg["n_embd"]
            self.c_attn = nn.Linear(d, 3 * d)
            self.c_proj = nn.Linear(d, d)
            self.attn_dropout = nn.Dropout(cfg["dropout"])
            self.resid_dropout = nn.Dropout(cfg["dropout"])
            self.n_head, self.n_embd, self.dropout = cfg["n_head"], d, cfg["dropout"]
            t = cfg["block"]
            mask = np.tril(np.ones((t, t), dtype=np.float32)).reshape(1, 1, t, t)
            self.register_buffer("bias", fw.from_numpy(mask))

        def forward(self, x):
            b, t, c = x.size()
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            k = k.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
            q = q.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
            v = v.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
            if sdpa:
                y = F.scaled_dot_product_attention(
                    q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0,
                    is_causal=True)
            else:
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
                att = att.masked_fill(self.bias[:, :, :t, :t] == 0, float("-inf"))
                att = F.softmax(att, dim=-1)
                att = self.attn_dropout(att)
                y = att @ v
            y = y.transpose(1, 2).contiguous().view(b, t, c)
            return self.resid_dropout(self.c_proj(y))

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            d = cfg["n_embd"]
            self.c_fc = nn.Linear(d, 4 * d)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * d, d)
            self.dropout = nn.Dropout(cfg["dropout"])

        def forward(self, x):
            return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(cfg["n_embd"])
            self.attn = CausalSelfAttention()
            self.ln_2 = nn.LayerNorm(cfg["n_embd"])
            self.mlp = MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPTModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(cfg["vocab"], cfg["n_embd"])
            self.wpe = nn.Embedding(cfg["block"], cfg["n_embd"])
            self.drop = nn.Dropout(cfg["dropout"])
            self.h = nn.ModuleList([Block() for _ in range(cfg["n_layer"])])
            self.ln_f = nn.LayerNorm(cfg["n_embd"])
            self.lm_head = nn.Linear(cfg["n_embd"], cfg["vocab"], bias=False)
            self.lm_head.weight = self.wte.weight  # weight tying, as nanoGPT

        def forward(self, idx, targets):
            b, t = idx.size()
            pos = fw.arange(0, t, dtype=fw.long)
            x = self.drop(self.wte(idx) + self.wpe(pos))
            for block in self.h:
                x = block(x)
            logits = self.lm_head(self.ln_f(x))
            return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))

    return GPTModel()


def gpt_optimizer(fw, model, cfg: dict):
    """nanoGPT's AdamW groups: matrices decay, vectors (biases, LayerNorm) do not."""
    params = [p for _, p in model.named_parameters()]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg["weight_decay"]},
              {"params": no_decay, "weight_decay": 0.0}]
    return fw.optim.AdamW(groups, lr=cfg["lr"], betas=cfg["betas"])


def gpt_data(cfg: dict, seed: int = 1):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, cfg["vocab"], (cfg["batch"], cfg["block"] + 1)).astype(np.int64)
    return x[:, :-1].copy(), x[:, 1:].copy()


def _gpt_step(r: ModelRunner) -> None:
    r.opt.zero_grad(set_to_none=True)
    loss = r.loss_of(r)
    loss.backward()
    r.opt.step()


def gpt_runner(fw, cfg: dict = GPT, sdpa: bool = False) -> ModelRunner:
    model = gpt_model(fw, cfg, sdpa)
    set_weights(fw, model)
    x, y = gpt_data(cfg)
    return ModelRunner(fw, model, _gpt_step, lambda r: r.model(r.state["x"], r.state["y"]),
                       gpt_optimizer(fw, model, cfg), x=fw.from_numpy(x), y=fw.from_numpy(y))


def gpt_products(cfg: dict = GPT) -> list:
    b, t, d, h = cfg["batch"], cfg["block"], cfg["n_embd"], cfg["n_head"]
    rows, hd = b * t, d // h
    out = []
    for _ in range(cfg["n_layer"]):
        out += linear_products(rows, d, 3 * d)
        # scores Q K^T, then weights @ V; both operands of each need a gradient
        out += [(b * h, t, hd, t), (b * h, t, t, hd), (b * h, t, t, hd)]
        out += [(b * h, t, t, hd), (b * h, t, hd, t), (b * h, t, t, hd)]
        out += linear_products(rows, d, d)
        out += linear_products(rows, d, 4 * d) + linear_products(rows, 4 * d, d)
    return out + linear_products(rows, d, cfg["vocab"])


# ---- convnet: PyTorch's MNIST example ------------------------------------------------------------


CONVNET = dict(batch=64, lr=0.01, momentum=0.9)


def convnet_model(fw):
    nn, F = fw.nn, fw.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = self.conv1(x)
            x = F.relu(x)
            x = self.conv2(x)
            x = F.relu(x)
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = fw.flatten(x, 1)
            x = self.fc1(x)
            x = F.relu(x)
            x = self.dropout2(x)
            x = self.fc2(x)
            return F.log_softmax(x, dim=1)

    return Net()


def _nll_step(r: ModelRunner) -> None:
    r.opt.zero_grad()
    loss = r.loss_of(r)
    loss.backward()
    r.opt.step()


def convnet_runner(fw, cfg: dict = CONVNET) -> ModelRunner:
    model = convnet_model(fw)
    set_weights(fw, model)
    rng = np.random.default_rng(1)
    x = ((rng.random((cfg["batch"], 1, 28, 28)) - 0.1307) / 0.3081).astype(np.float32)
    y = rng.integers(0, 10, cfg["batch"]).astype(np.int64)
    F = fw.nn.functional
    opt = fw.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
    return ModelRunner(fw, model, _nll_step,
                       lambda r: F.nll_loss(r.model(r.state["x"]), r.state["y"]), opt,
                       x=fw.from_numpy(x), y=fw.from_numpy(y))


def convnet_products(cfg: dict = CONVNET) -> list:
    n = cfg["batch"]
    # conv as W (O, C*9) @ cols (C*9, positions * N): forward, weight gradient, input gradient
    out = [(1, 32, 9, 26 * 26 * n), (1, 32, 26 * 26 * n, 9)]  # conv1: input is the data
    out += [(1, 64, 288, 24 * 24 * n), (1, 64, 24 * 24 * n, 288), (1, 288, 64, 24 * 24 * n)]
    return out + linear_products(n, 9216, 128) + linear_products(n, 128, 10)


# ---- lstm: PyTorch's word language model ---------------------------------------------------------


LSTM_LM = dict(ntoken=10000, ninp=200, nhid=200, nlayers=2, bptt=35, batch=20, dropout=0.2,
               lr=20.0, clip=0.25)


def lstm_model(fw, cfg: dict):
    nn = fw.nn

    class RNNModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(cfg["dropout"])
            self.encoder = nn.Embedding(cfg["ntoken"], cfg["ninp"])
            self.rnn = nn.LSTM(cfg["ninp"], cfg["nhid"], cfg["nlayers"], dropout=cfg["dropout"])
            self.decoder = nn.Linear(cfg["nhid"], cfg["ntoken"])

        def forward(self, x, hidden):
            emb = self.drop(self.encoder(x))
            output, hidden = self.rnn(emb, hidden)
            output = self.drop(output)
            decoded = self.decoder(output)
            return decoded.view(-1, cfg["ntoken"]), hidden

    return RNNModel()


def _lstm_loss(r: ModelRunner):
    fw, st = r.fw, r.state
    h = tuple(s.detach() for s in st["hidden"])  # repackage_hidden: truncated BPTT
    out, hidden = r.model(st["x"], h)
    st["hidden"] = hidden
    return fw.nn.functional.cross_entropy(out, st["y"].view(-1))


def _lstm_step(r: ModelRunner) -> None:
    r.opt.zero_grad()
    loss = r.loss_of(r)
    loss.backward()
    r.fw.nn.utils.clip_grad_norm_(r.model.parameters(), r.state["clip"])
    r.opt.step()


def lstm_runner(fw, cfg: dict = LSTM_LM) -> ModelRunner:
    model = lstm_model(fw, cfg)
    set_weights(fw, model)
    rng = np.random.default_rng(1)
    data = rng.integers(0, cfg["ntoken"], (cfg["bptt"] + 1, cfg["batch"])).astype(np.int64)
    shape = (cfg["nlayers"], cfg["batch"], cfg["nhid"])
    hidden = tuple(fw.from_numpy(rng.uniform(-0.5, 0.5, shape).astype(np.float32))
                   for _ in range(2))
    opt = fw.optim.SGD(model.parameters(), lr=cfg["lr"])
    r = ModelRunner(fw, model, _lstm_step, _lstm_loss, opt, x=fw.from_numpy(data[:-1].copy()),
                    y=fw.from_numpy(data[1:].copy()), hidden=hidden, clip=cfg["clip"])
    r.state["hidden0"] = hidden

    def grads():  # the check starts from the same hidden state in both frameworks
        r.state["hidden"] = r.state["hidden0"]
        r.state.pop("hidden0")
        return ModelRunner.grads(r)

    r.grads = grads
    return r


def lstm_products(cfg: dict = LSTM_LM) -> list:
    rows, h, n = cfg["bptt"] * cfg["batch"], cfg["nhid"], cfg["batch"]
    out = []
    for layer in range(cfg["nlayers"]):
        fan_in = cfg["ninp"] if layer == 0 else h
        out += linear_products(rows, fan_in, 4 * h)  # the input projection of all steps
        for _ in range(cfg["bptt"]):  # the recurrent product, one per step
            out += linear_products(n, h, 4 * h)
    return out + linear_products(rows, h, cfg["ntoken"])


# ---- transformer: nn.TransformerEncoderLayer -----------------------------------------------------


TRANSFORMER = dict(d_model=128, nhead=4, layers=2, seq=64, batch=16, classes=10, lr=1e-3)


def transformer_model(fw, cfg: dict):
    nn = fw.nn

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            layer = nn.TransformerEncoderLayer(cfg["d_model"], cfg["nhead"])
            self.encoder = nn.TransformerEncoder(layer, cfg["layers"],
                                                 enable_nested_tensor=False)
            self.head = nn.Linear(cfg["d_model"], cfg["classes"])

        def forward(self, x):
            return self.head(self.encoder(x))

    return Encoder()


def transformer_runner(fw, cfg: dict = TRANSFORMER) -> ModelRunner:
    model = transformer_model(fw, cfg)
    set_weights(fw, model)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((cfg["seq"], cfg["batch"], cfg["d_model"])).astype(np.float32)
    y = rng.integers(0, cfg["classes"], cfg["seq"] * cfg["batch"]).astype(np.int64)
    F = fw.nn.functional
    opt = fw.optim.Adam(model.parameters(), lr=cfg["lr"])
    return ModelRunner(
        fw, model, _nll_step,
        lambda r: F.cross_entropy(r.model(r.state["x"]).view(-1, cfg["classes"]), r.state["y"]),
        opt, x=fw.from_numpy(x), y=fw.from_numpy(y))


def transformer_products(cfg: dict = TRANSFORMER) -> list:
    d, h, t, n = cfg["d_model"], cfg["nhead"], cfg["seq"], cfg["batch"]
    rows, hd, ff = t * n, d // h, 2048
    out = []
    for layer in range(cfg["layers"]):
        out += linear_products(rows, d, 3 * d, input_grad=layer > 0)
        out += [(n * h, t, hd, t), (n * h, t, t, hd), (n * h, t, t, hd)]
        out += [(n * h, t, t, hd), (n * h, t, hd, t), (n * h, t, t, hd)]
        out += linear_products(rows, d, d)
        out += linear_products(rows, d, ff) + linear_products(rows, ff, d)
    return out + linear_products(rows, d, cfg["classes"])


class ProductsBound:
    """Only the matrix products of a step, ``(batch, m, k, n)`` each, into preallocated outputs
    (random float32 operands)."""

    def __init__(self, products) -> None:
        rng = np.random.default_rng(0)
        self.ops = []
        for b, m, k, n in products:
            lead = (b,) if b > 1 else ()
            a = rng.standard_normal(lead + (m, k)).astype(np.float32)
            c = rng.standard_normal(lead + (k, n)).astype(np.float32)
            self.ops.append((a, c, np.empty(lead + (m, n), np.float32)))
        self.flops = _flops(products)

    @staticmethod
    def flops_of(products) -> int:
        """Floating-point operations of the products (2 per multiply-add)."""
        return _flops(products)

    def step(self) -> None:
        for a, c, out in self.ops:
            np.matmul(a, c, out=out)
