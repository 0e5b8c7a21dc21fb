"""Data-parallel training and the collectives, run as real MPI jobs (mpiexec from the ``mpi``
extra) of 1 to 4 ranks on this machine; every job runs under a timeout that kills it whole.

The ranks write each line of output in one call: mpiexec forwards their output as it comes, so
the pieces of two ranks' ``print`` calls can interleave."""

from __future__ import annotations

import os
import re
import sys
import time

import numpy as np
import pytest
from mpi_jobs import HERE, check, launch

import chainrule as cr

sys.path.insert(0, str(HERE))
import ddp_case  # noqa: E402


def test_collectives_on_three_ranks():
    out = check(launch(3, str(HERE / "collectives_ranks.py"))).stdout
    assert out.count("collectives ok") == 3


@pytest.mark.parametrize("flags", [[], ["--progress-thread"]])
def test_ddp_promises_on_two_ranks(flags):
    out = check(launch(2, str(HERE / "ddp_ranks.py"), *flags)).stdout
    assert out.count("ddp ok") == 2


def _reference() -> dict:
    """One process, no DDP, the same global batches: the parameters each config must reach."""
    cr.set_default_dtype(cr.float64)
    ref = {}
    for opt_name, accum in ddp_case.CONFIGS:
        net, _ = ddp_case.train(opt_name, accum)
        for k, v in ddp_case.parameters(net).items():
            ref[f"{opt_name}-{accum}/{k}"] = v
    return ref


def _ranks(prefix, world: int) -> list:
    return [dict(np.load(f"{prefix}.rank{r}.npz")) for r in range(world)]


def _check_training(ranks: list, ref: dict) -> None:
    start = ddp_case.parameters(ddp_case.model(100))
    for key, want in ref.items():
        name = key.split("/", 1)[1]
        assert np.abs(want - start[name]).max() > 1e-3  # training moved it
        for rank, got in enumerate(ranks):
            assert np.abs(got[key] - want).max() <= 1e-10, (key, rank)
            assert np.array_equal(got[key], ranks[0][key]), (key, rank)  # bit for bit


@pytest.mark.parametrize("world", [1, 2, pytest.param(4, marks=pytest.mark.slow)])
def test_training_matches_one_process(world, tmp_path):
    """SGD with momentum and Adam, with and without no_sync accumulation."""
    check(launch(world, str(HERE / "ddp_case.py"), str(tmp_path / "p"), timeout=120))
    _check_training(_ranks(tmp_path / "p", world), _reference())


@pytest.mark.slow
def test_checkpoint_resumes_at_another_world_size(tmp_path):
    ckpt = tmp_path / "ckpt.safetensors"
    check(launch(2, str(HERE / "ddp_case.py"), str(tmp_path / "a"), "--save", str(ckpt)))
    assert sorted(os.listdir(tmp_path)) == ["a.rank0.npz", "a.rank1.npz", "ckpt.safetensors"]
    check(launch(4, str(HERE / "ddp_case.py"), str(tmp_path / "b"), "--resume", str(ckpt),
                 timeout=120))
    ref = {k: v for k, v in _reference().items() if k.startswith("adam-1/")}
    _check_training(_ranks(tmp_path / "b", 4), ref)


def _alive(marker: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append(f"{pid}: {cmdline}")
    return found


@pytest.mark.parametrize("where", ["sleeping", "collective"])
def test_a_failing_rank_ends_the_job(where, tmp_path):
    """Rank 1 raises while rank 0 sleeps or waits in an all-reduce: the job ends, non-zero,
    with rank 1's traceback, and leaves no process behind."""
    script = tmp_path / f"fails_{where}.py"
    script.write_text(
        "import time\n"
        "import chainrule as cr, chainrule.distributed as dist\n"
        "dist.init_process_group('mpi')\n"
        "if dist.get_rank() == 1:\n"
        "    raise RuntimeError('rank one gives up')\n"
        f"if {where == 'sleeping'}:\n"
        "    time.sleep(300)\n"
        "dist.all_reduce(cr.ones(3))\n"
        "time.sleep(300)\n")
    t0 = time.monotonic()
    result = launch(2, str(script), timeout=60)
    assert time.monotonic() - t0 < 60
    assert result.returncode != 0
    assert "RuntimeError: rank one gives up" in result.stderr
    assert f"{script.name}\", line 5" in result.stderr  # the failing line, in the traceback
    assert "the job ended with exit status" in result.stderr
    deadline = time.monotonic() + 10
    while _alive(str(script)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _alive(str(script)) == []


def test_launch_with_a_hosts_file(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("localhost:2\n")
    script = tmp_path / "hello.py"
    script.write_text("import sys\nimport chainrule.distributed as dist\n"
                      "dist.init_process_group('mpi')\n"
                      "sys.stdout.write(f'rank {dist.get_rank()} of {dist.get_world_size()}\\n')\n")
    out = check(launch(2, "--hosts", str(hosts), str(script))).stdout
    assert sorted(out.split("\n")[:2]) == ["rank 0 of 2", "rank 1 of 2"]


def test_launch_runs_a_module_with_its_arguments(tmp_path):
    (tmp_path / "job_module.py").write_text(
        "import sys\nimport chainrule.distributed as dist\n"
        "dist.init_process_group()\n"
        "sys.stdout.write(f'{dist.get_rank()} {sys.argv[1:]}\\n')\n")
    result = check(launch(2, "-m", "job_module", "--flag", "x", cwd=tmp_path))
    assert sorted(result.stdout.split("\n")[:2]) == ["0 ['--flag', 'x']", "1 ['--flag', 'x']"]


def test_the_docs_training_script_runs_on_two_ranks(tmp_path):
    text = (HERE.parent.parent / "docs" / "distributed.md").read_text(encoding="utf-8")
    script = tmp_path / "train.py"
    script.write_text(re.findall(r"```python\n(.*?)```", text, flags=re.S)[0])
    check(launch(2, str(script), cwd=tmp_path))
    assert cr.train.load_checkpoint(tmp_path / "model.safetensors")["epoch"] == 3
