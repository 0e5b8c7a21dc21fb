"""The training loop users write by hand, stopped and resumed through ``cr.save``/``cr.load``.

Run as a script, ``python manual_loop.py resume CKPT OUT`` is the fresh process of a stopped
run: it builds the run again, continues from the checkpoint CKPT and saves the final state to
OUT.
"""

from __future__ import annotations

import sys

import numpy as np

import chainrule as cr
import chainrule.nn as nn

EPOCHS = 3


def build(optimizer: str = "Adam", seed: int = 0):
    """Model, optimizer, scheduler and loader as the user's script builds them."""
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.25), nn.Linear(8, 3))
    params = model.parameters()
    opt = {
        "SGD": lambda: cr.optim.SGD(params, lr=0.1),
        "SGD-momentum": lambda: cr.optim.SGD(params, lr=0.1, momentum=0.9),
        "SGD-nesterov": lambda: cr.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True),
        "Adam": lambda: cr.optim.Adam(params, lr=0.02),
        "AdamW": lambda: cr.optim.AdamW(params, lr=0.02),
        "RMSprop": lambda: cr.optim.RMSprop(params, lr=0.01, momentum=0.3, centered=True),
        "Adagrad": lambda: cr.optim.Adagrad(params, lr=0.1),
        "Adadelta": lambda: cr.optim.Adadelta(params, lr=1.0),
        "Adamax": lambda: cr.optim.Adamax(params, lr=0.02),
        "ASGD": lambda: cr.optim.ASGD(params, lr=0.05, t0=2),
        "NAdam": lambda: cr.optim.NAdam(params, lr=0.02),
        "RAdam": lambda: cr.optim.RAdam(params, lr=0.02),
        "LBFGS": lambda: cr.optim.LBFGS(params, lr=0.5, max_iter=3, history_size=4),
    }[optimizer]()
    sched = cr.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(26, 4)).astype(np.float32)
    y = rng.integers(0, 3, 26)
    ds = cr.data.TensorDataset(cr.tensor(X, dtype=cr.get_default_dtype()), cr.tensor(y))
    loader = cr.data.DataLoader(ds, batch_size=8, shuffle=True, generator=cr.Generator(seed))
    return model, opt, sched, loader


def train(model, opt, sched, loader, start_epoch=0, start_batch=0, cut=None, on_cut=None):
    """The loop; ``on_cut(epoch)`` runs after step ``cut`` = (epoch, batch) and stops it.

    A loader restored inside a pass yields the rest of that pass: its batches are numbered
    from ``start_batch``, the position the checkpoint recorded.
    """
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for epoch in range(start_epoch, EPOCHS):
        first = start_batch if epoch == start_epoch else 0
        for batch, (x, y) in enumerate(loader, start=first):
            def closure(x=x, y=y):
                opt.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                return loss

            if isinstance(opt, cr.optim.LBFGS):
                loss = opt.step(closure)  # several evaluations, each its own dropout mask
            else:
                loss = closure()
                opt.step()
            losses.append(float(loss.detach().numpy()))
            sched.step(epoch + batch / len(loader))
            if (epoch, batch) == cut:
                on_cut(epoch)
                return losses
    return losses


def save_state(model, opt, sched, loader, epoch, path):
    # What the user saves: every state_dict, the global RNG and the loader's state.
    cr.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
             "scheduler": sched.state_dict(), "rng": cr.get_rng_state(),
             "loader": loader.state_dict(), "epoch": epoch}, path)


def load_state(model, opt, sched, loader, path) -> tuple[int, int]:
    """Restore everything; returns the epoch and the batch to continue from."""
    state = cr.load(path)
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    cr.set_rng_state(state["rng"])
    loader.load_state_dict(state["loader"])
    in_pass = state["loader"]["pass"]
    return state["epoch"], 0 if in_pass is None else in_pass["position"]


def final_state(model, opt, losses) -> dict:
    return {"model": model.state_dict(), "optimizer": opt.state_dict(),
            "losses": np.array(losses), "rng": cr.get_rng_state()}


if __name__ == "__main__":
    mode, path, out = sys.argv[1:]
    if mode != "resume":
        raise SystemExit(f"unknown mode {mode!r}")
    model, opt, sched, loader = build(seed=1)  # a fresh process; seeds do not matter
    cr.manual_seed(4321)
    start, first = load_state(model, opt, sched, loader, path)
    losses = train(model, opt, sched, loader, start_epoch=start, start_batch=first)
    cr.save(final_state(model, opt, losses), out)
