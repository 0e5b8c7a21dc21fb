"""``fit(resume=...)`` continues bit for bit, whatever the optimizer, scheduler, callbacks,
data loader and dtype, from checkpoints at epoch ends and inside epochs.

Each case trains a tiny model for 3 epochs of 4 batches, writing checkpoints after steps 1, 5
(inside epoch 2) and 8 (the last batch of epoch 2, before the epoch's end hooks) and after
epochs 1 and 2; then, for each checkpoint, a fresh setup resumes from it and must end with the
same parameters, optimizer and scheduler state, history, callback states and generator states.
"""

import inspect
import os

import numpy as np
import pytest
from resume_harness import (
    BATCH,
    AugmentedDataset,
    BucketBatches,
    JitteredLoss,
    LRJitter,
    N,
    NoisySGD,
    check_all_cuts,
)

import chainrule as cr
from chainrule.optim import lr_scheduler as lrs
from chainrule.train import callbacks as cbs


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    # Durability is tested with cr.save itself; here it would only make each checkpoint slow.
    monkeypatch.setattr(os, "fsync", lambda fd: None)


DTYPES = {"float32": (np.float32, cr.float32), "float64": (np.float64, cr.float64)}


@pytest.fixture(params=sorted(DTYPES))
def dtype(request):
    np_dtype, cr_dtype = DTYPES[request.param]
    cr.set_default_dtype(cr_dtype)  # conftest puts float32 back
    return np_dtype


def _ds(X, y):
    return cr.data.TensorDataset(cr.tensor(X), cr.tensor(y))


def _gen(seed, s):
    return cr.Generator(seed + s)


# ---- optimizers -----------------------------------------------------------------------------
OPTIMIZERS = {
    "SGD": lambda p: cr.optim.SGD(p, lr=0.1),
    "SGD-momentum": lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1,
                                           weight_decay=1e-3),
    "SGD-nesterov": lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "Adam": lambda p: cr.optim.Adam(p, lr=0.02),
    "Adam-amsgrad": lambda p: cr.optim.Adam(p, lr=0.02, amsgrad=True, weight_decay=1e-3),
    "AdamW": lambda p: cr.optim.AdamW(p, lr=0.02, weight_decay=0.1),
    "RMSprop": lambda p: cr.optim.RMSprop(p, lr=0.01),
    "RMSprop-centered-momentum": lambda p: cr.optim.RMSprop(p, lr=0.01, momentum=0.5,
                                                            centered=True),
    "Adagrad": lambda p: cr.optim.Adagrad(p, lr=0.1, lr_decay=0.01),
    "Adadelta": lambda p: cr.optim.Adadelta(p, lr=1.0, rho=0.8, weight_decay=1e-3),
    "Adamax": lambda p: cr.optim.Adamax(p, lr=0.02),
    "ASGD": lambda p: cr.optim.ASGD(p, lr=0.05, t0=3),  # averaging from step 3 on
    "NAdam": lambda p: cr.optim.NAdam(p, lr=0.02),
    "NAdam-decoupled": lambda p: cr.optim.NAdam(p, lr=0.02, weight_decay=0.01,
                                                decoupled_weight_decay=True),
    "RAdam": lambda p: cr.optim.RAdam(p, lr=0.02),  # rectified from step 6 on
    "RAdam-decoupled": lambda p: cr.optim.RAdam(p, lr=0.02, weight_decay=0.01,
                                                decoupled_weight_decay=True),
    "NoisySGD": lambda p: NoisySGD(p, lr=0.1, seed=21),  # an optimizer with a generator
}
# Optimizers fit cannot drive (a closure per step); the manual-loop tests cover them.
NOT_FOR_FIT = {"LBFGS", "SparseAdam"}


def test_every_optimizer_is_covered():
    present = {name for name, obj in vars(cr.optim).items()
               if inspect.isclass(obj) and issubclass(obj, cr.optim.Optimizer)
               and obj is not cr.optim.Optimizer}
    covered = {name.split("-")[0] for name in OPTIMIZERS} | NOT_FOR_FIT
    assert present <= covered, f"add to OPTIMIZERS: {sorted(present - covered)}"


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizers(name, dtype, tmp_path):
    check_all_cuts({"optimizer": OPTIMIZERS[name]}, dtype, tmp_path)


# ---- schedulers -----------------------------------------------------------------------------
SCHEDULERS = {
    "StepLR": lambda o: (lrs.StepLR(o, step_size=1, gamma=0.5), "epoch"),
    "StepLR-steps": lambda o: (lrs.StepLR(o, step_size=3, gamma=0.7), "step"),
    "MultiStepLR": lambda o: (lrs.MultiStepLR(o, milestones=[1, 2], gamma=0.5), "epoch"),
    "ConstantLR": lambda o: (lrs.ConstantLR(o, factor=0.5, total_iters=2), "epoch"),
    "LinearLR": lambda o: (lrs.LinearLR(o, start_factor=0.25, total_iters=5), "step"),
    "ExponentialLR": lambda o: (lrs.ExponentialLR(o, gamma=0.8), "epoch"),
    "PolynomialLR": lambda o: (lrs.PolynomialLR(o, total_iters=6, power=2.0), "step"),
    "CosineAnnealingLR": lambda o: (lrs.CosineAnnealingLR(o, T_max=5, eta_min=1e-4), "step"),
    "CosineAnnealingWarmRestarts": lambda o: (
        lrs.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=1e-4), "step"),
    "LambdaLR": lambda o: (lrs.LambdaLR(o, lambda e: 1.0 / (1 + e)), "epoch"),
    "MultiplicativeLR": lambda o: (lrs.MultiplicativeLR(o, lambda e: 0.9), "step"),
    "SequentialLR": lambda o: (lrs.SequentialLR(
        o, [lrs.LinearLR(o, start_factor=0.5, total_iters=3),
            lrs.ExponentialLR(o, gamma=0.9)], milestones=[3]), "step"),
    "ChainedScheduler": lambda o: (lrs.ChainedScheduler(
        [lrs.StepLR(o, step_size=2, gamma=0.5), lrs.ExponentialLR(o, gamma=0.95)]), "step"),
    "CyclicLR": lambda o: (lrs.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3), "step"),
    "CyclicLR-exp-range": lambda o: (lrs.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2,
                                                  mode="exp_range", gamma=0.9), "step"),
    "OneCycleLR": lambda o: (lrs.OneCycleLR(o, max_lr=0.05, total_steps=20), "step"),
    "ReduceLROnPlateau": lambda o: (lrs.ReduceLROnPlateau(o, factor=0.5, patience=0,
                                                          threshold=0.5), "epoch"),
}


def test_every_scheduler_is_covered():
    present = {name for name, obj in vars(lrs).items()
               if inspect.isclass(obj) and issubclass(obj, lrs.LRScheduler)
               and not name.startswith("_") and name not in ("LRScheduler",)}
    covered = {name.split("-")[0] for name in SCHEDULERS}
    assert present <= covered, f"add to SCHEDULERS: {sorted(present - covered)}"


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_schedulers(name, dtype, tmp_path):
    # SGD with momentum: OneCycleLR also cycles the momentum.
    check_all_cuts({"scheduler": SCHEDULERS[name],
                    "optimizer": lambda p: cr.optim.SGD(p, lr=0.05, momentum=0.9)},
                   dtype, tmp_path)


def test_plateau_on_a_shuffled_validation_loader(dtype, tmp_path):
    # The validation order changes val_loss in its last bits, and val_loss drives the lr.
    check_all_cuts({
        "scheduler": lambda o: (lrs.ReduceLROnPlateau(o, factor=0.5, patience=0,
                                                      threshold=0.5), "epoch"),
        "val": lambda X, y, s: cr.data.DataLoader(_ds(X, y), batch_size=5, shuffle=True,
                                                  generator=_gen(11, s)),
    }, dtype, tmp_path)


# ---- callbacks ------------------------------------------------------------------------------
CALLBACKS = {
    "EarlyStopping": lambda d, s: [cbs.EarlyStopping(monitor="loss", patience=1, min_delta=0.05,
                                                     restore_best_weights=True)],
    "ModelCheckpoint-best": lambda d, s: [cbs.ModelCheckpoint(f"{d}/best.ckpt", monitor="loss",
                                                              save_best_only=True)],
    "ModelCheckpoint-steps": lambda d, s: [cbs.ModelCheckpoint(f"{d}/s{{step}}.ckpt",
                                                               save_freq=3)],
    "LearningRateScheduler": lambda d, s: [cbs.LearningRateScheduler(lambda e, lr: lr * 0.7)],
    "TerminateOnNaN": lambda d, s: [cbs.TerminateOnNaN(verbose=0)],
    "CSVLogger": lambda d, s: [cbs.CSVLogger(f"{d}/log.csv", append=True)],
    # A checkpoint written before EarlyStopping has seen the epoch still holds its verdict.
    "ModelCheckpoint-then-EarlyStopping": lambda d, s: [
        cbs.ModelCheckpoint(f"{d}/e{{epoch}}.ckpt", monitor="loss"),
        cbs.EarlyStopping(monitor="loss", patience=2, min_delta=0.01)],
    "random-callback": lambda d, s: [LRJitter(3 + s)],
}


def test_every_callback_is_covered():
    present = {name for name, obj in vars(cbs).items()
               if inspect.isclass(obj) and issubclass(obj, cbs.Callback)
               and obj is not cbs.Callback}
    covered = {name.split("-")[0] for name in CALLBACKS}
    assert present <= covered, f"add to CALLBACKS: {sorted(present - covered)}"


@pytest.mark.parametrize("name", sorted(CALLBACKS))
def test_callbacks(name, dtype, tmp_path):
    check_all_cuts({"callbacks": CALLBACKS[name], "val": lambda X, y, s: (X, y)}, dtype,
                   tmp_path)


# ---- data loaders and models ----------------------------------------------------------------
def _weights():
    return np.linspace(0.2, 1.0, N)


LOADERS = {
    "pair-global-shuffle": {},
    "pair-no-shuffle": {"shuffle": False},
    "loader-generator": {"train": lambda X, y, s: cr.data.DataLoader(
        _ds(X, y), batch_size=BATCH, shuffle=True, generator=_gen(0, s))},
    "loader-generator-drop-last": {"train": lambda X, y, s: cr.data.DataLoader(
        _ds(X, y), batch_size=BATCH, shuffle=True, drop_last=True, generator=_gen(0, s))},
    "loader-global-shuffle": {"train": lambda X, y, s: cr.data.DataLoader(
        _ds(X, y), batch_size=BATCH, shuffle=True)},
    "RandomSampler-replacement": {"train": lambda X, y, s: cr.data.DataLoader(
        _ds(X, y), batch_size=BATCH, sampler=cr.data.RandomSampler(
            range(N), replacement=True, num_samples=36, generator=_gen(1, s)))},
    "RandomSampler-num-samples": {"train": lambda X, y, s: cr.data.DataLoader(
        _ds(X, y), batch_size=BATCH, sampler=cr.data.RandomSampler(
            range(N), num_samples=40, generator=_gen(1, s)))},
    "SubsetRandomSampler": {"train": lambda X, y, s: cr.data.DataLoader(
        _ds(X, y), batch_size=5, sampler=cr.data.SubsetRandomSampler(
            range(0, N, 1), generator=_gen(2, s)))},
    "WeightedRandomSampler": {"train": lambda X, y, s: cr.data.DataLoader(
        _ds(X, y), batch_size=BATCH, sampler=cr.data.WeightedRandomSampler(
            _weights(), 32, generator=_gen(3, s)))},
    "WeightedRandomSampler-global-no-replacement": {"train": lambda X, y, s: cr.data.DataLoader(
        _ds(X, y), batch_size=BATCH, sampler=cr.data.WeightedRandomSampler(
            _weights(), 28, replacement=False))},
    "batch_sampler": {"train": lambda X, y, s: cr.data.DataLoader(
        _ds(X, y), batch_sampler=cr.data.BatchSampler(
            cr.data.RandomSampler(range(N), generator=_gen(4, s)), 7, drop_last=True))},
    "DistributedSampler": {"train": lambda X, y, s: cr.data.DataLoader(
        _ds(X, y), batch_size=4, sampler=cr.data.DistributedSampler(range(N), 2, 1, seed=3))},
    "random_split": {"train": lambda X, y, s: cr.data.DataLoader(
        cr.data.random_split(_ds(X, y), [26, 4], generator=cr.Generator(9))[0],
        batch_size=BATCH, shuffle=True, generator=_gen(5, s))},
    "random_split-shared-generator": {"train": lambda X, y, s: _split_and_shuffle(X, y, s)},
    "augmenting-dataset": {"train": lambda X, y, s: cr.data.DataLoader(
        AugmentedDataset(X, y, 6 + s), batch_size=BATCH, shuffle=True, generator=_gen(7, s))},
    "list-of-batches": {"train": lambda X, y, s: [
        (cr.tensor(X[i:i + BATCH]), cr.tensor(y[i:i + BATCH])) for i in range(0, N, BATCH)]},
    "model-with-own-generator": {"model": "noisy", "train": lambda X, y, s: cr.data.DataLoader(
        _ds(X, y), batch_size=BATCH, shuffle=True, generator=_gen(8, s))},
    "model-without-dropout": {"model": "plain", "train": lambda X, y, s: cr.data.DataLoader(
        _ds(X, y), batch_size=BATCH, shuffle=True, generator=_gen(8, s))},
}


def _split_and_shuffle(X, y, s):
    # One generator both splits the data and shuffles the loader (the split is redone the
    # same way by the resumed run's code; the checkpoint then sets where the shuffling is).
    g = cr.Generator(10)
    train, _ = cr.data.random_split(_ds(X, y), [26, 4], generator=g)
    if s:
        g.manual_seed(999)
    return cr.data.DataLoader(train, batch_size=BATCH, shuffle=True, generator=g)


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_loaders_and_models(name, dtype, tmp_path):
    check_all_cuts(LOADERS[name], dtype, tmp_path)


def test_a_loss_with_a_generator(dtype, tmp_path):
    check_all_cuts({"loss": lambda s: JitteredLoss(31 + s)}, dtype, tmp_path)


def test_a_lazy_batch_sampler_resumes_at_epoch_ends(dtype, tmp_path):
    cfg = {"train": lambda X, y, s: cr.data.DataLoader(
        _ds(X, y), batch_sampler=BucketBatches(N, BATCH, 12 + s))}
    check_all_cuts(cfg, dtype, tmp_path, cut_steps=(), cut_epochs=(1, 2))


def test_a_lazy_batch_sampler_refuses_a_checkpoint_inside_an_epoch(tmp_path):
    cfg = {"train": lambda X, y, s: cr.data.DataLoader(
        _ds(X, y), batch_sampler=BucketBatches(N, BATCH, 12))}
    with pytest.raises(ValueError, match="BucketBatches.*order is only known as it is"):
        check_all_cuts(cfg, np.float32, tmp_path, cut_steps=(5,), cut_epochs=())


def test_everything_at_once(dtype, tmp_path):
    check_all_cuts({
        "model": "noisy",
        "optimizer": lambda p: cr.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
        "scheduler": lambda o: (lrs.OneCycleLR(o, max_lr=0.1, total_steps=20), "step"),
        "train": LOADERS["augmenting-dataset"]["train"],
        "val": lambda X, y, s: cr.data.DataLoader(_ds(X, y), batch_size=5, shuffle=True,
                                                  generator=_gen(11, s)),
        "callbacks": lambda d, s: [LRJitter(3 + s), *CALLBACKS["EarlyStopping"](d, s),
                                   cbs.ModelCheckpoint(f"{d}/b.ckpt", save_best_only=True)],
    }, dtype, tmp_path, cut_steps=(1, 3, 4, 5, 8), cut_epochs=(1, 2))
