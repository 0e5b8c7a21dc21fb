"""A run interrupted and resumed from a checkpoint ends with exactly the uninterrupted weights."""

import numpy as np
import pytest
from toy_problems import blobs, mlp, weights

import chainrule as cr
from chainrule.train import Callback, EarlyStopping, ModelCheckpoint, fit


class Crash(Callback):
    """Simulates the process dying after a given epoch (once its checkpoint is written, which
    happens when every callback has finished the epoch)."""

    def __init__(self, after_epoch):
        self.after_epoch = after_epoch

    def on_epoch_begin(self, trainer, epoch):
        if epoch == self.after_epoch + 1:
            raise KeyboardInterrupt


def _setup(init_seed):
    cr.manual_seed(init_seed)
    model = mlp(hidden=16, dropout=0.3)  # dropout and shuffling both draw random numbers
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return model, opt, sched


def _run(model, opt, sched, callbacks, **kw):
    X, y = blobs(96)
    Xv, yv = blobs(32, seed=1)
    return fit(model, (X, y), loss="cross_entropy", optimizer=opt, scheduler=sched, epochs=5,
               batch_size=16, val=(Xv, yv), callbacks=callbacks, verbose=0, seed=11, **kw)


def test_resume_reproduces_the_uninterrupted_run_exactly(tmp_path):
    model, opt, sched = _setup(0)
    full = _run(model, opt, sched, [])
    reference = weights(model)

    # Interrupted run: checkpoints every epoch, dies after epoch index 2 (3 epochs done).
    model, opt, sched = _setup(0)
    ckpt = ModelCheckpoint(str(tmp_path / "e{epoch}.safetensors"))
    with pytest.raises(KeyboardInterrupt):
        _run(model, opt, sched, [ckpt, Crash(after_epoch=2)])

    # A fresh process: different initial weights, the global generator elsewhere.
    model, opt, sched = _setup(99)
    cr.manual_seed(12345)
    resumed = _run(model, opt, sched, [ModelCheckpoint(str(tmp_path / "r{epoch}.safetensors"))],
                   resume=str(tmp_path / "e3.safetensors"))
    for k, v in weights(model).items():
        np.testing.assert_array_equal(v, reference[k])
    assert resumed.epoch == [0, 1, 2, 3, 4]
    assert resumed.history["loss"] == full.history["loss"]
    assert resumed.history["lr"] == full.history["lr"]
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01 * 0.5 ** 2)


def test_resume_function_with_initial_epoch(tmp_path):
    model, opt, sched = _setup(0)
    _run(model, opt, sched, [])
    reference = weights(model)

    model, opt, sched = _setup(0)
    ckpt = ModelCheckpoint(str(tmp_path / "e{epoch}.safetensors"))
    with pytest.raises(KeyboardInterrupt):
        _run(model, opt, sched, [ckpt, Crash(after_epoch=1)])

    model, opt, sched = _setup(5)
    state = cr.train.resume(str(tmp_path / "e2.safetensors"), model, opt, sched)
    assert state["epoch"] == 2
    X, y = blobs(96)
    Xv, yv = blobs(32, seed=1)
    # No seed here: re-seeding would overwrite the generator state just restored.
    fit(model, (X, y), loss="cross_entropy", optimizer=opt, scheduler=sched, epochs=5,
        batch_size=16, val=(Xv, yv), verbose=0, initial_epoch=state["epoch"])
    for k, v in weights(model).items():
        np.testing.assert_array_equal(v, reference[k])


def test_callback_state_is_resumed(tmp_path):
    X, y = blobs(32)
    values = iter([1.0, 0.5, 0.6, 0.7] + [0.8, 0.9])

    def score(out, target):  # the monitored value, scripted; the loss really trains
        return next(values)

    def run(model, stop, callbacks, **kw):
        return fit(model, (X, y), loss="cross_entropy", optimizer="sgd", lr=0.5, epochs=10,
                   batch_size=32, metrics={"score": score}, callbacks=[stop, *callbacks],
                   verbose=0, **kw)

    stop = EarlyStopping(monitor="score", mode="min", patience=3, restore_best_weights=True)
    with pytest.raises(KeyboardInterrupt):
        run(mlp(), stop, [ModelCheckpoint(str(tmp_path / "e{epoch}.safetensors")), Crash(3)])
    stop2 = EarlyStopping(monitor="score", mode="min", patience=3, restore_best_weights=True)
    model = mlp()
    h = run(model, stop2, [ModelCheckpoint(str(tmp_path / "last.safetensors"))],
            resume=str(tmp_path / "e4.safetensors"))
    # best 0.5 at epoch 1; epochs 2, 3 (before the crash) and 4 without improvement: stop
    assert stop2.best == 0.5 and stop2.stopped_epoch == 4
    assert h.epoch == [0, 1, 2, 3, 4]
    # The best weights (epoch index 1) were carried through the checkpoint and restored.
    best = cr.train.load_checkpoint(str(tmp_path / "e2.safetensors"))["model"]
    at_stop = cr.train.load_checkpoint(str(tmp_path / "last.safetensors"))["model"]
    for k, v in weights(model).items():
        np.testing.assert_array_equal(v, best[k])
    assert not np.array_equal(best["0.weight"], at_stop["0.weight"])


def test_resume_errors(tmp_path):
    model, opt, _ = _setup(0)
    with pytest.raises(FileNotFoundError):
        cr.train.resume(str(tmp_path / "missing.safetensors"), model, opt)
    cr.save({"w": cr.ones(2)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(ValueError, match="not a chainrule training checkpoint"):
        cr.train.resume(str(tmp_path / "plain.safetensors"), model, opt)
    path = cr.train.save_checkpoint(str(tmp_path / "no_opt.safetensors"), model, epoch=1)
    with pytest.raises(ValueError, match="optimizer"):
        cr.train.resume(path, model, opt)
