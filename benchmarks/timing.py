"""Measuring on a shared, noisy machine: thread limits, interleaved timing, machine facts.

Absolute times drift by tens of percent while other processes run, so implementations are
never timed one after the other: every repeat runs each implementation once, in a rotating
order, and the comparison uses the medians of those interleaved samples.
"""

from __future__ import annotations

import datetime
import os
import platform
import time

THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_LIMITS: list = []


def thread_env(threads: int) -> dict[str, str]:
    """Environment for a child process whose BLAS and PyTorch use ``threads`` threads."""
    env = dict(os.environ)
    for name in THREAD_ENV:
        env[name] = str(threads)
    if threads == 1:  # XLA (JAX) has no thread count, only an off switch for its thread pool
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false "
                            "intra_op_parallelism_threads=1").strip()
    return env


def limit_threads(threads: int) -> str:
    """Also limit the already-loaded thread pools (threadpoolctl when installed)."""
    how = "environment variables"
    try:
        from threadpoolctl import threadpool_limits

        _LIMITS.append(threadpool_limits(limits=threads))  # kept: the limit lasts while held
        how = ("threadpoolctl + environment variables + torch.set_num_threads (JAX: its thread "
               "pool off at 1 thread, XLA_FLAGS)")
    except ImportError:
        pass
    try:
        import sys

        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)
    except Exception:  # noqa: BLE001 - a benchmark must not die on an odd torch build
        pass
    return how


def calibrate(step, min_seconds: float) -> int:
    """How many calls of ``step`` make one sample of at least ``min_seconds``."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        dt = time.perf_counter() - t0
        if dt >= min_seconds or n >= 1 << 16:
            return n
        n = max(n * 2, int(n * min_seconds / max(dt, 1e-9)) + 1)


def malloc_env(env: dict[str, str], tuning: str) -> dict[str, str]:
    """``env`` for a child process that runs with chainrule's allocator tuning ``"on"`` or
    ``"off"``. Off sets ``CHAINRULE_NO_MALLOPT``, so nothing in the child (``fit`` included)
    applies it; on clears it, and the child calls ``tune_malloc`` itself."""
    env = {k: v for k, v in env.items() if k not in ("CHAINRULE_MALLOPT", "CHAINRULE_NO_MALLOPT")}
    if tuning == "off":
        env["CHAINRULE_NO_MALLOPT"] = "1"
    return env


def tune_malloc(tuning: str) -> bool:
    """In a child: apply ``cr.tune_allocator()`` when ``tuning`` is ``"on"``, as a user's own
    loop would before training. Returns whether the settings are in force. They hold for the
    whole process, so every implementation timed in it runs with the same malloc."""
    import chainrule
    from chainrule import _alloc

    if tuning == "on":
        chainrule.tune_allocator()
    return _alloc.applied


def minor_faults() -> int:
    """Minor page faults of this process so far: each is a page the kernel mapped (and
    zero-filled) on first touch, the cost the allocator tuning avoids."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def interleaved(runners: dict, repeats: int, min_seconds: float, warmup_seconds: float,
                gap_seconds: float = 0.05,
                faults: dict[str, list[float]] | None = None) -> dict[str, list[float]]:
    """Seconds per call of each runner's ``step``: ``repeats`` samples each, interleaved.

    Each runner first runs for ``warmup_seconds`` (caches, allocator, lazy init); the number of
    calls per sample is calibrated so one sample lasts about ``min_seconds``. Before each sample
    the process idles ``gap_seconds`` and runs one untimed step: the previous implementation's
    thread pool (OpenBLAS, OpenMP, XLA) may still be spinning on the cores, and the sample must
    not pay for it. When ``faults`` is a dict it receives each runner's minor page faults per
    call, one value per sample.
    """
    counts = {}
    for name, r in runners.items():
        t_end = time.perf_counter() + warmup_seconds
        r.step()
        while time.perf_counter() < t_end:
            r.step()
        counts[name] = calibrate(r.step, min_seconds)
    names = list(runners)
    samples: dict[str, list[float]] = {n: [] for n in names}
    for k in range(repeats):
        order = names[k % len(names):] + names[:k % len(names)]  # rotate: no fixed neighbour
        for name in order:
            step, n = runners[name].step, counts[name]
            time.sleep(gap_seconds)
            step()
            f0 = minor_faults() if faults is not None else 0
            t0 = time.perf_counter()
            for _ in range(n):
                step()
            samples[name].append((time.perf_counter() - t0) / n)
            if faults is not None:
                faults.setdefault(name, []).append((minor_faults() - f0) / n)
    return samples


def peak_rss_mib() -> float:
    """This process's peak resident set size (``ru_maxrss`` is KiB on Linux, bytes on macOS)."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def machine_info() -> dict[str, str]:
    import numpy as np

    info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["cpu"] = cpu
    info["cores"] = str(os.cpu_count())
    try:  # other work on the machine moves two-thread timings most: say how busy it was
        with open("/proc/loadavg") as f:
            info["load average (1, 5, 15 min) at the end"] = " ".join(f.read().split()[:3])
    except OSError:
        pass
    info["python"] = platform.python_version()
    info["numpy"] = np.__version__
    try:
        from threadpoolctl import threadpool_info

        blas = [f"{p['internal_api']} {p['version']}" for p in threadpool_info()
                if p.get("user_api") == "blas"]
        info["numpy BLAS"] = ", ".join(blas) or "unknown"
    except ImportError:
        info["numpy BLAS"] = "unknown (threadpoolctl not installed)"
    try:
        import torch

        mkl = "MKL" if torch.backends.mkl.is_available() else "no MKL"
        onednn = "oneDNN" if torch.backends.mkldnn.is_available() else "no oneDNN"
        info["torch"] = f"{torch.__version__} ({mkl}, {onednn})"
    except ImportError:
        info["torch"] = "not installed"
    try:
        import jax  # noqa: F401

        info["jax"] = jax.__version__
    except ImportError:
        info["jax"] = "not installed (JAX jit column skipped)"
    return info
