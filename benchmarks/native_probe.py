"""What compiled kernels would buy: chainrule with two hot kernels compiled, against PyTorch.

    python benchmarks/native_probe.py                  # gpt and lstm, 1 thread
    python benchmarks/native_probe.py --threads 2 --repeats 15

A sizing experiment, not a feature: it needs a C compiler (``cc``) and is not part of
``make bench``. It compiles two float32 kernels with ``-O3 -march=native -ffast-math`` (glibc's
vector ``expf``/``erfcf``), loads them with ctypes, and swaps them in for the NumPy versions
of the exact GELU (``ops._special.gelu_float32``) and of the plain cross entropy's forward
(``cross_entropy._plain_ce``), the two exp-bound kernels the profiles put on top
(``profile_step.py``). Each case is timed three ways in one process, interleaved: chainrule,
chainrule with the compiled kernels, PyTorch eager. Both kernels run on one thread; the
elementwise work is not split over threads here either.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

SOURCE = r"""
#include <math.h>
#include <stddef.h>

/* y = x Phi(x), d = Phi(x) + x phi(x) */
void gelu_f32(const float *restrict x, float *restrict y, float *restrict d, ptrdiff_t n) {
    #pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) {
        float v = x[i];
        float cdf = 0.5f * erfcf(-v * 0.70710678118654752f);
        y[i] = v * cdf;
        d[i] = cdf + v * 0.3989422804014327f * expf(-0.5f * v * v);
    }
}

/* per row of x (m, c): mx = max, e = exp(x - mx), s = sum of e */
void exp_rows_f32(const float *restrict x, float *restrict e, float *restrict mx,
                  float *restrict s, ptrdiff_t m, ptrdiff_t c) {
    for (ptrdiff_t i = 0; i < m; i++) {
        const float *xi = x + i * c;
        float *ei = e + i * c;
        float top = xi[0], sum = 0.0f;
        #pragma omp simd reduction(max:top)
        for (ptrdiff_t j = 0; j < c; j++) top = xi[j] > top ? xi[j] : top;
        #pragma omp simd reduction(+:sum)
        for (ptrdiff_t j = 0; j < c; j++) { ei[j] = expf(xi[j] - top); sum += ei[j]; }
        mx[i] = top;
        s[i] = sum;
    }
}
"""


def compile_kernels(workdir: Path) -> ctypes.CDLL:
    src, lib = workdir / "kernels.c", workdir / "kernels.so"
    src.write_text(SOURCE)
    subprocess.run(["cc", "-O3", "-march=native", "-ffast-math", "-fopenmp-simd", "-shared",
                    "-fPIC", str(src), "-o", str(lib), "-lm"], check=True)
    return ctypes.CDLL(str(lib))


def native_versions(lib):
    """Drop-in replacements for the two NumPy kernels (same arguments, same results)."""
    import numpy as np

    ce = _ce_module()

    p, n_t = ctypes.c_void_p, ctypes.c_ssize_t

    def gelu_float32(x):
        shape = x.shape
        x = np.ascontiguousarray(x).reshape(-1)
        y, d = np.empty_like(x), np.empty_like(x)
        lib.gelu_f32(p(x.ctypes.data), p(y.ctypes.data), p(d.ctypes.data), n_t(x.size))
        return y.reshape(shape), d.reshape(shape)

    def plain_ce(x, y, red):
        m, c = x.shape
        x = np.ascontiguousarray(x)
        e = np.empty_like(x)
        mx, s = np.empty((m, 1), x.dtype), np.empty((m, 1), x.dtype)
        lib.exp_rows_f32(p(x.ctypes.data), p(e.ctypes.data), p(mx.ctypes.data),
                         p(s.ctypes.data), n_t(m), n_t(c))
        flat = ce._flat_index(y, m, c)
        picked = x.take(flat) - mx[:, 0]
        total = np.add.reduce(np.log(s), None) - np.add.reduce(picked, None)
        out = total / m if red == "mean" else total
        return np.asarray(out, dtype=x.dtype), (e, None, m, (flat, s))

    return gelu_float32, plain_ce


def _ce_module():
    # ``chainrule.nn.functional.cross_entropy`` is the function; the module is in sys.modules
    import importlib

    return importlib.import_module("chainrule.nn.functional.cross_entropy")


class Swapped:
    """A runner whose steps run with the compiled kernels swapped in."""

    def __init__(self, runner, gelu, ce_forward) -> None:
        self.runner, self.gelu, self.ce = runner, gelu, ce_forward

    def step(self) -> None:
        ce = _ce_module()
        from chainrule.ops import _special

        old = _special.gelu_float32, ce._plain_ce
        _special.gelu_float32, ce._plain_ce = self.gelu, self.ce
        try:
            self.runner.step()
        finally:
            _special.gelu_float32, ce._plain_ce = old


def check(gelu, ce_forward) -> str:
    """The compiled kernels against the NumPy ones on random data."""
    import numpy as np

    ce = _ce_module()
    from chainrule.ops import _special

    rng = np.random.default_rng(0)
    x = (rng.standard_normal(100_000) * 4).astype(np.float32)
    (y0, d0), (y1, d1) = _special.gelu_float32(x), gelu(x)
    gelu_err = max(float(np.max(np.abs(y1 - y0))), float(np.max(np.abs(d1 - d0))))
    logits = (rng.standard_normal((70, 1000)) * 3).astype(np.float32)
    labels = rng.integers(0, 1000, 70)
    l0, l1 = ce._plain_ce(logits, labels, "mean")[0], ce_forward(logits, labels, "mean")[0]
    return (f"largest difference from the NumPy kernels: GELU and its derivative "
            f"{gelu_err:.1e}, cross entropy {abs(float(l1) - float(l0)) / float(l0):.1e} "
            "relative")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--cases", nargs="+", default=["gpt", "lstm"], choices=["gpt", "lstm"])
    args = ap.parse_args()
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    sys.path[:0] = [str(HERE), str(HERE.parent / "src")]
    import statistics

    import models
    import torch
    from timing import interleaved, limit_threads

    import chainrule as cr

    limit_threads(args.threads)
    cr.tune_allocator()
    with tempfile.TemporaryDirectory() as tmp:
        gelu, ce_forward = native_versions(compile_kernels(Path(tmp)))
        print(check(gelu, ce_forward))
        print(f"\n{args.threads} thread(s), medians of {args.repeats} interleaved samples\n")
        print("| case | chainrule ms | with compiled kernels ms | PyTorch ms | chainrule / "
              "PyTorch | with compiled kernels / PyTorch |")
        print("|---|---|---|---|---|---|")
        for case in args.cases:
            build = {"gpt": models.gpt_runner, "lstm": models.lstm_runner}[case]
            ours = build(cr)
            runners = {"chainrule": ours, "compiled": Swapped(build(cr), gelu, ce_forward),
                       "pytorch": build(torch)}
            times = interleaved(runners, args.repeats, 0.3, 1.0)
            ms = {k: statistics.median(v) * 1e3 for k, v in times.items()}
            print(f"| {case} | {ms['chainrule']:.1f} | {ms['compiled']:.1f} | "
                  f"{ms['pytorch']:.1f} | {ms['chainrule'] / ms['pytorch']:.2f} | "
                  f"{ms['compiled'] / ms['pytorch']:.2f} |")


if __name__ == "__main__":
    main()
