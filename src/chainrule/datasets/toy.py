"""Small seeded toy problems for first experiments. Each returns ``(X, y)`` tensors; wrap them
in ``cr.data.TensorDataset(X, y)`` to batch them. Features use the default float dtype."""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..tensor import Tensor, _wrap


def _check_n(n, name: str, minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"{name}: n must be an integer >= {minimum}, got {n!r}")
    return int(n)


def _check_noise(noise, name: str) -> float:
    if not noise >= 0:
        raise ValueError(f"{name}: noise must be >= 0, got {noise!r}")
    return float(noise)


def _float(x: np.ndarray) -> Tensor:
    return _wrap(x.astype(dtypes.get_default_dtype()))


def xor(n: int | None = None, noise: float = 0.0, seed: int = 0) -> tuple[Tensor, Tensor]:
    """The XOR problem: ``X`` (N, 2) in {0, 1}^2, ``y`` (N, 1) float, 1 where exactly one
    coordinate is 1.

    With ``n=None`` the four corners, in order; otherwise ``n`` random corners plus Gaussian
    ``noise`` (labels stay those of the corner).

    Example:
        >>> import chainrule as cr
        >>> X, y = cr.datasets.xor()
        >>> X.tolist(), y.flatten().tolist()
        ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0.0, 1.0, 1.0, 0.0])
    """
    noise = _check_noise(noise, "xor")
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    if n is None:
        X = corners
    else:
        rng = np.random.default_rng(seed)
        X = corners[rng.integers(0, 4, _check_n(n, "xor"))]
    y = (X[:, :1] != X[:, 1:]).astype(np.float64)
    if noise:
        X = X + noise * np.random.default_rng([seed, 1]).standard_normal(X.shape)
    return _float(X), _float(y)


def two_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Two interleaving half circles (as scikit-learn's ``make_moons``): ``X`` (n, 2),
    ``y`` (n,) int64 in {0, 1}, shuffled, with Gaussian ``noise``.

    Example:
        >>> import chainrule as cr
        >>> X, y = cr.datasets.two_moons(10, noise=0.0, seed=0)
        >>> X.shape, sorted(y.tolist())
        ((10, 2), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    """
    n = _check_n(n, "two_moons", 2)
    noise = _check_noise(noise, "two_moons")
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], 1)])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    perm = rng.permutation(n)
    X, y = X[perm], y[perm]
    X = X + noise * rng.standard_normal(X.shape)
    return _float(X), _wrap(y)


def spirals(n: int = 300, classes: int = 3, noise: float = 0.2,
            seed: int = 0) -> tuple[Tensor, Tensor]:
    """``classes`` interleaved spiral arms: ``X`` (n, 2) in about [-1, 1]^2, ``y`` (n,) int64.

    Arm ``k`` turns through angles ``4k .. 4(k+1)`` radians while its radius grows from 0 to 1;
    ``noise`` perturbs the angle. Samples are ordered by class.

    Example:
        >>> import chainrule as cr
        >>> X, y = cr.datasets.spirals(7, classes=2, seed=0)
        >>> X.shape, y.tolist()
        ((7, 2), [0, 0, 0, 0, 1, 1, 1])
    """
    n = _check_n(n, "spirals")
    classes = _check_n(classes, "spirals: classes")
    noise = _check_noise(noise, "spirals")
    rng = np.random.default_rng(seed)
    counts = [n // classes + (k < n % classes) for k in range(classes)]
    xs, ys = [], []
    for k, m in enumerate(counts):
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(4.0 * k, 4.0 * (k + 1), m) + noise * rng.standard_normal(m)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
        ys.append(np.full(m, k, np.int64))
    return _float(np.concatenate(xs)), _wrap(np.concatenate(ys))


def sine_regression(n: int = 256, noise: float = 0.1, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Noisy samples of ``sin``: ``X`` (n, 1) uniform in [-pi, pi], ``y = sin(X) + noise * eps``
    (n, 1).

    Example:
        >>> import chainrule as cr
        >>> X, y = cr.datasets.sine_regression(50, noise=0.0)
        >>> X.shape, bool(((y - X.sin()).abs() < 1e-6).all())
        ((50, 1), True)
    """
    n = _check_n(n, "sine_regression")
    noise = _check_noise(noise, "sine_regression")
    rng = np.random.default_rng(seed)
    X = rng.uniform(-np.pi, np.pi, (n, 1))
    y = np.sin(X) + noise * rng.standard_normal((n, 1))
    return _float(X), _float(y)
