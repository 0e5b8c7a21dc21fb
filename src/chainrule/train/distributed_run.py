"""``chainrule train --nproc N``: the train command as a data-parallel MPI job.

Typed by a user, ``--nproc N`` starts the job: ``mpiexec -n N python -m mpi4py -m chainrule.cli
train ...`` with the same arguments (see ``chainrule.distributed.launch``). Each rank then runs
``run_rank``: the same model (rank 0's weights, broadcast by ``DistributedDataParallel``), a
``DistributedSampler`` share of each shuffled epoch and ``--batch-size / N`` samples of every
batch, so a step sees the same global batch of ``--batch-size`` samples at any N. Rank 0
prints, evaluates on the test set and writes OUT/checkpoint.safetensors at every epoch end and
OUT/model.safetensors at the end; the others stay quiet. Neither file depends on N, so
``--resume OUT`` continues the run at any number of processes (or without ``--nproc``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time

import numpy as np

from .command import Refused


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
    try:  # refuse bad arguments here, once, rather than on every rank
        _resolved(args, args.nproc)
    except Refused as e:
        print(f"chainrule train: {e}", file=sys.stderr)
        return 2
    argv = list(getattr(args, "argv", None) or sys.argv[1:])
    try:
        cmd = launch_command(args.nproc, "chainrule.cli", argv, module=True, hosts=args.hosts)
    except (FileNotFoundError, ValueError) as e:
        print(f"chainrule train --nproc: {e}", file=sys.stderr)
        return 2
    return run_job(cmd)


def _resolved(args: argparse.Namespace, world: int) -> tuple[argparse.Namespace, str | None]:
    """The run's options (from the checkpoint with ``--resume``) and the checkpoint to resume
    from; ``Refused`` for what a data-parallel run of ``world`` ranks cannot do."""
    from .command import fill_defaults, resume_args

    path = None
    if args.resume is not None:
        args, path = resume_args(args)
    else:
        fill_defaults(args)
    if world != args.nproc:
        raise Refused(f"--nproc {args.nproc} but this MPI job has {world} ranks")
    if args.batch_size % world:
        raise Refused(f"--batch-size {args.batch_size} must be a multiple of --nproc {world}: "
                      f"each rank takes batch-size / nproc samples of every batch")
    if args.save_every:
        raise Refused("--save-every is not available with --nproc: a data-parallel run writes "
                      "its checkpoint at the end of every epoch")
    if args.shift and args.model != "cnn":
        raise Refused("--shift moves images; it needs --model cnn")
    if path is not None:
        from .checkpoint import load_checkpoint

        if load_checkpoint(path)["progress"] is not None:
            raise Refused(f"{path} was written inside an epoch (--save-every); a data-parallel "
                          f"run continues from an epoch end: resume it without --nproc")
    return args, path


def run_rank(args: argparse.Namespace) -> int:
    import chainrule as cr
    import chainrule.distributed as dist

    dist.init_process_group("mpi")
    try:
        rank, world = dist.get_rank(), dist.get_world_size()
        try:
            args, path = _resolved(args, world)
        except Refused as e:
            if rank == 0:
                print(f"chainrule train: {e}", file=sys.stderr)
            return 2
        return _train(args, path, cr, dist, rank, world)
    finally:
        dist.destroy_process_group()


def _train(args, resume_from: str | None, cr, dist, rank: int, world: int) -> int:
    from ..data import DataLoader, DistributedSampler
    from ..nn.parallel import DistributedDataParallel
    from . import evaluate
    from ._resolve import resolve_optimizer
    from .checkpoint import resume, save_checkpoint
    from .command import CHECKPOINT, RUN_OPTIONS, Shifted, build_run, make_scheduler
    from .history import History
    from .progress import EpochLine

    lead = rank == 0
    run = build_run(args)
    train, test, mean, std, spec, model, arch = (run.train, run.test, run.mean, run.std,
                                                 run.spec, run.model, run.arch)
    optimizer = resolve_optimizer(args.optimizer, model, args.lr)
    loss_fn = cr.nn.CrossEntropyLoss()
    scheduler = make_scheduler(args.schedule, optimizer, args.epochs)
    extra = {"command": "train", "dataset": args.dataset, "model": args.model, "arch": arch,
             "activation": args.activation, "normalize": [mean, std], "model_spec": spec,
             "train_args": {k: getattr(args, k) for k in RUN_OPTIONS}, "nproc": world}
    history, start, step = History(), 0, 0
    if resume_from is not None:  # every rank reads it: on several hosts, a shared file system
        ckpt = resume(resume_from, model, optimizer, scheduler)
        start, step = int(ckpt["epoch"]), int(ckpt["step"])
        if ckpt["history"] is not None:
            history.load_state_dict(ckpt["history"])
    ddp = DistributedDataParallel(model)
    sampler = DistributedSampler(train, world, rank, shuffle=True, seed=args.seed)
    loader = DataLoader(train, batch_size=args.batch_size // world, sampler=sampler)
    batches = Shifted(loader, args.shift, (0.0 - mean) / std) if args.shift else loader
    what = f"{args.model} {arch}" + (f" ({args.activation})" if args.model == "mlp" else "")
    if lead:
        print(f"chainrule train: {what} on {args.dataset} "
              f"({len(train)} train / {len(test)} test), {args.optimizer} lr={args.lr:g} "
              f"({args.schedule} schedule), batch {args.batch_size} = {world} ranks x "
              f"{args.batch_size // world}, {args.epochs} epochs, "
              + (f"images shifted by up to {args.shift} pixels, " if args.shift else "")
              + f"seed {args.seed}"
              + (f", resuming from {resume_from} at epoch {start + 1}" if resume_from else ""),
              flush=True)
        os.makedirs(args.out, exist_ok=True)
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
            for x, y in batches:
                optimizer.zero_grad()
                out = ddp(x)
                loss = loss_fn(out, y)
                loss.backward()
                optimizer.step()
                step += 1
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
        if lead:  # rank 0 alone writes, atomically (cr.save): the run's resume point
            save_checkpoint(os.path.join(args.out, CHECKPOINT), model, optimizer,
                            epoch=epoch + 1, step=step, scheduler=scheduler, history=history,
                            extra=extra)
    train_seconds = time.perf_counter() - t0
    if not lead:
        return 0

    result = evaluate(model, test, loss=loss_fn, metrics=["accuracy"], batch_size=1000)
    # The bare model's keys: the checkpoint loads into a model at any world size, or without
    # distributed training at all (chainrule export and predict read it too).
    ckpt = save_checkpoint(os.path.join(args.out, "model.safetensors"), model, optimizer,
                           epoch=len(history), step=step, scheduler=scheduler, history=history,
                           extra=extra)
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
            "shift": args.shift, "seed": args.seed, "train_samples": len(train),
            "test_samples": len(test), "test_accuracy": result["accuracy"],
            "test_loss": result["loss"], "train_loss": history.last("loss"),
            "train_accuracy": history.last("accuracy"),
            "train_seconds": round(train_seconds, 3), "checkpoint": ckpt, "curves": curves,
            "resumed_from": resume_from,
        }
        print(json.dumps(summary), flush=True)
    return 0
