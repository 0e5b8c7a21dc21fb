"""A small data-parallel training run, written once for every world size.

Run as a rank (``chainrule launch --nproc P ddp_case.py OUT``) it trains with
``DistributedDataParallel`` and a ``DistributedSampler`` and writes its final parameters to
``OUT.rank<r>.npz``. Imported, ``train(..., world=1)`` is the single-process reference: the same
model on the same global batches, no DDP at all.
"""

from __future__ import annotations

import contextlib
import sys

import numpy as np

import chainrule as cr
import chainrule.nn.functional as F

N, GLOBAL_BATCH, EPOCHS = 48, 12, 2
CONFIGS = [("sgd", 1), ("sgd", 2), ("adam", 1), ("adam", 2)]  # (optimizer, micro-batches/step)


def dataset():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((N, 6))
    y = rng.integers(0, 3, N)
    return cr.data.TensorDataset(cr.tensor(x), cr.tensor(y))


def model(seed: int):
    cr.manual_seed(seed)
    return cr.nn.Sequential(cr.nn.Linear(6, 16), cr.nn.Tanh(), cr.nn.Linear(16, 16),
                            cr.nn.Tanh(), cr.nn.Linear(16, 3))


def optimizer(name: str, params):
    if name == "sgd":
        return cr.optim.SGD(params, lr=0.1, momentum=0.9)
    return cr.optim.Adam(params, lr=0.01)


def train(opt_name: str, accum: int, world: int = 1, rank: int = 0, ddp: bool = False,
          epochs: tuple = (0, EPOCHS), state: dict | None = None):
    """Train; returns (bare model, optimizer). ``state``: a checkpoint to start from."""
    from chainrule.data import DataLoader, DistributedSampler

    net = base = model(100 + rank)  # different on every rank: DDP must broadcast rank 0's
    if ddp:
        from chainrule.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(base, bucket_cap_mb=1e-3)  # 1 KB: several buckets
    opt = optimizer(opt_name, net.parameters())
    if state is not None:
        base.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
    ds = dataset()
    sampler = DistributedSampler(ds, world, rank, shuffle=True, seed=3)
    loader = DataLoader(ds, batch_size=GLOBAL_BATCH // world, sampler=sampler)
    for epoch in range(*epochs):
        sampler.set_epoch(epoch)
        for i, (x, y) in enumerate(loader):
            step = (i + 1) % accum == 0
            quiet = contextlib.nullcontext() if step or not ddp else net.no_sync()
            with quiet:
                loss = F.cross_entropy(net(x), y) / accum
                loss.backward()
            if step:
                opt.step()
                opt.zero_grad()
    return base, opt


def parameters(net) -> dict:
    return {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}


def main(argv: list[str]) -> None:
    """``OUT``: every config, full run. ``OUT --save CKPT``: the first epoch of Adam, rank 0
    writes the checkpoint. ``OUT --resume CKPT``: the second epoch from that checkpoint."""
    import chainrule.distributed as dist
    from chainrule.train import load_checkpoint, save_checkpoint

    cr.set_default_dtype(cr.float64)
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    out, mode = argv[0], argv[1] if len(argv) > 1 else None
    arrays = {}
    if mode is None:
        for opt_name, accum in CONFIGS:
            net, _ = train(opt_name, accum, world, rank, ddp=True)
            for k, v in parameters(net).items():
                arrays[f"{opt_name}-{accum}/{k}"] = v
    elif mode == "--save":
        net, opt = train("adam", 1, world, rank, ddp=True, epochs=(0, 1))
        if rank == 0:
            save_checkpoint(argv[2], net, opt, epoch=1, extra={"world_size": world})
        dist.barrier()  # the file is complete before any rank goes on
    else:
        state = load_checkpoint(argv[2])
        net, _ = train("adam", 1, world, rank, ddp=True, epochs=(state["epoch"], EPOCHS),
                       state=state)
        arrays = {f"adam-1/{k}": v for k, v in parameters(net).items()}
    np.savez(f"{out}.rank{rank}.npz", **arrays)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1:])
