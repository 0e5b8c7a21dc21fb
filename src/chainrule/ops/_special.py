"""Vectorized special functions NumPy lacks: ``erf``, and the exact GELU with its derivative.

``erf`` is a piecewise Taylor polynomial: around the nodes x0 = j/32 (0 <= x0 <= 6) the
coefficients are erf's derivatives divided by k!, which have a closed form,

    erf^(k)(x0) = 2/sqrt(pi) (-1)^(k-1) H_(k-1)(x0) exp(-x0^2)    (H: Hermite polynomials),

so the table is computed at import from ``math.erf`` and ``math.exp`` (no fitted constants).
With |x - x0| <= 1/64, degree 10 leaves a truncation error below 1e-20 relative, so the result
is within an ulp or two of ``math.erf`` in float64 (the tests check a dense grid, tails
included); above 6, erf is 1 in float64. Float32 and float16 inputs are computed in float64 and
rounded once.

The float32 GELU (``gelu_float32``) is the training path and has to be cheap: ~30 passes over
the array and one ``exp``, no table lookups (a gather costs as much as eight passes). It uses
Phi(-a) = phi(a) * R(a) for a = |x|, where R(a) = Phi(-a) / phi(a) (Mills' ratio) is smooth and
slowly varying and is approximated by a rational function P4/Q5 on [0, 14], fitted by
``scripts/fit_normal_tail.py`` to 5.5e-9 relative error (evaluated in float32: a few ulp).
Phi(x) is then Phi(-a) for x < 0 (no cancellation: the lower tail keeps its relative accuracy,
where PyTorch's 0.5 * (1 + erf(x / sqrt 2)) cancels to 0) and 1 - Phi(-a) for x >= 0. The same
pass computes the derivative Phi(x) + x phi(x), which the backward then only multiplies by the
upstream gradient. Float64 uses PyTorch's formula with the accurate ``erf`` above.
"""

from __future__ import annotations

import math

import numpy as np

_ERF_STEP = 32  # table nodes per unit
_ERF_TOP = 6.0  # erf(x) rounds to 1 in float64 for x >= 5.93
_ERF_DEGREE = 10


def _erf_table() -> np.ndarray:
    """(degree + 1, nodes): entry (k, j) is erf^(k)(j/32) / k!."""
    rows = []
    two_over_sqrt_pi = 2.0 / math.sqrt(math.pi)
    for j in range(int(_ERF_TOP * _ERF_STEP) + 1):
        x0 = j / _ERF_STEP
        e = two_over_sqrt_pi * math.exp(-x0 * x0)  # x0 * x0 is exact for j / 32
        h_prev, h = 0.0, 1.0  # H_(-1) (unused), H_0
        row = [math.erf(x0)]
        fact = 1.0
        for k in range(1, _ERF_DEGREE + 1):
            fact *= k
            # erf^(k) = 2/sqrt(pi) (-1)^(k-1) H_(k-1) exp(-x0^2)
            row.append((-1.0) ** (k - 1) * h * e / fact)
            h_prev, h = h, 2.0 * x0 * h - 2.0 * (k - 1) * h_prev
        rows.append(row)
    table = np.ascontiguousarray(np.array(rows, dtype=np.float64).T)  # one row per degree
    table.flags.writeable = False
    return table


_ERF_TABLE = _erf_table()


def erf(x: np.ndarray) -> np.ndarray:
    """The error function elementwise, to within an ulp or two of ``math.erf`` (float64);
    NaN stays NaN, erf(+-inf) = +-1, erf(-0.0) = -0.0. Returns float64 for integer input."""
    x = np.asarray(x)
    out_dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    x64 = x.astype(np.float64, copy=False).reshape(-1)
    a = np.abs(x64)
    capped = np.minimum(a, _ERF_TOP)  # NaN stays NaN here: it carries into h
    j = np.fmin(a, _ERF_TOP)  # ... but not into the index (NaN becomes the last node)
    j *= _ERF_STEP
    j = np.rint(j, out=j).astype(np.intp)
    h = np.multiply(j, 1.0 / _ERF_STEP)
    np.subtract(capped, h, out=h)  # |h| <= 1/64 (0 above 6, where erf is 1)
    t = _ERF_TABLE
    r = t[_ERF_DEGREE].take(j)
    r *= h
    for k in range(_ERF_DEGREE - 1, 0, -1):
        r += t[k].take(j)
        r *= h
    r += t[0].take(j)
    np.copysign(r, x64, out=r)
    return r.reshape(x.shape).astype(out_dtype, copy=False)


# ---- the float32 GELU ------------------------------------------------------------------------

# Phi(-a) / phi(a) ~ P(a) / Q(a) on [0, 14], lowest degree first (scripts/fit_normal_tail.py),
# with P scaled by sqrt(2 pi) so that phi(a) * P/Q is Phi(-a).
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_P = tuple(c * _SQRT_2PI for c in (0.5000000027593879, 0.4372521057307505, 0.18246274401242735,
                                   0.04037286969729377, 0.004077658963170194))
_Q = (1.0, 1.6723891669025421, 1.199294464231591, 0.46743151846855546, 0.10120658636621058,
      0.010221046505436024)
# P/Q is unchanged when both are divided by Q's leading coefficient, and a monic Q saves a pass.
_P = tuple(c / _Q[-1] for c in _P)
_Q_MONIC = tuple(c / _Q[-1] for c in _Q[:-1])
_TAIL_TOP = 14.0  # Phi(-14) is below float32's smallest subnormal
_LOG_SQRT_2PI = math.log(_SQRT_2PI)


def _horner(coefs, a, out):
    """sum coefs[k] a^k into ``out``, highest degree first."""
    dt = a.dtype.type
    np.multiply(a, dt(coefs[-1]), out=out)
    for c in coefs[-2:0:-1]:
        out += dt(c)
        out *= a
    out += dt(coefs[0])
    return out


def _horner_monic(coefs, a, out):
    """a^n + sum coefs[k] a^k (k < n) into ``out`` (not ``a`` itself)."""
    dt = a.dtype.type
    np.add(a, dt(coefs[-1]), out=out)
    for c in coefs[-2::-1]:
        out *= a
        out += dt(c)
    return out


_BLOCK = 16384  # elements of a cached constant operand (64 KiB in float32: stays in cache)
_BLOCKS: dict = {}


def _with_const(ufunc, x: np.ndarray, value: float, out: np.ndarray, const_first: bool = False):
    """``ufunc(x, value)`` (or ``ufunc(value, x)``) into ``out``, for flat arrays.

    NumPy's loops with a scalar operand run 2-4x slower than its array-array loops (``minimum``,
    ``maximum``, ``copysign``), so the constant is a cached block viewed over ``x`` in rows.
    """
    key = (x.dtype, value)
    block = _BLOCKS.get(key)
    if block is None:
        block = _BLOCKS[key] = np.full(_BLOCK, value, x.dtype)
        block.flags.writeable = False
    n = x.size
    rows, tail = divmod(n, _BLOCK)
    body = rows * _BLOCK
    if rows:
        xs, os = x[:body].reshape(rows, _BLOCK), out[:body].reshape(rows, _BLOCK)
        ufunc(block, xs, out=os) if const_first else ufunc(xs, block, out=os)
    if tail:
        b = block[:tail]
        ufunc(b, x[body:], out=out[body:]) if const_first else ufunc(x[body:], b, out=out[body:])
    return out


GELU_CHUNK = 131072  # elements per block: bounds the temporaries (no faster when smaller)


def gelu_float32(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x * Phi(x) and its derivative Phi(x) + x phi(x), for a float32 array (see the module).

    The ~30 passes run block by block over the flattened array, so that their temporaries
    stay in cache: over the whole array each pass would stream megabytes through memory.
    """
    shape = x.shape
    x = np.ascontiguousarray(x).reshape(-1)
    y, d = np.empty_like(x), np.empty_like(x)
    n = x.size
    if n == 0:
        return x.reshape(shape).copy(), x.reshape(shape).copy()
    step = min(n, GELU_CHUNK)
    tmp = [np.empty(step, x.dtype) for _ in range(4)]
    with np.errstate(invalid="ignore"):  # inf * 0 at infinite inputs: NaN, as PyTorch
        for i in range(0, n, step):
            j = min(i + step, n)
            _gelu_block(x[i:j], y[i:j], d[i:j], [t[:j - i] for t in tmp])
    return y.reshape(shape), d.reshape(shape)


def _gelu_block(x, y, d, tmp):
    """One block of ``gelu_float32``; ``tmp``: four scratch arrays of the block's size.

    No masks: NumPy's ``where`` and masked ufuncs run 50-100x slower than a plain pass on
    random signs. With q = Phi(-|x|) (so Phi(x) is 1 - q or q), x Phi(x) is max(x, 0) - |x| q on
    both sides, and the derivative Phi(x) + x phi(x) is 1/2 + x phi(x) + sign(x) (1/2 - q).
    Signs are copied bitwise (``copysign`` is a slow scalar loop), constants come as cached
    blocks where NumPy's scalar loop is slow (``minimum``, ``maximum``).
    """
    dt = x.dtype.type
    a, capped, q, den = tmp
    np.abs(x, out=a)
    _with_const(np.minimum, a, _TAIL_TOP, capped)  # NaN stays NaN
    pdf = np.multiply(x, x, out=d)
    pdf *= dt(-0.5)
    pdf -= dt(_LOG_SQRT_2PI)
    np.exp(pdf, out=pdf)  # phi(x) = exp(-x^2/2) / sqrt(2 pi)
    _horner(_P, capped, q)
    np.divide(q, _horner_monic(_Q_MONIC, capped, den), out=q)
    q *= pdf  # Phi(-|x|)
    _with_const(np.maximum, x, 0.0, y)
    # |x| q with |x| capped: the same where q is not 0, and +inf gives inf, not inf * 0
    np.multiply(capped, q, out=a)
    y -= a
    if np.fmin.reduce(x) == -np.inf:  # PyTorch's x * Phi(x) is NaN there: match it
        y[x == -np.inf] = np.nan
    pdf *= x
    np.subtract(dt(0.5), q, out=q)  # >= 0 (NaN for NaN x)
    bits = q.view(np.int32)
    bits |= np.bitwise_and(x.view(np.int32), np.int32(-2 ** 31), out=den.view(np.int32))
    pdf += q
    pdf += dt(0.5)


def gelu_exact(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x * Phi(x) and Phi(x) + x phi(x) for any float array (float32 takes the fast path)."""
    shape = x.shape
    if x.dtype == np.float32:
        y, d = gelu_float32(x)
    elif x.dtype != np.float64:  # float16: compute in float32, round once
        y, d = gelu_float32(x.astype(np.float32))
        y, d = y.astype(x.dtype), d.astype(x.dtype)
    else:
        with np.errstate(invalid="ignore"):  # inf * 0 at infinite inputs: NaN, as PyTorch
            y, d = _gelu_float64(x.reshape(-1))  # 1-D: NumPy turns 0-d results into scalars
    return y.reshape(shape), d.reshape(shape)


def _gelu_float64(x):
    """PyTorch's formula with the accurate ``erf``: x (1 + erf(x / sqrt 2)) / 2."""
    cdf = erf(x * (1.0 / math.sqrt(2.0)))
    cdf += 1.0
    cdf *= 0.5
    d = np.multiply(x, x)
    d *= -0.5
    np.exp(d, out=d)
    d *= 1.0 / _SQRT_2PI  # phi(x)
    y = x * cdf
    d *= x
    d += cdf
    return y, d
