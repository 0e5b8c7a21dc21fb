"""cr.save / cr.load: the safetensors format, interoperability with the reference
implementation, nested training state, corruption detection, atomic writes."""

import io
import json
import math
import os
import re
import struct
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

import chainrule as cr

DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint64,
          np.uint32, np.uint16, np.uint8, np.bool_]


def sample(dtype, shape=(3, 4), seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    if np.dtype(dtype).kind == "f":
        return (rng.standard_normal(shape) * 100).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)


def header_of(path):
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n]), raw, n


# ---- round trips ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_round_trip_every_dtype(tmp_path, dtype):
    arrays = {"a": sample(dtype), "scalar": sample(dtype, ()), "empty": sample(dtype, (0, 3))}
    cr.save({k: cr.tensor(v, dtype=v.dtype) for k, v in arrays.items()}, tmp_path / "f")
    out = cr.load(tmp_path / "f")
    for k, v in arrays.items():
        assert isinstance(out[k], cr.Tensor) and out[k].dtype == v.dtype
        assert out[k].shape == v.shape
        np.testing.assert_array_equal(out[k].detach().numpy(), v)


def test_non_contiguous_and_big_endian_inputs(tmp_path):
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    inputs = {"t": base.T, "step": base[::2], "neg": base[:, ::-3], "tensor_t": cr.tensor(base).T,
              "big": base.astype(">f8"), "fortran": np.asfortranarray(base)}
    cr.save(inputs, tmp_path / "f")
    out = cr.load(tmp_path / "f")
    theirs = safetensors.numpy.load_file(tmp_path / "f")
    for k, v in inputs.items():
        expected = np.asarray(v.detach().numpy() if isinstance(v, cr.Tensor) else v)
        np.testing.assert_array_equal(out[k].detach().numpy(), expected)
        np.testing.assert_array_equal(theirs[k], expected)
    assert out["big"].dtype == np.float64


def test_file_objects(tmp_path):
    buf = io.BytesIO()
    cr.save({"w": cr.arange(5)}, buf)
    buf.seek(0)
    assert cr.load(buf)["w"].tolist() == [0, 1, 2, 3, 4]


def test_bare_tensor_and_list(tmp_path):
    cr.save(cr.ones(2), tmp_path / "t")
    assert cr.load(tmp_path / "t").tolist() == [1.0, 1.0]
    cr.save([cr.zeros(1), 3, "x"], tmp_path / "l")
    out = cr.load(tmp_path / "l")
    assert isinstance(out, list) and out[0].tolist() == [0.0] and out[1:] == [3, "x"]


def test_nested_training_state_round_trips_exactly(tmp_path):
    gen = cr.Generator(123)
    gen.standard_normal(3)  # move the state off its seed
    state = {
        "model": {"fc1.weight": cr.randn(4, 3), "fc1.bias": cr.zeros(4)},
        "optimizer": {
            "state": {0: {"step": 10, "exp_avg": cr.ones(4, 3)}, 1: {"step": 10,
                                                                    "exp_avg": cr.ones(4)}},
            "param_groups": [{"lr": 0.1, "betas": [0.9, 0.999], "eps": 1e-8, "params": [0, 1],
                              "amsgrad": False, "foreach": None}],
        },
        "epoch": 7,
        "best": 0.1 + 0.2,  # not a short decimal: must survive bit for bit
        "tiny": 5e-324, "inf": math.inf, "name": "run-α",
        "rng": gen.bit_generator.state,  # 128-bit integers
        "shape": (3, 4),
        "nothing": None,
        "flags": [True, False],
        "np_scalar": np.float32(2.5),
    }
    cr.save(state, tmp_path / "ckpt.safetensors")
    out = cr.load(tmp_path / "ckpt.safetensors")
    assert list(out) == list(state)
    assert list(out["optimizer"]["state"]) == [0, 1]  # int keys stay ints
    assert out["optimizer"]["param_groups"] == state["optimizer"]["param_groups"]
    for k in ("epoch", "best", "tiny", "inf", "name", "rng", "shape", "nothing", "flags"):
        assert out[k] == state[k] and type(out[k]) is type(state[k]), k
    assert out["optimizer"]["state"][0]["step"] == 10
    w = state["model"]["fc1.weight"]
    np.testing.assert_array_equal(out["model"]["fc1.weight"].detach().numpy(), w.detach().numpy())
    assert out["np_scalar"].dtype == np.float32 and out["np_scalar"].item() == 2.5
    restored = cr.Generator()
    restored.set_state(out["rng"])
    assert restored.standard_normal() == gen.standard_normal()


def test_nested_keys_become_dotted_names(tmp_path):
    cr.save({"enc": {"layers": [{"w": cr.ones(1)}]}, "lr": 0.5}, tmp_path / "f")
    header, _, _ = header_of(tmp_path / "f")
    assert "enc.layers.0.w" in header
    assert json.loads(header["__metadata__"]["lr"]) == 0.5
    assert all(isinstance(v, str) for v in header["__metadata__"].values())


def test_metadata(tmp_path):
    cr.save({"w": cr.ones(1), "epoch": 3}, tmp_path / "f", metadata={"author": "x", "v": "2"})
    assert cr.io.load_metadata(tmp_path / "f") == {"author": "x", "v": "2"}
    header, _, _ = header_of(tmp_path / "f")
    assert header["__metadata__"]["author"] == "x"


@pytest.mark.parametrize("obj, metadata, err", [
    ({"w": cr.ones(1)}, {"a": 1}, TypeError),
    ({"w": cr.ones(1)}, {"chainrule.structure": "x"}, ValueError),
    ({"w": cr.ones(1)}, ["a"], TypeError),
    ({"epoch": 1}, {"epoch": "2"}, ValueError),
    ({"a.b": cr.ones(1), "a": {"b": cr.ones(1)}}, None, ValueError),
    ({"w": np.array(["text"])}, None, TypeError),
    ({"w": np.zeros(2, np.complex64)}, None, TypeError),
    ({"f": print}, None, TypeError),
    ({1.5: cr.ones(1)}, None, TypeError),
    ("just a string", None, TypeError),
    ({"__metadata__": cr.ones(1)}, None, ValueError),
])
def test_save_rejects_bad_input(tmp_path, obj, metadata, err):
    with pytest.raises(err):
        cr.save(obj, tmp_path / "f", metadata=metadata)
    assert os.listdir(tmp_path) == []  # nothing half-written


# ---- interoperability with the reference implementation ---------------------------------------
def test_chainrule_file_loads_in_pytorch(tmp_path):
    arrays = {np.dtype(d).name: sample(d, (2, 3), seed=i) for i, d in enumerate(DTYPES)}
    arrays["nc"] = sample(np.float32, (6, 5)).T[::2]
    cr.save(arrays, tmp_path / "f.safetensors", metadata={"format": "pt"})
    theirs = safetensors.torch.load_file(tmp_path / "f.safetensors")
    assert set(theirs) == set(arrays)
    for k, v in arrays.items():
        t = theirs[k]
        if v.dtype == np.uint64 or v.dtype == np.uint32 or v.dtype == np.uint16:
            t = t.to(torch.int64) if v.dtype != np.uint64 else t.view(torch.int64)
            v = v.astype(np.int64) if v.dtype != np.uint64 else v.view(np.int64)
        np.testing.assert_array_equal(t.numpy(), v)
        assert t.shape == v.shape


def test_pytorch_file_loads_in_chainrule(tmp_path):
    torch.manual_seed(0)
    sd = {"fc.weight": torch.randn(4, 3), "fc.bias": torch.randn(4).double(),
          "h": torch.randn(2, 2).half(), "ids": torch.arange(6, dtype=torch.int32).reshape(2, 3),
          "mask": torch.tensor([True, False]), "bytes": torch.arange(3, dtype=torch.uint8),
          "scalar": torch.tensor(1.5), "bf": torch.randn(3).bfloat16()}
    safetensors.torch.save_file(sd, tmp_path / "f.safetensors", metadata={"format": "pt"})
    out = cr.load(tmp_path / "f.safetensors")
    assert set(out) == set(sd)
    for k, v in sd.items():
        ref = v.float().numpy() if v.dtype == torch.bfloat16 else v.numpy()
        assert out[k].dtype == ref.dtype and out[k].shape == ref.shape
        np.testing.assert_array_equal(out[k].detach().numpy(), ref)
    assert cr.io.load_metadata(tmp_path / "f.safetensors") == {"format": "pt"}


# ---- corruption ------------------------------------------------------------------------------
@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.safetensors"
    cr.save({"a": cr.randn(10, 10), "b": cr.arange(7)}, path)
    return path


def write_raw(path, header: dict, data: bytes, n=None):
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h) if n is None else n) + h + data)
    return path


def test_truncated_file(good_file):
    raw = good_file.read_bytes()
    good_file.write_bytes(raw[:-9])
    with pytest.raises(ValueError, match="truncated"):
        cr.load(good_file)
    good_file.write_bytes(raw[:5])
    with pytest.raises(ValueError, match="too short"):
        cr.load(good_file)


def test_flipped_data_byte_fails_the_checksum(good_file):
    raw = bytearray(good_file.read_bytes())
    raw[-20] ^= 0x40
    good_file.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="checksum"):
        cr.load(good_file)
    assert cr.load(good_file, verify=False)["a"].shape == (10, 10)


def test_trailing_garbage(good_file):
    with open(good_file, "ab") as f:
        f.write(b"xx")
    with pytest.raises(ValueError, match="unexpected bytes"):
        cr.load(good_file)


@pytest.mark.parametrize("header, data, n, match", [
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8, 10 ** 9, "header"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8, 2 ** 63, "header"),
    ({"a": {"dtype": "Q7", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8, None, "dtype"),
    ({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8, None, "shape"),
    ({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, b"\0" * 8, None, "invalid"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
      "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12, None, "overlap"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12, None, "gap"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, None, "truncated"),
    ({"a": {"dtype": "F32", "shape": [2]}}, b"\0" * 8, None, "malformed"),
    ({"__metadata__": {"k": 1}}, b"", None, "__metadata__"),
    ([1, 2], b"", None, "JSON object"),
])
def test_corrupt_headers(tmp_path, header, data, n, match):
    path = write_raw(tmp_path / "bad", header, data, n)
    with pytest.raises(ValueError, match=match):
        cr.load(path)


def test_not_json(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(struct.pack("<Q", 4) + b"\xff{[x")
    with pytest.raises(ValueError, match="JSON"):
        cr.load(path)


def test_missing_file_or_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        cr.load(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="directory"):
        cr.save({"w": cr.ones(1)}, tmp_path / "no_dir" / "w.safetensors")


# ---- atomic, durable writes ---------------------------------------------------------------------
def test_overwrite_is_atomic_and_leaves_no_temp_files(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    cr.save({"w": cr.zeros(3)}, path)
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.fstat(fd).st_mode),
                                                 real_fsync(fd)))
    cr.save({"w": cr.ones(3)}, path)
    import stat
    assert [stat.S_ISREG(m) for m in synced] == [True, False]  # the file, then its directory
    assert os.listdir(tmp_path) == ["w.safetensors"]
    assert cr.load(path)["w"].tolist() == [1.0, 1.0, 1.0]


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    cr.save({"w": cr.zeros(3)}, path)

    def boom(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        cr.save({"w": cr.ones(3)}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["w.safetensors"]
    assert cr.load(path)["w"].tolist() == [0.0, 0.0, 0.0]


def test_tensors_start_aligned(tmp_path):
    cr.save({"b": np.ones(3, np.uint8), "d": np.ones(3), "h": np.ones(1, np.float16)},
            tmp_path / "f")
    header, _, n = header_of(tmp_path / "f")
    assert (8 + n) % 8 == 0
    for name, itemsize in (("b", 1), ("d", 8), ("h", 2)):
        assert header[name]["data_offsets"][0] % itemsize == 0


# ---- no pickle ----------------------------------------------------------------------------------
def test_nothing_in_the_package_imports_pickle():
    src = Path(cr.__file__).parent
    allowed = {src / "datasets" / "_numpy_unpickler.py"}
    pattern = re.compile(r"^\s*(import\s+(c?pickle|dill|joblib)\b|from\s+(c?pickle|dill|joblib)"
                         r"\s+import)", re.M)
    offenders = [str(p.relative_to(src)) for p in src.rglob("*.py")
                 if p not in allowed and pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
    assert pattern.search((src / "datasets" / "_numpy_unpickler.py").read_text())  # sanity
