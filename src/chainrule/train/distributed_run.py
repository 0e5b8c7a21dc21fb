"""``chainrule train --nproc N``: the train command as a data-parallel MPI job.

Typed by a user, ``--nproc N`` starts the job: ``mpiexec -n N python -m mpi4py -m chainrule.cli
train ...`` with the same arguments (see ``chainrule.distributed.launch``). Each rank then runs
``run_rank``: the same model (rank 0's weights, broadcast by ``DistributedDataParallel``), a
``DistributedSampler`` share of each shuffled epoch and ``--batch-size / N`` samples of every
batch, so a step sees the same global batch of ``--batch-size`` samples at any N. Rank 0
prints, evaluates on the test set and writes the checkpoint; the others stay quiet.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time

import numpy as np


def run(args: argparse.Namespace) -> int:
    """Start the job (outside MPI) or run this rank's part of it (under mpiexec)."""
    from ..distributed.process_group import launched_rank

    if launched_rank() is None:
        return start_job(args)
    return run_rank(args)


def start_job(args: argparse.Namespace) -> int:
    from ..distributed._mpi import MISSING, available
    from ..distributed.launch import launch_command, run_job

    if not available():
        print(f"chainrule train --nproc: {MISSING}", file=sys.stderr)
        return 2
    argv = list(getattr(args, "argv", None) or sys.argv[1:])
    try:
        cmd = launch_command(args.nproc, "chainrule.cli", argv, module=True, hosts=args.hosts)
    except (FileNotFoundError, ValueError) as e:
        print(f"chainrule train --nproc: {e}", file=sys.stderr)
        return 2
    return run_job(cmd)


def _check(args: argparse.Namespace, world: int) -> str | None:
    if world != args.nproc:
        return f"--nproc {args.nproc} but this MPI job has {world} ranks"
    if args.batch_size % world:
        return (f"--batch-size {args.batch_size} must be a multiple of --nproc {world}: each "
                f"rank takes batch-size / nproc samples of every batch")
    if args.resume is not None and not os.path.isfile(args.resume):
        return f"--resume {args.resume!r}: no such checkpoint"
    return None


def run_rank(args: argparse.Namespace) -> int:
    import chainrule as cr
    import chainrule.distributed as dist

    dist.init_process_group("mpi")
    try:
        rank, world = dist.get_rank(), dist.get_world_size()
        problem = _check(args, world)
        if problem is not None:
            if rank == 0:
                print(f"chainrule train: {problem}", file=sys.stderr)
            return 2
        return _train(args, cr, dist, rank, world)
    finally:
        dist.destroy_process_group()


def _train(args, cr, dist, rank: int, world: int) -> int:
    from ..data import DataLoader, DistributedSampler
    from ..nn.parallel import DistributedDataParallel
    from . import evaluate
    from ._resolve import resolve_optimizer
    from .checkpoint import resume, save_checkpoint
    from .command import build_model, load_data, make_scheduler
    from .history import History
    from .progress import EpochLine

    lead = rank == 0
    cr.manual_seed(args.seed)
    train, test, (mean, std) = load_data(args.dataset, args.normalize)
    n_in = int(train.tensors[0].shape[1])
    n_classes = len(getattr(train, "classes", range(10)))
    model = build_model(args.model, n_in, n_classes, args.hidden, args.activation)
    arch = "-".join(str(n) for n in [n_in, *(args.hidden if args.model == "mlp" else []),
                                      n_classes])
    optimizer = resolve_optimizer(args.optimizer, model, args.lr)
    loss_fn = cr.nn.CrossEntropyLoss()
    scheduler = make_scheduler(args.schedule, optimizer, args.epochs)
    history, start = History(), 0
    if args.resume is not None:  # every rank reads it: on several hosts, a shared file system
        ckpt = resume(args.resume, model, optimizer, scheduler)
        start = int(ckpt["epoch"])
        if ckpt["history"] is not None:
            history.load_state_dict(ckpt["history"])
    ddp = DistributedDataParallel(model)
    sampler = DistributedSampler(train, world, rank, shuffle=True, seed=args.seed)
    loader = DataLoader(train, batch_size=args.batch_size // world, sampler=sampler)
    if lead:
        print(f"chainrule train: {args.model} {arch} ({args.activation}) on {args.dataset} "
              f"({len(train)} train / {len(test)} test), {args.optimizer} lr={args.lr:g} "
              f"({args.schedule} schedule), batch {args.batch_size} = {world} ranks x "
              f"{args.batch_size // world}, {args.epochs} epochs, seed {args.seed}"
              + (f", resumed at epoch {start + 1}" if args.resume else ""), flush=True)
    display = EpochLine(args.epochs) if lead and not args.quiet else None
    anomaly = cr.autograd.detect_anomaly if args.detect_anomaly else contextlib.nullcontext

    t0 = time.perf_counter()
    for epoch in range(start, args.epochs):
        t_epoch = time.perf_counter()
        sampler.set_epoch(epoch)
        lr = float(optimizer.param_groups[0]["lr"])
        model.train()
        sums = np.zeros(3)  # loss * n, correct, n
        with anomaly():
            for x, y in loader:
                optimizer.zero_grad()
                out = ddp(x)
                loss = loss_fn(out, y)
                loss.backward()
                optimizer.step()
                n = len(y)
                sums += (float(loss._data) * n,
                         float((out._data.argmax(axis=1) == y._data).sum()), n)
        total = cr.tensor(sums)
        dist.all_reduce(total)
        loss_sum, correct, seen = (float(v) for v in total._data)
        logs = {"loss": loss_sum / seen, "accuracy": correct / seen}
        if lead:
            val = evaluate(model, test, loss=loss_fn, metrics=["accuracy"], batch_size=1000)
            logs.update(val_loss=val["loss"], val_accuracy=val["accuracy"])
        logs.update(lr=lr, time=time.perf_counter() - t_epoch)
        if scheduler is not None:
            scheduler.step()
        history.append(epoch, logs)
        if display is not None:
            display.on_epoch_end(None, epoch, logs)
    train_seconds = time.perf_counter() - t0
    if not lead:
        return 0

    result = evaluate(model, test, loss=loss_fn, metrics=["accuracy"], batch_size=1000)
    os.makedirs(args.out, exist_ok=True)
    # Rank 0 alone writes, atomically (cr.save); the bare model's keys, so the checkpoint
    # loads into a model at any world size, or without distributed training at all.
    ckpt = save_checkpoint(os.path.join(args.out, "model.safetensors"), model, optimizer,
                           epoch=len(history), scheduler=scheduler, history=history,
                           extra={"command": "train", "dataset": args.dataset,
                                  "model": args.model, "arch": arch,
                                  "activation": args.activation, "normalize": [mean, std],
                                  "nproc": world})
    curves = None
    try:
        from .plot import plot_history

        curves = plot_history(history, os.path.join(args.out, "curves.png"), val_label="test")
    except ImportError as e:
        print(f"curves not drawn: {e}", file=sys.stderr)
    print(f"test loss {result['loss']:.4f} - test accuracy {result['accuracy']:.4f} - "
          f"trained in {train_seconds:.1f}s on {world} ranks")
    print(f"checkpoint: {ckpt}" + (f"\ncurves: {curves}" if curves else ""))
    if args.json:
        summary = {
            "dataset": args.dataset, "model": args.model, "arch": arch,
            "activation": args.activation, "epochs": args.epochs, "batch_size": args.batch_size,
            "nproc": world, "optimizer": args.optimizer, "lr": args.lr,
            "schedule": args.schedule, "normalize": [mean, std] if args.normalize else None,
            "seed": args.seed, "train_samples": len(train), "test_samples": len(test),
            "test_accuracy": result["accuracy"], "test_loss": result["loss"],
            "train_loss": history.last("loss"), "train_accuracy": history.last("accuracy"),
            "train_seconds": round(train_seconds, 3), "checkpoint": ckpt, "curves": curves,
            "resumed_from": args.resume,
        }
        print(json.dumps(summary), flush=True)
    return 0
