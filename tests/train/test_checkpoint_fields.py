"""A checkpoint's contents are checked before anything is restored from it: a bad field is a
``ValueError`` naming the file and the field, and leaves the model, optimizer and generators as
they were."""

import json
import math
import re

import numpy as np
import pytest
from toy_problems import blobs, mlp, weights

import chainrule as cr
from chainrule.train import ModelCheckpoint, fit


def _job(seed=0, loader_seed=0):
    cr.manual_seed(seed)
    model = mlp(hidden=6, dropout=0.2)
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    X, y = blobs(24)
    loader = cr.data.DataLoader(cr.data.TensorDataset(cr.tensor(X), cr.tensor(y)),
                                batch_size=8, shuffle=True, generator=cr.Generator(loader_seed))
    return model, opt, sched, loader


def _fit(model, opt, sched, loader, **kw):
    return fit(model, loader, loss="cross_entropy", optimizer=opt, scheduler=sched, epochs=2,
               verbose=0, **kw)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A checkpoint after epoch 1 and one inside epoch 2 (step 4)."""
    folder = tmp_path_factory.mktemp("ckpt")
    model, opt, sched, loader = _job()
    _fit(model, opt, sched, loader, callbacks=[
        ModelCheckpoint(str(folder / "e{epoch}.ckpt")),
        ModelCheckpoint(str(folder / "s{step}.ckpt"), save_freq=4)])
    return {"epoch": folder / "e1.ckpt", "step": folder / "s4.ckpt"}


def _edit(path, tmp_path, change):
    raw = cr.load(path)
    change(raw)
    out = tmp_path / "edited.ckpt"
    cr.save(raw, out)
    return str(out)


def _unset(tree, *keys):
    for k in keys[:-1]:
        tree = tree[k]
    del tree[keys[-1]]


def _put(value, *keys):
    def change(raw):
        tree = raw
        for k in keys[:-1]:
            tree = tree[k]
        tree[keys[-1]] = value
    return change


CASES = [
    ("epoch", _put(-3, "training", "epoch"), "training.epoch", "integer >= 0"),
    ("epoch", _put("2", "training", "epoch"), "training.epoch", "integer >= 0"),
    ("epoch", _put(2.0, "training", "epoch"), "training.epoch", "integer >= 0"),
    ("epoch", _put(True, "training", "epoch"), "training.epoch", "integer >= 0"),
    ("epoch", lambda r: _unset(r, "training", "epoch"), "training.epoch", "is missing"),
    ("epoch", _put(-1, "training", "step"), "training.step", "integer >= 0"),
    ("epoch", lambda r: _unset(r, "rng"), "rng", "must be a dict"),
    ("epoch", lambda r: _unset(r, "rng", "global"), "rng.global", "is missing"),
    ("epoch", _put(cr.zeros(56), "rng", "global"), "rng.global", "not a generator state"),
    ("epoch", _put([1, 2], "rng", "global"), "rng.global", "not a generator state"),
    ("epoch", _put({"x": cr.zeros(3, dtype=cr.uint8)}, "rng", "model"), "rng.model.x",
     "not a generator state"),
    ("epoch", _put([0.5, 0.5], "training", "history", "history", "loss"),
     "training.history.history.loss", "list of 1 numbers"),
    ("epoch", _put(["a"], "training", "history", "history", "loss"),
     "training.history.history.loss", "must be a number"),
    ("epoch", _put([-1], "training", "history", "epoch"), "training.history.epoch",
     "integer >= 0"),
    ("epoch", _put("yes", "training", "stop_training"), "training.stop_training", "true or false"),
    ("epoch", _put(3, "callbacks"), "callbacks", "must be a list"),
    ("epoch", _put([{"state": {}}], "callbacks"), "callbacks.0", "'type' string"),
    ("epoch", _put([1.0], "model"), "model", "must be a dict"),
    ("epoch", lambda r: _unset(r, "optimizer"), "optimizer", "is missing"),
    ("epoch", lambda r: _unset(r, "data"), "data", "must be a dict"),
    ("epoch", lambda r: _unset(r, "data", "train"), "data.train", "is missing"),
    ("epoch", _put(5, "data", "train"), "data.train", "dict or null"),
    ("epoch", _put(7, "training", "extra"), "training.extra", "must be a dict"),
    ("step", _put(-1, "training", "progress", "batch"), "training.progress.batch",
     "integer >= 0"),
    ("step", lambda r: _unset(r, "training", "progress", "seen"), "training.progress.seen",
     "is missing"),
    ("step", _put(math.nan, "training", "progress", "elapsed"), "training.progress.elapsed",
     "finite"),
    ("step", _put("0.1", "training", "progress", "lr"), "training.progress.lr", "number"),
    ("step", _put({"accuracy": None}, "training", "progress", "sums"),
     "training.progress.sums.accuracy", "number"),
]


@pytest.mark.parametrize("which, change, field, why", CASES,
                         ids=[f"{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_a_bad_field_is_named_and_nothing_is_restored(saved, tmp_path, which, change, field,
                                                      why):
    path = _edit(saved[which], tmp_path, change)
    pattern = (re.escape(f"{path!r} is not a valid training checkpoint: field {field!r} ")
               + ".*" + re.escape(why))
    with pytest.raises(ValueError, match=pattern):
        cr.train.load_checkpoint(path)

    model, opt, sched, loader = _job(seed=5, loader_seed=5)
    cr.manual_seed(77)
    before = (weights(model), opt.state_dict(), cr.get_rng_state().numpy(),
              loader.state_dict()["generator"].numpy())
    with pytest.raises(ValueError, match="not a valid training checkpoint"):
        _fit(model, opt, sched, loader, resume=path)
    with pytest.raises(ValueError, match="not a valid training checkpoint"):
        cr.train.resume(path, model, opt, sched, loader=loader)
    for k, v in weights(model).items():
        np.testing.assert_array_equal(v, before[0][k])
    assert opt.state_dict()["state"] == {} == before[1]["state"]
    np.testing.assert_array_equal(cr.get_rng_state().numpy(), before[2])
    np.testing.assert_array_equal(loader.state_dict()["generator"].numpy(), before[3])


def test_not_a_training_checkpoint(saved, tmp_path):
    path = _edit(saved["epoch"], tmp_path, _put("chainrule.train.checkpoint/9", "training",
                                                "format"))
    with pytest.raises(ValueError, match="is not a chainrule training checkpoint"):
        cr.train.load_checkpoint(path)


def _assert_untouched(model, opt, loader, before):
    for k, v in weights(model).items():
        np.testing.assert_array_equal(v, before[0][k])
    assert opt.state_dict()["state"] == {}
    np.testing.assert_array_equal(cr.get_rng_state().numpy(), before[1])
    np.testing.assert_array_equal(loader.state_dict()["generator"].numpy(),
                                  before[2]["generator"].numpy())


def test_a_state_that_does_not_fit_is_refused_before_anything_is_restored(saved):
    model, opt, _, loader = _job(seed=5, loader_seed=5)
    other = cr.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    cr.manual_seed(77)
    before = weights(model), cr.get_rng_state().numpy(), loader.state_dict()
    with pytest.raises(cr.CheckpointError, match="field 'scheduler' holds keys a ExponentialLR "
                                                 r"does not have: \['step_size'\]"):
        cr.train.resume(saved["epoch"], model, opt, other, loader=loader)
    _assert_untouched(model, opt, loader, before)


def test_a_failed_restore_puts_everything_back(saved, monkeypatch):
    # The loader fails after the model and optimizer were restored: they are put back, and
    # the error is a CheckpointError whose cause is the loader's.
    model, opt, sched, loader = _job(seed=5, loader_seed=5)
    cr.manual_seed(77)
    before = weights(model), cr.get_rng_state().numpy(), loader.state_dict()

    def broken(state):
        raise RuntimeError("the loader broke")

    monkeypatch.setattr(loader, "load_state_dict", broken)
    with pytest.raises(cr.CheckpointError, match="cannot restore the train loader from this "
                                                 "checkpoint .RuntimeError: the loader broke") as e:
        cr.train.resume(saved["epoch"], model, opt, sched, loader=loader)
    assert isinstance(e.value.__cause__, RuntimeError)
    monkeypatch.undo()
    _assert_untouched(model, opt, loader, before)


def test_resume_and_initial_epoch_together(saved):
    model, opt, sched, loader = _job()
    with pytest.raises(ValueError, match="pass initial_epoch or resume, not both"):
        _fit(model, opt, sched, loader, resume=str(saved["epoch"]), initial_epoch=1)


def test_a_loader_state_needs_a_loader_that_takes_it(saved):
    model, opt, sched, loader = _job()
    batches = list(loader)
    with pytest.raises(ValueError, match=r"holds the state of a train DataLoader, but the train "
                                         r"data given now \(list\) cannot take it"):
        _fit(model, opt, sched, batches, resume=str(saved["epoch"]))


def test_a_checkpoint_without_the_loader_state(tmp_path):
    model, opt, sched, loader = _job()
    path = cr.train.save_checkpoint(tmp_path / "c.ckpt", model, opt, scheduler=sched, epoch=1)
    with pytest.raises(ValueError, match="holds no state for the train loader.*saved without "
                                         "loader="):
        _fit(model, opt, sched, loader, resume=path)
    # A loader shuffling from the global generator has nothing of its own to restore.
    X, y = blobs(24)
    _fit(model, opt, sched, (X, y), resume=path)


def test_mid_epoch_metrics_must_match(saved):
    model, opt, sched, loader = _job()
    with pytest.raises(ValueError, match=r"inside an epoch with metrics \['accuracy'\]; this "
                                         r"run has \[\]"):
        _fit(model, opt, sched, loader, resume=str(saved["step"]), metrics=None)


def test_mid_epoch_checkpoint_of_a_one_shot_iterator(tmp_path):
    model, opt, sched, loader = _job()
    ckpt = ModelCheckpoint(str(tmp_path / "s{step}.ckpt"), save_freq=2)
    with pytest.raises(ValueError, match="a checkpoint inside an epoch needs the training "
                                         "loader's position; generator cannot report it"):
        fit(model, (b for b in list(loader)), loss="cross_entropy", optimizer=opt, epochs=1,
            verbose=0, callbacks=[ckpt])


def test_model_checkpoint_arguments():
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or an integer >= 1"):
        ModelCheckpoint("x", save_freq=0)
    with pytest.raises(ValueError, match="save_best_only compares epoch logs"):
        ModelCheckpoint("x", save_freq=3, save_best_only=True)


def test_save_checkpoint_arguments(tmp_path):
    model = mlp()
    with pytest.raises(ValueError, match="save_checkpoint: epoch must be an integer >= 0"):
        cr.train.save_checkpoint(tmp_path / "c", model, epoch=-1)
    with pytest.raises(TypeError, match="save_checkpoint: generators must map names"):
        cr.train.save_checkpoint(tmp_path / "c", model, generators={"g": 3})
    with pytest.raises(ValueError, match="call it from a callback's on_batch_end"):
        cr.train.Trainer(model, "cross_entropy", "sgd", lr=0.1).save_checkpoint("x")


def test_format_1_checkpoints_still_resume(tmp_path):
    # Written before loaders and generators were saved: the global RNG as NumPy's JSON.
    model, opt, sched, loader = _job()
    cr.manual_seed(3)
    rng = cr.default_generator.bit_generator.state
    legacy = {"model": model.state_dict(), "optimizer": opt.state_dict(),
              "scheduler": sched.state_dict(), "callbacks": [],
              "training": {"format": "chainrule.train.checkpoint/1", "epoch": 1, "step": 3,
                           "rng": json.dumps(rng, default=str), "history": None, "extra": {}}}
    cr.save(legacy, tmp_path / "v1.ckpt")
    want = cr.rand(3).numpy()
    ckpt = cr.train.load_checkpoint(tmp_path / "v1.ckpt")
    assert ckpt["epoch"] == 1 and ckpt["progress"] is None
    cr.manual_seed(50)
    cr.train.resume(tmp_path / "v1.ckpt", model, opt, sched, loader=loader)
    np.testing.assert_array_equal(cr.rand(3).numpy(), want)
    bad = dict(legacy, training=dict(legacy["training"], rng="{"))
    cr.save(bad, tmp_path / "bad.ckpt")
    with pytest.raises(ValueError, match="field 'training.rng' is not valid JSON"):
        cr.train.load_checkpoint(tmp_path / "bad.ckpt")


def test_inside_an_epoch_the_data_must_continue_at_its_position(tmp_path):
    X, y = blobs(24)
    batches = list(cr.data.DataLoader(cr.data.TensorDataset(cr.tensor(X), cr.tensor(y)),
                                      batch_size=8))
    model, opt, sched, _ = _job()
    _fit(model, opt, sched, batches,
         callbacks=[ModelCheckpoint(str(tmp_path / "s{step}.ckpt"), save_freq=4)])
    # Saved from a list of batches (no loader state): a DataLoader cannot know where to go on.
    model, opt, sched, loader = _job()
    with pytest.raises(ValueError, match="taken inside an epoch but holds no position in the "
                                         "training data for DataLoader"):
        _fit(model, opt, sched, (X, y), resume=str(tmp_path / "s4.ckpt"))
    with pytest.raises(ValueError, match="needs training data that can start at batch 1"):
        _fit(model, opt, sched, iter(batches), resume=str(tmp_path / "s4.ckpt"))
