"""Fit the rational function behind chainrule's float32 GELU (``ops/_special.py``).

The GELU needs the normal CDF Phi. For a >= 0, Phi(-a) = exp(-a^2/2) * M(a) where M(a) =
Phi(-a) exp(a^2/2) (Mills' ratio over sqrt(2 pi)) is smooth and slowly varying: 1/2 at 0, about
1/(a sqrt(2 pi)) for large a. This script fits M on [0, 14] (beyond 14, Phi(-a) is below
float32's smallest subnormal) with a rational P4(a) / Q5(a), Q's constant term 1, minimising the
largest relative error (weighted least squares on the linearised problem, with Lawson's
reweighting towards the minimax solution), and prints the coefficients and the error.

Needs mpmath (a PyTorch dependency; not one of chainrule's) for the reference values:

    python scripts/fit_normal_tail.py
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

mp.mp.dps = 40


def mills(a: float) -> float:
    """Phi(-a) * exp(a^2 / 2), to double precision."""
    x = mp.mpf(a)
    return float(mp.erfc(x / mp.sqrt(2)) / 2 * mp.exp(x * x / 2))


def fit(lo: float, hi: float, n: int, m: int, nodes: int = 800, rounds: int = 60):
    """Coefficients (lowest degree first) of P (degree n) and Q (degree m, Q(0) = 1)."""
    k = np.arange(nodes)
    a = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (k + 0.5) / nodes)
    f = np.array([mills(v) for v in a])
    weight, q_prev = np.ones(nodes), np.ones(nodes)
    for i in range(rounds):
        # P(a) - f (Q(a) - 1) = f, scaled to relative error by 1 / (f Q_prev(a))
        lhs = np.hstack([np.vander(a, n + 1, increasing=True),
                         -f[:, None] * np.vander(a, m + 1, increasing=True)[:, 1:]])
        scale = weight / (f * q_prev)
        coef = np.linalg.lstsq(lhs * scale[:, None], f * scale, rcond=None)[0]
        p, q = coef[:n + 1], np.concatenate([[1.0], coef[n + 1:]])
        q_prev = np.abs(np.polyval(q[::-1], a))
        err = np.polyval(p[::-1], a) / np.polyval(q[::-1], a) / f - 1
        if i > 5:
            weight *= np.abs(err) ** 0.5
            weight /= weight.max()
    return p, q, float(np.abs(err).max())


def main() -> None:
    p, q, err = fit(0.0, 14.0, 4, 5)
    print("P =", ", ".join(repr(float(c)) for c in p))
    print("Q =", ", ".join(repr(float(c)) for c in q))
    print(f"max relative error of P/Q on [0, 14]: {err:.2e}")


if __name__ == "__main__":
    main()
