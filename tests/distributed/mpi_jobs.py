"""Running MPI jobs from tests: every job through ``chainrule launch``, under a hard timeout
that kills the whole job (mpiexec and every rank) if it is ever exceeded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SRC = str(HERE.parent.parent / "src")


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = SRC + os.pathsep + e.get("PYTHONPATH", "") if e.get("PYTHONPATH") \
        else SRC
    e["OMP_NUM_THREADS"] = "1"
    return e


def chainrule(*args: str, timeout: float = 60, cwd=None) -> subprocess.CompletedProcess:
    """``chainrule ARGS...``; the test fails (and every process it started is killed) if it
    runs longer than ``timeout`` seconds."""
    cmd = [sys.executable, "-m", "chainrule.cli", *args]
    proc = subprocess.Popen(cmd, env=env(), cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"chainrule {args} ran over {timeout} s and was killed\n"
                             f"stdout:\n{out}\nstderr:\n{err}") from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def launch(nproc: int, *args: str, timeout: float = 60, cwd=None) -> subprocess.CompletedProcess:
    """``chainrule launch --nproc N ARGS...`` under a timeout (see ``chainrule``)."""
    return chainrule("launch", "--nproc", str(nproc), *args, timeout=timeout, cwd=cwd)


def check(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, (f"the MPI job failed ({result.returncode})\n"
                                    f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result
