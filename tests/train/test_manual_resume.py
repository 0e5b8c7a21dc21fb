"""The hand-written loop: save every state with ``cr.save`` (model, optimizer, scheduler,
``cr.get_rng_state()``, the loader's state), restore in a fresh setup, continue: identical."""

import os
import subprocess
import sys

import numpy as np
import pytest
from manual_loop import EPOCHS, build, final_state, load_state, save_state, train
from resume_harness import assert_same

import chainrule as cr

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, os.pardir, os.pardir, "src")


def _compare(full, resumed):
    assert_same(full["model"], resumed["model"], "model")
    assert_same(full["optimizer"], resumed["optimizer"], "optimizer")
    n = len(resumed["losses"])
    np.testing.assert_array_equal(resumed["losses"], full["losses"][len(full["losses"]) - n:],
                                  strict=True)
    np.testing.assert_array_equal(resumed["rng"], full["rng"])


def _plain(state):
    return {k: v._data if hasattr(v, "_data") else v for k, v in state.items()}


def _final(model, opt, losses):
    out = final_state(model, opt, losses)
    return {"model": {k: v._data.copy() for k, v in out["model"].items()},
            "optimizer": out["optimizer"], "losses": out["losses"],
            "rng": out["rng"].numpy()}


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    monkeypatch.setattr(os, "fsync", lambda fd: None)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("optimizer", ["SGD", "SGD-momentum", "SGD-nesterov", "Adam", "AdamW",
                                       "RMSprop", "Adagrad", "Adadelta", "Adamax", "ASGD",
                                       "NAdam", "RAdam", "LBFGS"])
def test_every_cut_of_the_manual_loop(optimizer, dtype, tmp_path):
    cr.set_default_dtype(getattr(cr, dtype))
    model, opt, sched, loader = build(optimizer)
    full = _final(model, opt, train(model, opt, sched, loader))
    # Inside epochs, at the last batch of an epoch (before the loop sees its end), at the start.
    for cut in [(0, 0), (0, 2), (1, 1), (1, 3), (2, 2)]:
        path = str(tmp_path / f"cut{cut[0]}{cut[1]}.ckpt")
        model, opt, sched, loader = build(optimizer)
        train(model, opt, sched, loader, cut=cut,
              on_cut=lambda e, m=model, o=opt, s=sched, ld=loader, p=path: save_state(
                  m, o, s, ld, e, p))
        model, opt, sched, loader = build(optimizer, seed=1)
        cr.manual_seed(999)
        start, first = load_state(model, opt, sched, loader, path)
        losses = train(model, opt, sched, loader, start_epoch=start, start_batch=first)
        _compare(full, _final(model, opt, losses))


def test_without_the_loader_state_the_run_differs(tmp_path):
    # The review's finding: the loader's generator decides the order, so it must be saved.
    model, opt, sched, loader = build()
    full = _final(model, opt, train(model, opt, sched, loader))
    path = str(tmp_path / "c.ckpt")
    model, opt, sched, loader = build()
    train(model, opt, sched, loader, cut=(0, 3),
          on_cut=lambda e: save_state(model, opt, sched, loader, e, path))
    model, opt, sched, loader = build()
    state = cr.load(path)
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    cr.set_rng_state(state["rng"])
    losses = train(model, opt, sched, loader, start_epoch=1)
    assert not np.array_equal(_final(model, opt, losses)["model"]["0.weight"],
                              full["model"]["0.weight"])


def test_saving_only_the_generator_at_epoch_ends(tmp_path):
    # Between epochs the loader's generator state is all its state.
    model, opt, sched, loader = build()
    full = _final(model, opt, train(model, opt, sched, loader))
    path = str(tmp_path / "c.ckpt")
    model, opt, sched, loader = build()

    def save(epoch):
        cr.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                 "scheduler": sched.state_dict(), "rng": cr.get_rng_state(),
                 "gen": loader.generator.get_state()}, path)

    train(model, opt, sched, loader, cut=(0, len(loader) - 1), on_cut=save)
    model, opt, sched, loader = build(seed=1)
    state = cr.load(path)
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    cr.set_rng_state(state["rng"])
    loader.generator.set_state(state["gen"])
    _compare(full, _final(model, opt, train(model, opt, sched, loader, start_epoch=1)))


def test_the_manual_loop_with_train_save_checkpoint_and_resume(tmp_path):
    noise = cr.Generator(5)  # a generator of the user's loop, named in the checkpoint

    def run(model, opt, sched, loader, start=0, cut=None, path=None):
        losses = []
        for epoch in range(start, EPOCHS):
            for batch, (x, y) in enumerate(loader):
                opt.zero_grad()
                x = x + cr.randn(*x.shape, generator=noise) * 0.1
                loss = cr.nn.functional.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                losses.append(float(loss.detach().numpy()))
                if (epoch, batch) == cut:
                    cr.train.save_checkpoint(path, model, opt, scheduler=sched, epoch=epoch,
                                             loader=loader, generators={"noise": noise})
                    return losses
            sched.step()
        return losses

    model, opt, sched, loader = build()
    noise.manual_seed(5)
    full = _final(model, opt, run(model, opt, sched, loader))
    path = str(tmp_path / "c.ckpt")
    model, opt, sched, loader = build()
    noise.manual_seed(5)
    run(model, opt, sched, loader, cut=(1, 2), path=path)
    model, opt, sched, loader = build(seed=3)
    noise.manual_seed(77)
    ckpt = cr.train.resume(path, model, opt, sched, loader=loader, generators={"noise": noise})
    _compare(full, _final(model, opt, run(model, opt, sched, loader, start=ckpt["epoch"])))
    with pytest.raises(ValueError, match=r"generators: the checkpoint has \['noise'\], given "
                                         r"\[\]"):
        cr.train.resume(path, model, opt, sched, loader=loader)


def _script(*args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([SRC, HERE]))
    subprocess.run([sys.executable, os.path.join(HERE, "manual_loop.py"), *args], env=env,
                   check=True, timeout=120, capture_output=True)


def test_resume_in_a_fresh_process(tmp_path):
    # The uninterrupted run and the stopped one here; the resumed one in a new interpreter,
    # which knows nothing but the checkpoint file and the script's code.
    ckpt, resumed = str(tmp_path / "ckpt.st"), str(tmp_path / "resumed.st")
    model, opt, sched, loader = build()
    full = _final(model, opt, train(model, opt, sched, loader))
    model, opt, sched, loader = build()
    train(model, opt, sched, loader, cut=(1, 1),
          on_cut=lambda e: save_state(model, opt, sched, loader, e, ckpt))
    _script("resume", ckpt, resumed)
    b = cr.load(resumed)
    _compare(full, {"model": _plain(b["model"]), "optimizer": b["optimizer"],
                    "losses": b["losses"].numpy(), "rng": b["rng"].numpy()})
    assert len(b["losses"].numpy()) == len(full["losses"]) - 6  # 4 + 2 steps before the cut
