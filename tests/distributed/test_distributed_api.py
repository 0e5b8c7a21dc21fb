"""``chainrule.distributed`` in one process, no MPI job: PyTorch's names and signatures, lazy
loading of mpi4py, and the errors before a process group exists."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
import torch.distributed as tdist
import torch.nn.parallel as tparallel

import chainrule as cr
import chainrule.distributed as dist
from chainrule.data import DistributedSampler
from chainrule.distributed.launch import launch_command
from chainrule.nn.parallel import DistributedDataParallel

IMPLEMENTED = ["init_process_group", "destroy_process_group", "is_initialized", "get_rank",
               "get_world_size", "get_backend", "barrier", "broadcast", "all_reduce", "reduce",
               "all_gather", "all_gather_into_tensor", "reduce_scatter",
               "reduce_scatter_tensor"]


@pytest.mark.parametrize("name", IMPLEMENTED)
def test_signatures_are_pytorchs(name):
    ours = list(inspect.signature(getattr(dist, name)).parameters)
    theirs = [p for p in inspect.signature(getattr(tdist, name)).parameters
              if not p.startswith("_")]
    assert ours == theirs[:len(ours)]
    assert getattr(dist, name).__doc__ and "Example" in getattr(dist, name).__doc__


def test_ddp_arguments_are_pytorchs():
    ours = list(inspect.signature(DistributedDataParallel.__init__).parameters)
    theirs = list(inspect.signature(tparallel.DistributedDataParallel.__init__).parameters)
    assert ours == theirs[:len(ours)]


def test_reduce_ops_are_pytorchs():
    theirs = sorted(n for n in dir(tdist.ReduceOp) if n.isupper() and not n.startswith("_"))
    assert sorted(op.name for op in dist.ReduceOp) == theirs
    assert dist.Backend.MPI == tdist.Backend.MPI == "mpi"


def test_importing_does_not_start_mpi():
    code = ("import sys, chainrule as cr, chainrule.distributed, chainrule.nn.parallel, "
            "chainrule.data; cr.distributed.is_mpi_available(); "
            "assert 'mpi4py' not in sys.modules, 'mpi4py was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_mpi4py_names_the_extra():
    code = ("import sys; sys.modules['mpi4py'] = None\n"
            "import chainrule.distributed as dist\n"
            "try:\n    dist.init_process_group('mpi')\n"
            "except ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    assert "install the 'mpi' extra" in out and "mpi4py" in out


@pytest.mark.parametrize("call,where", [
    (lambda: dist.get_rank(), "get_rank"),
    (lambda: dist.get_world_size(), "get_world_size"),
    (lambda: dist.all_reduce(cr.ones(2)), "all_reduce"),
    (lambda: dist.broadcast(cr.ones(2), 0), "broadcast"),
    (lambda: dist.barrier(), "barrier"),
    (lambda: dist.destroy_process_group(), "destroy_process_group"),
    (lambda: DistributedDataParallel(cr.nn.Linear(2, 2)), "DistributedDataParallel"),
])
def test_before_init_process_group(call, where):
    with pytest.raises(ValueError, match=rf"^{where}: Default process group has not been "
                                         "initialized"):
        call()


def test_sampler_defaults_need_a_process_group():
    with pytest.raises(ValueError, match="DistributedSampler: .*init_process_group"):
        DistributedSampler(range(4))
    assert len(DistributedSampler(range(5), 2, 1)) == 3


@pytest.mark.parametrize("kwargs,message", [
    ({"backend": "gloo"}, "only backend is 'mpi'"),
    ({"backend": "nccl"}, "only backend is 'mpi'"),
    ({"backend": "mpi", "init_method": "env://"}, "init_method does not apply"),
])
def test_init_process_group_refuses_other_backends(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dist.init_process_group(**kwargs)
    assert not dist.is_initialized()


def test_questions():
    assert dist.is_available() is True and dist.is_initialized() is False
    assert dist.is_mpi_available() is True  # the test environment installs the mpi extra
    assert not dist.is_nccl_available() and not dist.is_gloo_available()
    assert dist.group.WORLD is None


def test_what_is_left_out_says_so():
    with pytest.raises(NotImplementedError, match="chainrule.distributed.send"):
        dist.send(cr.ones(1), 1)
    with pytest.raises(NotImplementedError, match="chainrule.distributed.new_group"):
        dist.new_group([0])


def test_launch_command(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("node1:4\nnode2:4\n")
    cmd = launch_command(8, "train.py", ["--lr", "0.1"], hosts=str(hosts), mpiexec="mpiexec")
    assert cmd == ["mpiexec", "-n", "8", "-f", str(hosts), sys.executable, "-m", "mpi4py",
                   "train.py", "--lr", "0.1"]
    assert launch_command(2, "pkg.mod", module=True, mpiexec="m")[-3:] == ["mpi4py", "-m",
                                                                            "pkg.mod"]
    with pytest.raises(ValueError, match="nproc"):
        launch_command(0, "train.py", mpiexec="mpiexec")
    with pytest.raises(FileNotFoundError, match="--hosts"):
        launch_command(2, "train.py", hosts=str(tmp_path / "nope"), mpiexec="mpiexec")


def test_launch_finds_the_environments_mpiexec():
    from chainrule.distributed.launch import find_mpiexec

    assert find_mpiexec() is not None and find_mpiexec().endswith("mpiexec")


def test_launch_command_line_errors(capsys):
    from chainrule.cli import main

    with pytest.raises(SystemExit):
        main(["launch", "--nproc", "0", "x.py"])
    assert main(["launch", "--nproc", "2", "--hosts", "/no/such/file", "x.py"]) == 2
    assert "--hosts" in capsys.readouterr().err
