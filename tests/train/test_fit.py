"""fit: learning, History, the data forms it accepts, names, and clear errors."""

import math

import numpy as np
import pytest
from toy_problems import blobs, mlp, weights

import chainrule as cr
import chainrule.nn as nn
from chainrule.train import fit


def test_fit_learns_a_toy_problem():
    X, y = blobs(200)
    model = mlp()
    h = fit(model, (X, y), loss="cross_entropy", optimizer="adam", lr=0.05, epochs=8,
            batch_size=16, verbose=0, seed=0)
    assert h.history["loss"][-1] < 0.5 * h.history["loss"][0]
    assert h.history["accuracy"][-1] >= 0.95
    with cr.no_grad():
        pred = model(cr.tensor(X)).detach().numpy().argmax(1)
    assert (pred == y).mean() >= 0.95


@pytest.mark.parametrize("name, cls", [("adadelta", "Adadelta"), ("adamax", "Adamax"),
                                       ("NAdam", "NAdam"), ("radam", "RAdam"), ("asgd", "ASGD")])
def test_fit_knows_every_optimizer_by_name(name, cls):
    from chainrule.train._resolve import resolve_optimizer

    assert type(resolve_optimizer(name, mlp(), None)).__name__ == cls
    X, y = blobs(64)
    h = fit(mlp(), (X, y), loss="cross_entropy", optimizer=name, epochs=3, batch_size=16,
            verbose=0, seed=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_history_contents():
    X, y = blobs(64)
    Xv, yv = blobs(32, seed=1)
    h = fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=3,
            batch_size=16, val=(Xv, yv), metrics=["accuracy"],
            verbose=0)
    assert h.epoch == [0, 1, 2]
    assert list(h.history) == ["loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"]
    assert all(len(v) == 3 for v in h.history.values())
    assert h.history["lr"] == [0.1, 0.1, 0.1]
    assert all(t > 0 for t in h.history["time"])
    assert all(0.0 <= a <= 1.0 for a in h.history["val_accuracy"])
    assert h["loss"] is h.history["loss"] and len(h) == 3
    assert h.params == {"epochs": 3, "steps": 4, "batch_size": 16, "verbose": 0}
    best_epoch, best = h.best("val_loss")
    assert best == min(h.history["val_loss"])
    assert h.history["val_loss"][best_epoch] == best


def test_epoch_loss_is_the_sample_weighted_mean_of_batch_losses():
    # lr=0: weights never change, so the epoch loss must equal the full-batch loss.
    X, y = blobs(50)
    model = mlp()
    h = fit(model, (X, y), loss="cross_entropy", optimizer="sgd", lr=0.0, epochs=1,
            batch_size=16, verbose=0)  # batches of 16, 16, 16, 2
    with cr.no_grad():
        logits = model(cr.tensor(X)).detach().numpy().astype(np.float64)
    logp = logits - logits.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    expected = -logp[np.arange(50), y].mean()
    assert h.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_fit_accepts_dataset_loader_and_pair_alike():
    X, y = blobs(48)
    results = []
    for data in [(X, y), cr.data.TensorDataset(cr.tensor(X), cr.tensor(y)),
                 cr.data.DataLoader(cr.data.TensorDataset(cr.tensor(X), cr.tensor(y)),
                                    batch_size=16)]:
        cr.manual_seed(0)
        model = mlp()
        fit(model, data, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=2,
            batch_size=16, shuffle=False, verbose=0)
        results.append(weights(model))
    for other in results[1:]:
        for k in results[0]:
            np.testing.assert_array_equal(results[0][k], other[k])


def test_fit_is_exactly_the_explicit_loop():
    X, y = blobs(40)
    cr.manual_seed(3)
    model = mlp()
    fit(model, (X, y), loss=nn.CrossEntropyLoss(),
        optimizer=cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), epochs=2,
        batch_size=8, shuffle=False, verbose=0)
    cr.manual_seed(3)
    twin = mlp()
    opt = cr.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(2):
        for i in range(0, 40, 8):
            opt.zero_grad()
            loss = loss_fn(twin(cr.tensor(X[i:i + 8])), cr.tensor(y[i:i + 8]))
            loss.backward()
            opt.step()
    a, b = weights(model), weights(twin)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_seed_makes_shuffled_runs_repeat():
    X, y = blobs(64)
    runs = []
    for _ in range(2):
        cr.manual_seed(0)
        model = mlp(dropout=0.3)
        cr.manual_seed(123)  # something else moved the global generator
        fit(model, (X, y), loss="cross_entropy", optimizer="adam", epochs=2, verbose=0, seed=7)
        runs.append(weights(model))
    for k in runs[0]:
        np.testing.assert_array_equal(runs[0][k], runs[1][k])


def test_regression_with_mse_and_mae_metric():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (128, 1)).astype(np.float32)
    y = 3 * X - 1
    model = nn.Linear(1, 1)
    h = fit(model, (X, y), loss="mse", optimizer="sgd", lr=0.1, epochs=30, batch_size=16,
            metrics=["mae"], verbose=0)
    assert h.history["mae"][-1] < 0.05
    assert model.weight.detach().numpy().item() == pytest.approx(3.0, abs=0.1)
    assert model.bias.detach().numpy().item() == pytest.approx(-1.0, abs=0.1)


def test_binary_bce_with_sigmoid_output():
    X, y = blobs(128)
    model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    h = fit(model, (X, y[:, None].astype(np.float32)), loss="bce", optimizer="sgd", lr=0.5,
            epochs=10, batch_size=16, verbose=0)
    assert h.history["accuracy"][-1] >= 0.95


def test_custom_metric_callable_and_dict():
    X, y = blobs(32)

    def error_rate(out, target):
        return float((out.detach().numpy().argmax(1) != target.detach().numpy()).mean())

    h = fit(mlp(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=2,
            metrics={"acc": lambda o, t: 1.0, "err": error_rate}, verbose=0)
    assert h.history["acc"] == [1.0, 1.0]
    assert all(0.0 <= e <= 1.0 for e in h.history["err"])


def test_scheduler_is_stepped_once_per_epoch():
    X, y = blobs(32)
    model = mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.4)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    h = fit(model, (X, y), loss="cross_entropy", optimizer=opt, epochs=3, scheduler=sched,
            verbose=0)
    assert h.history["lr"] == [0.4, 0.2, 0.1]
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05)


def test_plateau_scheduler_gets_the_monitored_loss():
    X, y = blobs(32)
    model = mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    sched = cr.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)

    def flat_loss(out, target):  # the same value every epoch: a plateau
        return (out * 0.0).sum() + 1.0

    h = fit(model, (X, y), loss=flat_loss, optimizer=opt, epochs=3, scheduler=sched,
            metrics=None, verbose=0)
    assert h.history["lr"] == [0.1, 0.1, 0.05]
    assert opt.param_groups[0]["lr"] == pytest.approx(0.025)


def test_step_interval_scheduler():
    X, y = blobs(32)
    model = mlp()
    opt = cr.optim.SGD(model.parameters(), lr=1.0)
    sched = cr.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    fit(model, (X, y), loss="cross_entropy", optimizer=opt, epochs=1, batch_size=8,
        scheduler=sched, scheduler_interval="step", verbose=0)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5 ** 4)


def test_plateau_scheduler_cannot_step_per_batch():
    X, y = blobs(8)
    opt = cr.optim.SGD(mlp().parameters(), lr=0.1)
    sched = cr.optim.lr_scheduler.ReduceLROnPlateau(opt)
    with pytest.raises(ValueError, match="scheduler_interval"):
        fit(mlp(), (X, y), loss="cross_entropy", optimizer=opt, scheduler=sched,
            scheduler_interval="step", verbose=0)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_detect_anomaly_names_the_nan():
    class Bad(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            return (self.lin(x) - 1e6).log()  # log of a negative number: NaN

    X, y = blobs(16)
    with pytest.raises(FloatingPointError, match="log"):
        fit(Bad(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=1, verbose=0,
            detect_anomaly=True)
    h = fit(Bad(), (X, y), loss="cross_entropy", optimizer="sgd", epochs=1, verbose=0)
    assert math.isnan(h.history["loss"][0])


@pytest.mark.parametrize("kwargs, error, match", [
    ({"loss": "hinge_of_doom"}, ValueError, "unknown loss"),
    ({"optimizer": "adamax2"}, ValueError, "unknown optimizer"),
    ({"optimizer": "lbfgs"}, ValueError, "closure"),
    ({"optimizer": 3}, TypeError, "Optimizer"),
    ({"epochs": -1}, ValueError, "epochs"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"verbose": 5}, ValueError, "verbose"),
    ({"loss": None}, ValueError, "loss="),
    ({"metrics": ["f1"]}, ValueError, "unknown metric"),
])
def test_bad_arguments_raise_clear_errors(kwargs, error, match):
    X, y = blobs(8)
    args = {"loss": "cross_entropy", "optimizer": "sgd", "epochs": 1, "verbose": 0, **kwargs}
    with pytest.raises(error, match=match):
        fit(mlp(), (X, y), **args)


def test_bad_data_raises_clear_errors():
    X, y = blobs(8)
    kw = {"loss": "cross_entropy", "optimizer": "sgd", "verbose": 0}
    with pytest.raises(ValueError, match="samples"):
        fit(mlp(), (X, y[:5]), **kw)
    with pytest.raises(TypeError, match="single array"):
        fit(mlp(), X, **kw)
    with pytest.raises(TypeError, match="Dataset"):
        fit(mlp(), 42, **kw)
    with pytest.raises(TypeError, match="Module"):
        fit("not a model", (X, y), **kw)
    with pytest.raises(ValueError, match="lr="):
        fit(mlp(), (X, y), loss="mse", optimizer=cr.optim.SGD(mlp().parameters(), lr=0.1),
            lr=0.2)
