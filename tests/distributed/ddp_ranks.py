"""DistributedDataParallel's promises, checked on every rank of a job.

Run as ``chainrule launch --nproc P ddp_ranks.py`` (P >= 2); a failed check raises, which ends
the job with its traceback. Expected gradients come from a plain copy of the model run on this
rank's batch, or on every rank's batch (gathered), never from DDP itself.
"""

from __future__ import annotations

import os
import sys

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule.nn.modules.utils import consume_prefix_in_state_dict_if_present
from chainrule.nn.parallel import DistributedDataParallel as DDP


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(f"rank {dist.get_rank()}: {what}")


def gathered(a: np.ndarray) -> np.ndarray:
    """Every rank's ``a``, stacked in rank order."""
    out = [cr.zeros(*a.shape, dtype=cr.float64) for _ in range(dist.get_world_size())]
    dist.all_gather(out, cr.tensor(a))
    return np.stack([o.detach().numpy() for o in out])


def grads(model) -> list[np.ndarray]:
    return [p.grad.detach().numpy().copy() for p in model.parameters()]


def net(seed: int):
    cr.manual_seed(seed)
    return cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.Tanh(), cr.nn.Linear(8, 3))


def twin(model):
    """A plain model with the same weights: the reference gradients come from it."""
    other = net(0)
    other.load_state_dict(model.state_dict())
    return other


def local_batch(rank: int):
    rng = np.random.default_rng(10 + rank)
    return cr.tensor(rng.standard_normal((5, 4))), cr.tensor(rng.standard_normal((5, 3)))


def loss_of(model, x, y):
    return ((model(x) - y) ** 2).mean()


def main(argv: list[str]) -> None:
    if "--progress-thread" in argv:  # off by default on a 2-core machine
        from chainrule.nn.parallel import reducer

        reducer.PROGRESS_THREAD = True
    cr.set_default_dtype(cr.float64)
    dist.init_process_group("mpi")
    r, n = dist.get_rank(), dist.get_world_size()
    expect(n >= 2, "needs two ranks or more")

    # 1. construction copies rank 0's parameters and buffers to every rank
    base = cr.nn.Sequential(net(100 + r), cr.nn.BatchNorm1d(3))
    with cr.no_grad():
        base[1].running_mean.fill_(float(r))
    ddp = DDP(base, bucket_cap_mb=1e-4)
    flat = np.concatenate([t.detach().numpy().ravel() for t in base.state_dict().values()])
    every = gathered(flat)
    expect((every == every[0]).all(), "replicas differ after construction")
    expect(np.array_equal(every[0][:4 * 8], net(100)[0].weight.detach().numpy().ravel()),
           "the replicas are not rank 0's weights")
    expect(base[1].running_mean.detach().numpy().tolist() == [0.0] * 3,
           "buffers not broadcast")
    expect(len(ddp._reducer.buckets) > 1, "the test needs several buckets")
    # By default the thread runs where a core is free: more cores than this job's ranks.
    spare = len(os.sched_getaffinity(0)) > n
    expect((ddp._reducer.progress is not None) == ("--progress-thread" in argv or spare),
           "progress thread")

    # 2. a training forward starts from rank 0's buffers (then updates them locally)
    with cr.no_grad():
        base[1].running_mean.fill_(float(r + 5))
    x, y = local_batch(r)
    ddp(x)
    with cr.no_grad():
        h = base[0](x).detach().numpy()
    want = 0.9 * 5.0 + 0.1 * h.mean(axis=0)
    expect(np.allclose(base[1].running_mean.detach().numpy(), want, atol=1e-12),
           "running stats did not start from rank 0's")

    # 3. backward averages: every rank holds the mean of the local gradients, bit for bit
    model = net(100 + r)
    ddp = DDP(model, bucket_cap_mb=1e-4)
    ref = twin(model)
    loss_of(ref, x, y).backward()
    local = grads(ref)
    loss_of(ddp, x, y).backward()
    for g, mine in zip(grads(model), local):
        every_local, every_got = gathered(mine), gathered(g)
        expect(np.allclose(g, every_local.mean(axis=0), atol=1e-15, rtol=0), "not the mean")
        expect((every_got == every_got[0]).all(), "ranks hold different gradients")

    # 4. buckets start during backward: the first layer's rule runs after a bucket has started
    seen = []

    class Watch(cr.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t.clone()

        @staticmethod
        def backward(ctx, g):
            seen.append(ddp._reducer.next)
            return g

    model.zero_grad()
    loss_of(ddp, x, y)  # the forward that prepares the backward
    out = model[2](model[1](model[0](Watch.apply(x.requires_grad_(True)))))
    ((out - y) ** 2).mean().backward()
    expect(seen and seen[0] >= 1, f"no bucket had started before the end of backward: {seen}")
    x = x.detach()

    # 5. no_sync: local gradients, accumulated; the next synchronised backward averages the sum
    model.zero_grad()
    x2, y2 = local_batch(r + 100)
    with ddp.no_sync():
        loss_of(ddp, x, y).backward()
    expect(all(np.array_equal(g, m) for g, m in zip(grads(model), local)),
           "no_sync averaged the gradients")
    loss_of(ddp, x2, y2).backward()
    ref.zero_grad()
    loss_of(ref, x, y).backward()
    loss_of(ref, x2, y2).backward()
    for g, mine in zip(grads(model), grads(ref)):
        expect(np.allclose(g, gathered(mine).mean(axis=0), atol=1e-15, rtol=0),
               "the accumulated gradients were not averaged")
    # the decision is the forward's (as in PyTorch): forward inside, backward outside
    model.zero_grad()
    with ddp.no_sync():
        loss = loss_of(ddp, x, y)
    loss.backward()
    expect(all(np.array_equal(g, m) for g, m in zip(grads(model), local)),
           "a forward under no_sync was synchronised")

    # 6. parameters used on rank 0 only are averaged with zeros; unused ones keep grad None
    class Branchy(cr.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = net(100)
            self.rank0_only = cr.nn.Parameter(cr.ones(3))
            self.never = cr.nn.Parameter(cr.ones(2))

        def forward(self, t):
            out = self.body(t)
            return out * self.rank0_only if r == 0 else out

    branchy = Branchy()
    bddp = DDP(branchy, bucket_cap_mb=1e-4)
    loss_of(bddp, x, y).backward()
    g0 = gathered(branchy.rank0_only.grad.detach().numpy())
    ref = Branchy()
    ref.load_state_dict(branchy.state_dict())
    loss_of(ref, x, y).backward()
    own = ref.rank0_only.grad.detach().numpy() if r == 0 else np.zeros(3)
    expect(np.allclose(g0[r], gathered(own).sum(axis=0) / n, atol=1e-15),
           "a parameter used on one rank was not averaged with zeros")
    expect((g0 == g0[0]).all(), "ranks differ on a parameter one rank used")
    expect(branchy.never.grad is None, "a parameter no rank used got a gradient")

    # 7. state_dict keys: PyTorch's 'module.' prefix on the wrapper, none on .module
    keys = list(ddp.state_dict())
    expect(keys and all(k.startswith("module.") for k in keys), f"keys {keys}")
    expect(list(ddp.module.state_dict()) == [k[len("module."):] for k in keys], "bare keys")
    sd = dict(ddp.state_dict())
    consume_prefix_in_state_dict_if_present(sd, "module.")
    net(0).load_state_dict(sd)
    ddp.load_state_dict(ddp.state_dict())

    # 8. different models on different ranks: the same error everywhere, no hang
    try:
        DDP(cr.nn.Linear(3 + (r == 0), 2))
    except RuntimeError as e:
        expect("different models" in str(e), str(e))
    else:
        raise AssertionError("different models were accepted")

    dist.destroy_process_group()
    sys.stdout.write(f"rank {r} of {n}: ddp ok\n")


if __name__ == "__main__":
    main(sys.argv[1:])
