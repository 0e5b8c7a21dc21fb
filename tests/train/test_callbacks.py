"""Every callback's behaviour, and the order and arguments of the hooks."""

import csv
import math
import os

import numpy as np
import pytest
from toy_problems import blobs, mlp, weights

import chainrule as cr
from chainrule.train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    TerminateOnNaN,
    fit,
)


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, trainer):
        self.events.append("train_begin")

    def on_epoch_begin(self, trainer, epoch):
        self.events.append(("epoch_begin", epoch))

    def on_batch_begin(self, trainer, batch):
        self.events.append(("batch_begin", batch))

    def on_after_backward(self, trainer):
        self.events.append("after_backward")

    def on_batch_end(self, trainer, batch, logs):
        self.events.append(("batch_end", batch, sorted(logs)))

    def on_epoch_end(self, trainer, epoch, logs):
        self.events.append(("epoch_end", epoch, sorted(logs)))

    def on_train_end(self, trainer):
        self.events.append("train_end")


def test_hook_order_and_logs():
    X, y = blobs(20)
    rec = Recorder()
    fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=2, batch_size=10,
        callbacks=[rec], verbose=0)
    batch = lambda b: [("batch_begin", b), "after_backward",  # noqa: E731
                       ("batch_end", b, ["accuracy", "loss", "size"])]
    epoch_keys = ["accuracy", "loss", "lr", "time"]
    expected = ["train_begin"]
    for e in range(2):
        expected += [("epoch_begin", e), *batch(0), *batch(1), ("epoch_end", e, epoch_keys)]
    expected.append("train_end")
    assert rec.events == expected


def test_after_backward_sees_gradients_before_the_step():
    seen = []

    class Probe(Callback):
        def on_after_backward(self, trainer):
            w = trainer.model[0].weight
            seen.append((w.grad is not None, w.detach().numpy().copy(), trainer.loss.item(),
                         trainer.step))

        def on_batch_end(self, trainer, batch, logs):
            seen.append(trainer.model[0].weight.detach().numpy().copy())

    X, y = blobs(8)
    fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", lr=0.5, epochs=1, batch_size=8,
        callbacks=[Probe()], verbose=0)
    (has_grad, before, loss, step), after = seen
    assert has_grad and step == 0 and loss > 0
    assert not np.array_equal(before, after)  # the step happened after the hook


def test_trainer_attributes():
    got = {}

    class Look(Callback):
        def on_train_begin(self, trainer):
            got.update(model=trainer.model, optimizer=trainer.optimizer,
                       loss_fn=trainer.loss_fn, scheduler=trainer.scheduler,
                       history=trainer.history)

        def on_train_end(self, trainer):
            got.update(step=trainer.step, epoch=trainer.epoch, stop=trainer.stop_training)

    X, y = blobs(24)
    model = mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    sched = cr.optim.lr_scheduler.StepLR(opt, 1)
    h = fit(model, (X, y), loss="cross_entropy", optimizer=opt, epochs=2, batch_size=8,
            scheduler=sched, callbacks=[Look()], verbose=0)
    assert got["model"] is model and got["optimizer"] is opt and got["scheduler"] is sched
    assert type(got["loss_fn"]).__name__ == "CrossEntropyLoss"
    assert got["history"] is h
    assert (got["step"], got["epoch"], got["stop"]) == (6, 1, False)


def test_stop_training_from_a_batch_hook_stops_right_after_that_step():
    class StopAt(Callback):
        def on_batch_end(self, trainer, batch, logs):
            if trainer.step == 3:
                trainer.stop_training = True

    X, y = blobs(40)
    rec = Recorder()
    h = fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=5, batch_size=10,
            callbacks=[StopAt(), rec], verbose=0)
    assert len(h.epoch) == 1
    assert sum(1 for e in rec.events if e == "after_backward") == 3


def test_early_stopping_patience_and_restore_best_weights():
    X, y = blobs(32)
    snapshots = {}

    class Snap(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            snapshots[epoch] = weights(trainer.model)

    scores = iter([1.0, 0.5, 0.7, 0.6, 0.55, 0.4, 0.3])

    def score(out, target):  # monitored value: 1.0, 0.5, then no improvement
        return next(scores)

    stop = EarlyStopping(monitor="score", mode="min", patience=3, restore_best_weights=True)
    model = mlp()
    h = fit(model, (X, y), loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=7,
            batch_size=32, metrics={"score": score}, callbacks=[stop, Snap()], verbose=0)
    assert h.history["score"] == [1.0, 0.5, 0.7, 0.6, 0.55]
    assert not np.array_equal(snapshots[1]["0.weight"], snapshots[4]["0.weight"])
    assert stop.stopped_epoch == 4 and stop.best_epoch == 1 and stop.best == 0.5
    for k, v in weights(model).items():
        np.testing.assert_array_equal(v, snapshots[1][k])


def test_early_stopping_min_delta_and_max_mode():
    X, y = blobs(16)
    values = iter([0.50, 0.505, 0.509, 0.52, 0.53])
    stop = EarlyStopping(monitor="score", min_delta=0.01, patience=2, mode="auto")

    def score(out, target):
        return next(values)

    h = fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=5, batch_size=16,
            metrics={"score": score}, callbacks=[stop], verbose=0)
    # auto -> min for an unknown name: 0.505 and 0.509 are worse, stop after epoch 3
    assert len(h.epoch) == 3
    acc_values = iter([0.50, 0.505, 0.52, 0.521, 0.522])
    stop = EarlyStopping(monitor="accuracy", min_delta=0.01, patience=2)

    def accuracy(out, target):
        return next(acc_values)

    h = fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=5, batch_size=16,
            metrics=[accuracy], callbacks=[stop], verbose=0)
    # auto -> max for accuracy: 0.505 is not +0.01 better, 0.52 is, then two without
    assert len(h.epoch) == 5 and stop.best == 0.52


def test_early_stopping_without_validation_data_is_an_error():
    X, y = blobs(8)
    with pytest.raises(ValueError, match="val_loss"):
        fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=2,
            callbacks=[EarlyStopping()], verbose=0)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="not logged"):
        fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=2,
            callbacks=[EarlyStopping(monitor="f1")], verbose=0)


def test_model_checkpoint_every_epoch_with_formatting(tmp_path):
    X, y = blobs(16)
    pattern = str(tmp_path / "ck" / "e{epoch:02d}-{loss:.2f}.safetensors")
    ckpt = ModelCheckpoint(pattern, monitor="loss")
    model = mlp()
    h = fit(model, (X, y), loss="cross_entropy", optimizer="adam", epochs=3, callbacks=[ckpt],
            verbose=0)
    names = sorted(os.listdir(tmp_path / "ck"))
    assert [n[:4] for n in names] == ["e01-", "e02-", "e03-"]
    assert names[2] == f"e03-{h.history['loss'][2]:.2f}.safetensors"
    saved = cr.train.load_checkpoint(ckpt.last_path)
    assert saved["epoch"] == 3
    for k, v in weights(model).items():
        np.testing.assert_array_equal(np.asarray(saved["model"][k]), v)
    assert saved["optimizer"]["param_groups"][0]["lr"] == 0.001
    assert cr.load(ckpt.last_path)["model"].keys() == model.state_dict().keys()


def test_model_checkpoint_extra_values_are_in_every_file(tmp_path):
    X, y = blobs(16)
    extra = {"run": {"model": "mlp", "hidden": [4, 2]}, "note": None}
    at_epochs = ModelCheckpoint(str(tmp_path / "e{epoch}.safetensors"), extra=extra)
    at_steps = ModelCheckpoint(str(tmp_path / "s{step}.safetensors"), save_freq=3, extra=extra)
    fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=2, batch_size=4,
        callbacks=[at_epochs, at_steps], verbose=0)
    assert len(at_epochs.saved) == 2 and len(at_steps.saved) == 2  # steps 3 and 6 of 8
    for path in at_epochs.saved + at_steps.saved:
        assert cr.train.load_checkpoint(path)["extra"] == extra
    with pytest.raises(TypeError, match="extra must be a dict"):
        fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=1, verbose=0,
            callbacks=[ModelCheckpoint(str(tmp_path / "x.safetensors"), extra=[1])])


def test_model_checkpoint_save_best_only(tmp_path):
    X, y = blobs(16)
    values = iter([0.9, 0.5, 0.6, 0.4, 0.45])

    def scripted(out, target):
        return (out * 0.0).sum() + next(values)

    ckpt = ModelCheckpoint(str(tmp_path / "best-{epoch}.safetensors"), monitor="loss",
                           save_best_only=True)
    fit(mlp(), (X, y), loss=scripted, optimizer="sgd", epochs=5, batch_size=16, metrics=None,
        callbacks=[ckpt], verbose=0)
    assert sorted(os.listdir(tmp_path)) == ["best-1.safetensors", "best-2.safetensors",
                                            "best-4.safetensors"]


def test_model_checkpoint_bad_pattern(tmp_path):
    X, y = blobs(8)
    with pytest.raises(ValueError, match="format"):
        fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=1, verbose=0,
            callbacks=[ModelCheckpoint(str(tmp_path / "{nope}.safetensors"))])


def test_learning_rate_scheduler_one_and_two_argument_schedules():
    X, y = blobs(16)
    model = mlp()
    h = fit(model, (X, y), loss="cross_entropy", optimizer="sgd", lr=1.0, epochs=3,
            callbacks=[LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))], verbose=0)
    assert h.history["lr"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    h = fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", lr=0.8, epochs=3,
            callbacks=[LearningRateScheduler(lambda epoch, lr: lr * 0.5)], verbose=0)
    assert h.history["lr"] == [0.4, 0.2, 0.1]
    with pytest.raises(ValueError, match="returned"):
        fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=1, verbose=0,
            callbacks=[LearningRateScheduler(lambda epoch: -1.0)])


def test_terminate_on_nan(capsys):
    X, y = blobs(40)
    values = iter([0.5, 0.4, float("nan"), 0.3, 0.2, 0.1, 0.1, 0.1])

    def scripted(out, target):
        return (out * 0.0).sum() + next(values)

    stop = TerminateOnNaN()
    rec = Recorder()
    h = fit(mlp(), (X, y), loss=scripted, optimizer="sgd", epochs=2, batch_size=10,
            metrics=None, callbacks=[stop, rec], verbose=0)
    assert stop.terminated_at == (0, 2)
    assert sum(1 for e in rec.events if e == "after_backward") == 3
    assert len(h.epoch) == 1 and math.isnan(h.history["loss"][0])
    assert "TerminateOnNaN" in capsys.readouterr().out


def test_csv_logger_rows_and_append(tmp_path):
    X, y = blobs(16)
    path = tmp_path / "log.csv"
    h = fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=2,
            callbacks=[CSVLogger(str(path))], verbose=0)
    rows = list(csv.reader(open(path)))
    assert rows[0] == ["epoch", "loss", "accuracy", "lr", "time"]
    assert [r[0] for r in rows[1:]] == ["0", "1"]
    assert [float(r[1]) for r in rows[1:]] == pytest.approx(h.history["loss"])
    fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=1,
        callbacks=[CSVLogger(str(path), append=True)], verbose=0)
    assert len(list(csv.reader(open(path)))) == 4
    fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=1,
        callbacks=[CSVLogger(str(path))], verbose=0)
    assert len(list(csv.reader(open(path)))) == 2
