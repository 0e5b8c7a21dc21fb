"""Run a small training job once uninterrupted and once resumed from each of its checkpoints.

A resumed run is built the way a fresh process would build it: the same code, but other
initial weights, the global generator elsewhere and every explicit generator seeded
differently, so only what the checkpoint restores can make it match. Everything that the run
leaves behind is then compared bit for bit: parameters, optimizer and scheduler state, the
history (all but wall time), callback states, and every generator's state.
"""

from __future__ import annotations

import math
import os

import numpy as np

import chainrule as cr
import chainrule.nn as nn
from chainrule.train import Callback, fit

N, BATCH, EPOCHS = 30, 8, 3  # 4 batches an epoch (3 with drop_last), 12 steps in all


def data(dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 3)).astype(dtype)
    y = rng.integers(0, 3, N).astype(np.int64)
    return X, y


class Cut(Callback):
    """Writes a checkpoint at the given optimizer steps (inside epochs) and epoch ends."""

    def __init__(self, folder, steps=(), epochs=()):
        self.folder, self.steps, self.epochs = folder, set(steps), set(epochs)

    def on_batch_end(self, trainer, batch, logs):
        if trainer.step in self.steps:
            trainer.save_checkpoint(os.path.join(self.folder, f"step{trainer.step}.ckpt"))

    def on_epoch_end(self, trainer, epoch, logs):
        if epoch + 1 in self.epochs:
            trainer.save_checkpoint(os.path.join(self.folder, f"epoch{epoch + 1}.ckpt"))


class NoisyLinear(nn.Module):
    """A layer with randomness of its own: Gaussian weight noise while training."""

    def __init__(self, n_in, n_out, seed):
        super().__init__()
        self.fc = nn.Linear(n_in, n_out)
        self.gen = cr.Generator(seed)

    def forward(self, x):
        if not self.training:
            return self.fc(x)
        noise = cr.randn(*self.fc.weight.shape, generator=self.gen).to(x.dtype) * 0.01
        return x @ (self.fc.weight + noise).T + self.fc.bias


class LRJitter(Callback):
    """A callback with randomness of its own: scales the lr randomly at each epoch start."""

    def __init__(self, seed):
        self.gen = cr.Generator(seed)

    def on_epoch_begin(self, trainer, epoch):
        for group in trainer.optimizer.param_groups:
            group["lr"] = group["lr"] * (0.9 + 0.2 * float(self.gen.random()))


class NoisySGD(cr.optim.SGD):
    """An optimizer with randomness of its own: Gaussian noise added to every update."""

    def __init__(self, params, lr, seed):
        super().__init__(params, lr=lr)
        self.noise = cr.Generator(seed)

    def step(self, closure=None):
        out = super().step(closure)
        for group in self.param_groups:
            for p in group["params"]:
                p._data += (self.noise.normal(0, 1e-3, p.shape)).astype(p._data.dtype)
        return out


class JitteredLoss(nn.Module):
    """A loss with randomness of its own: each batch's loss scaled by a random factor."""

    def __init__(self, seed):
        super().__init__()
        self.gen = cr.Generator(seed)

    def forward(self, output, target):
        scale = 0.5 + float(self.gen.random())
        return nn.functional.cross_entropy(output, target) * scale


class AugmentedDataset(cr.data.Dataset):
    """Per-sample random noise from the dataset's own generator (the collate path)."""

    def __init__(self, X, y, seed):
        self.X, self.y, self.gen = X, y, cr.Generator(seed)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        x = self.X[i] + self.gen.normal(0, 0.05, self.X.shape[1]).astype(self.X.dtype)
        return cr.tensor(x), cr.tensor(self.y[i])


class BucketBatches:
    """A PyTorch-style batch sampler of its own (not a chainrule Sampler), lazily iterated."""

    def __init__(self, n, batch_size, seed):
        self.n, self.batch_size, self.generator = n, batch_size, cr.Generator(seed)

    def __iter__(self):
        order = self.generator.permutation(self.n)
        for start in range(0, self.n, self.batch_size):
            yield order[start:start + self.batch_size].tolist()

    def __len__(self):
        return -(-self.n // self.batch_size)


def model_for(kind, seed_offset):
    if kind == "dropout":
        return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 3))
    if kind == "plain":
        return nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 3))
    if kind == "noisy":
        return nn.Sequential(NoisyLinear(3, 8, 5 + seed_offset), nn.ReLU(), nn.Dropout(0.2),
                             nn.Linear(8, 3))
    raise ValueError(kind)


def run(cfg: dict, dtype, folder, *, resume=None, cut_steps=(), cut_epochs=()):
    """Build the job of ``cfg`` and train it; ``resume``: as a fresh process would."""
    fresh = resume is not None
    offset = 1000 if fresh else 0  # other seeds for everything the checkpoint must restore
    cr.manual_seed(7 + offset)
    model = model_for(cfg.get("model", "dropout"), offset)
    opt = cfg.get("optimizer", lambda p: cr.optim.Adam(p, lr=0.02))(model.parameters())
    if isinstance(opt, NoisySGD):
        opt.noise.manual_seed(opt.noise.initial_seed() + offset)
    sched, interval = cfg.get("scheduler", lambda o: (None, "epoch"))(opt)
    X, y = data(dtype)
    train = cfg.get("train", lambda X, y, s: (X, y))(X, y, offset)
    val = cfg.get("val", lambda X, y, s: None)(X[:12], y[:12], offset)
    callbacks = cfg.get("callbacks", lambda folder, s: [])(folder, offset)
    cut = Cut(folder, cut_steps, cut_epochs)
    if fresh:
        cr.manual_seed(12345)  # the global generator somewhere else entirely
    loss = cfg.get("loss", lambda s: "cross_entropy")(offset)
    history = fit(model, train, loss=loss, optimizer=opt, scheduler=sched,
                  scheduler_interval=interval, epochs=EPOCHS, batch_size=BATCH, val=val,
                  callbacks=[*callbacks, cut], verbose=0, seed=3,
                  shuffle=cfg.get("shuffle", True), resume=resume)
    return {"model": model, "optimizer": opt, "scheduler": sched, "history": history,
            "callbacks": callbacks, "train": train, "val": val}


def _generators(obj, seen=None, path="x"):
    """Every generator reachable from obj through attributes, containers (by path)."""
    seen = set() if seen is None else seen
    if id(obj) in seen or obj is None or isinstance(
            obj, (str, bytes, int, float, np.ndarray, cr.Tensor)):
        return {}
    seen.add(id(obj))
    if isinstance(obj, cr.Generator):
        return {path: obj.get_state().numpy()}
    out = {}
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = enumerate(obj)
    elif hasattr(obj, "__dict__") and type(obj).__module__.startswith(("chainrule", "resume")):
        items = vars(obj).items()
    else:
        items = ()
    for k, v in items:
        out.update(_generators(v, seen, f"{path}.{k}"))
    return out


def assert_same(a, b, where="state"):
    """Bit-for-bit equality of nested states (arrays, tensors, numbers, NaN included)."""
    if hasattr(a, "_data"):
        a = a._data
    if hasattr(b, "_data"):
        b = b._data
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), f"{where}: keys {list(a)} {list(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}.{i}")
    elif isinstance(a, (np.ndarray, np.generic)):
        assert np.asarray(b).dtype == a.dtype, f"{where}: dtype {np.asarray(b).dtype} {a.dtype}"
        np.testing.assert_array_equal(np.asarray(b), a, err_msg=where, strict=True)
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), where
    else:
        assert type(a) is type(b) and a == b, f"{where}: {a!r} != {b!r}"


def compare(full: dict, resumed: dict) -> None:
    assert_same({k: v._data for k, v in full["model"].state_dict().items()},
                {k: v._data for k, v in resumed["model"].state_dict().items()}, "model")
    assert_same(full["optimizer"].state_dict(), resumed["optimizer"].state_dict(), "optimizer")
    if full["scheduler"] is not None:
        assert_same(full["scheduler"].state_dict(), resumed["scheduler"].state_dict(),
                    "scheduler")
    hf, hr = full["history"], resumed["history"]
    assert hr.epoch == hf.epoch
    assert sorted(hr.history) == sorted(hf.history)
    for key in hf.history:
        if key != "time":
            np.testing.assert_array_equal(np.array(hr.history[key]), np.array(hf.history[key]),
                                          err_msg=f"history {key}", strict=True)
    for cf, cres in zip(full["callbacks"], resumed["callbacks"]):
        assert_same(cf.state_dict(), cres.state_dict(), f"callback {type(cf).__name__}")
    np.testing.assert_array_equal(cr.get_rng_state().numpy(), full["rng_after"])
    assert_same(full["generators"], _generators(
        [resumed["model"], resumed["train"], resumed["val"], resumed["callbacks"]]),
        "generators")


def check_all_cuts(cfg: dict, dtype, tmp_path, cut_steps=(1, 5, 8), cut_epochs=(1, 2)):
    """One uninterrupted run writing checkpoints at every cut, then a resumed run per cut."""
    folder = tmp_path / "full"
    folder.mkdir()
    full = run(cfg, dtype, str(folder), cut_steps=cut_steps, cut_epochs=cut_epochs)
    full["rng_after"] = cr.get_rng_state().numpy()
    full["generators"] = _generators([full["model"], full["train"], full["val"],
                                      full["callbacks"]])
    files = sorted(os.listdir(folder))
    expected = {f"step{s}.ckpt" for s in cut_steps} | {f"epoch{e}.ckpt" for e in cut_epochs}
    assert expected <= set(files), f"missing checkpoints: {sorted(expected - set(files))}"
    for name in sorted(expected):
        again = tmp_path / f"resumed-{name}"
        again.mkdir()
        resumed = run(cfg, dtype, str(again), resume=str(folder / name))
        compare(full, resumed)
