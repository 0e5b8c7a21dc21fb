"""``chainrule launch``: run a script as an MPI job of N ranks, like ``torchrun``.

    chainrule launch --nproc 4 train.py --epochs 3
    chainrule launch --nproc 8 --hosts hosts.txt -m mypackage.train

The job is ``mpiexec -n N python -m mpi4py script.py args`` with the ``mpiexec`` installed next
to this Python (the ``mpi`` extra's MPICH) and this Python itself. Running the script through
``-m mpi4py`` makes an exception that no rank catches print its traceback and abort the whole
job (``MPI_Abort``): every rank ends and the exit status is non-zero, instead of the others
waiting forever in their next collective. ``--hosts FILE`` hands MPICH a host file (one
``host[:slots]`` a line) for a job over several machines; see docs/distributed.md.

Like torchrun, the launcher gives each rank ``OMP_NUM_THREADS=1`` unless it is set already: N
ranks that each start as many BLAS threads as there are cores would fight over them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from typing import Any

from ._mpi import MISSING, available


def find_mpiexec() -> str | None:
    """The ``mpiexec`` next to this Python (a virtual environment with the ``mpi`` extra), else
    the first on ``PATH``; None when there is none.

    Example:
        >>> find_mpiexec()  # doctest: +SKIP
        '/home/me/project/.venv/bin/mpiexec'
    """
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(here) and os.access(here, os.X_OK):
        return here
    return shutil.which("mpiexec")


def launch_command(nproc: int, target: str, args: list[str] | tuple[str, ...] = (), *,
                   module: bool = False, hosts: str | None = None,
                   mpiexec: str | None = None) -> list[str]:
    """The command line that runs ``target`` (a script path, or a module name with
    ``module=True``) as ``nproc`` ranks.

    Example:
        >>> cmd = launch_command(2, "train.py", ["--epochs", "3"], mpiexec="mpiexec")
        >>> cmd[:3], cmd[4:]
        (['mpiexec', '-n', '2'], ['-m', 'mpi4py', 'train.py', '--epochs', '3'])
    """
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"launch: nproc must be an integer >= 1, got {nproc!r}")
    exe = mpiexec or find_mpiexec()
    if exe is None:
        raise FileNotFoundError(f"launch: no mpiexec found; {MISSING}")
    cmd = [exe, "-n", str(nproc)]
    if hosts is not None:
        if not os.path.isfile(hosts):
            raise FileNotFoundError(f"launch: --hosts {hosts!r}: no such file")
        cmd += ["-f", os.path.abspath(hosts)]
    cmd += [sys.executable, "-m", "mpi4py"]
    cmd += ["-m", target] if module else [target]
    return cmd + list(args)


def launch_env(base: dict | None = None) -> dict:
    """The ranks' environment: ``base`` (the current one) with ``OMP_NUM_THREADS=1`` unless
    it is set."""
    env = dict(os.environ if base is None else base)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def run_job(cmd: list[str], env: dict | None = None) -> int:
    """Run the job and return its exit status; Ctrl-C and SIGTERM are passed on to mpiexec,
    which ends every rank."""
    proc = subprocess.Popen(cmd, env=launch_env(env))

    def forward(signum, _frame) -> None:
        proc.send_signal(signum)

    old = signal.signal(signal.SIGTERM, forward)
    try:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:
                proc.send_signal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGTERM, old)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    from ..cli import positive

    p = subparsers.add_parser(
        "launch", help="run a script as an MPI job of N processes (like torchrun)",
        description="Run SCRIPT (or -m MODULE) as N ranks with this environment's mpiexec "
                    "and python -m mpi4py: a rank that raises ends the whole job with a "
                    "non-zero status, its traceback shown.")
    p.add_argument("--nproc", "--nproc-per-node", "--nproc_per_node", dest="nproc",
                   type=positive(int), default=1, metavar="N",
                   help="number of processes (ranks), default 1")
    p.add_argument("--hosts", metavar="FILE",
                   help="MPICH host file (one host[:slots] a line) for a job over several "
                        "machines")
    p.add_argument("-m", "--module", action="store_true",
                   help="run TARGET as a module (python -m TARGET)")
    p.add_argument("target", metavar="SCRIPT", help="the script (or module with -m) to run")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    if not available():
        print(f"chainrule launch: {MISSING}", file=sys.stderr)
        return 2
    try:
        cmd = launch_command(args.nproc, args.target, args.args, module=args.module,
                             hosts=args.hosts)
    except (FileNotFoundError, ValueError) as e:
        print(f"chainrule {e}", file=sys.stderr)
        return 2
    status = run_job(cmd)
    if status != 0:
        print(f"chainrule launch: the job ended with exit status {status} (a rank failed: "
              "its traceback is above)", file=sys.stderr)
    return status
