"""Reading safetensors files strictly, the checksum over a file's whole content, the one
exception every refusal raises, and opening only regular files, never waiting on one."""

import io
import json
import os
import signal
import socket
import threading
import time
import zipfile

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given
from hypothesis import strategies as st
from st_files import join, reseal, split

import chainrule as cr
from chainrule.devices import DeviceUnavailableError
from chainrule.nn.modules.module import StateDictError
from chainrule.serialization import (
    CheckpointDeviceError,
    CheckpointError,
    UnpicklingError,
    UnsafeGlobalError,
)
from chainrule.serialization.json_limits import depth

W = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


def write(tmp_path, header, data=b"\0" * 8, n=None, name="f.safetensors"):
    path = tmp_path / name
    path.write_bytes(join(header, data, n))
    return path


def refused(path, match, reader=cr.load):
    with pytest.raises(CheckpointError, match=match) as info:
        reader(path)
    assert str(path) in str(info.value)  # the message names the file
    return info.value


def reference_refuses(raw: bytes) -> bool:
    try:
        safetensors.numpy.load(raw)
    except Exception:
        return True
    return False


# ---- one exception type ------------------------------------------------------------------------
def test_the_exception_hierarchy():
    assert cr.CheckpointError is CheckpointError
    assert issubclass(CheckpointError, ValueError)
    assert issubclass(UnpicklingError, CheckpointError)
    assert issubclass(UnsafeGlobalError, CheckpointError)
    assert issubclass(CheckpointDeviceError, CheckpointError)
    assert issubclass(CheckpointDeviceError, DeviceUnavailableError)
    assert issubclass(CheckpointDeviceError, RuntimeError)


def _with_location(path, location: bytes):
    """A copy of the torch.save file ``path`` whose storages say they were saved on
    ``location`` (a 3-letter device name), the archive rebuilt so its CRCs hold."""
    out = path.with_name(location.decode() + ".pt")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            raw = src.read(info)
            if info.filename.endswith("data.pkl"):
                raw = raw.replace(b"X\x03\x00\x00\x00cpu", b"X\x03\x00\x00\x00" + location)
            dst.writestr(info, raw)
    return out


def test_a_storage_saved_on_a_gpu(tmp_path):
    import torch

    path = tmp_path / "w.pt"
    torch.save({"w": torch.zeros(2)}, path)
    mps = _with_location(path, b"mps")
    with pytest.raises(CheckpointDeviceError, match="'mps'.*CPU only") as info:
        cr.load(mps)
    assert isinstance(info.value, RuntimeError) and str(mps) in str(info.value)
    np.testing.assert_array_equal(cr.load(mps, map_location="cpu")["w"].numpy(), [0, 0])
    refused(_with_location(path, b"abc"), "invalid storage location 'abc'")


# ---- the safetensors format, strictly ----------------------------------------------------------
SPEC = [
    # (name, header (dict or text), data, length prefix, message, the reference refuses it too)
    ("too short", None, b"\0" * 5, None, "too short", True),
    ("length over the limit", {"w": W}, b"\0" * 8, 100_000_001, "over the format's limit", True),
    ("length past the end", {"w": W}, b"\0" * 8, 10_000, "does not fit the file", True),
    ("not UTF-8", b"{\xff}", b"", None, "not UTF-8", True),
    ("not an object", "[1, 2]", b"", None, "start with '{'", True),
    ("leading space", ' {"w": ' + json.dumps(W) + "}", b"\0" * 8, None, "start with '{'", False),
    ("trailing junk", '{"w": ' + json.dumps(W) + "}x", b"\0" * 8, None, "not valid JSON", True),
    ("NaN", '{"w": {"dtype": "F32", "shape": [NaN], "data_offsets": [0, 8]}}', b"\0" * 8, None,
     "NaN is not JSON", True),
    ("duplicate tensor", '{"w": ' + json.dumps(W) + ', "w": ' + json.dumps(W) + "}",
     b"\0" * 8, None, "the key 'w' appears twice", False),
    ("duplicate field", '{"w": {"dtype": "F32", "dtype": "F32", "shape": [2], '
     '"data_offsets": [0, 8]}}', b"\0" * 8, None, "the key 'dtype' appears twice", True),
    ("duplicate metadata key", '{"__metadata__": {"k": "1", "k": "2"}}', b"", None,
     "the key 'k' appears twice", False),
    ("nested too deep", '{"w": {"dtype": "F32", "shape": [[2]], "data_offsets": [0, 8]}}',
     b"\0" * 8, None, "nests more than 3 levels", True),
    ("metadata null", {"__metadata__": None}, b"", None, "must be an object", False),
    ("metadata list", {"__metadata__": []}, b"", None, "must be an object", True),
    ("metadata value", {"__metadata__": {"k": 1}}, b"", None, "allows only strings", True),
    ("surrogate", '{"__metadata__": {"k": "\\ud800"}}', b"", None, "unpaired surrogate", True),
    ("entry list", {"w": ["F32", [2], [0, 8]]}, b"\0" * 8, None, "must be an object", False),
    ("unknown field", {"w": {**W, "x": 1}}, b"\0" * 8, None, r"unknown \['x'\]", False),
    ("missing field", {"w": {"dtype": "F32", "shape": [2]}}, b"\0" * 8, None,
     r"missing \['data_offsets'\]", True),
    ("unknown dtype", {"w": {**W, "dtype": "F33"}}, b"\0" * 8, None, "unknown dtype 'F33'",
     True),
    ("unhashable dtype", {"w": {**W, "dtype": ["F32"]}}, b"\0" * 8, None, "unknown dtype",
     True),
    ("float8", {"w": {**W, "dtype": "F8_E4M3", "shape": [8]}}, b"\0" * 8, None,
     "F8_E4M3, which NumPy", True),
    ("negative dim", {"w": {**W, "shape": [-2]}}, b"\0" * 8, None, "invalid shape", True),
    ("bool dim", {"w": {**W, "shape": [True, 2]}}, b"\0" * 8, None, "invalid shape", True),
    ("float dim", {"w": {**W, "shape": [2.0]}}, b"\0" * 8, None, "invalid shape", True),
    ("rank 65", {"w": {**W, "shape": [1] * 63 + [2, 1]}}, b"\0" * 8, None, "at most 64", True),
    ("product overflow", {"w": {**W, "shape": [2**62, 2**62]}}, b"\0" * 8, None,
     "2\\*\\*63 - 1 bytes", True),
    ("zeros do not hide a huge dim", {"w": {**W, "shape": [0, 2**63], "data_offsets": [0, 0]}},
     b"", None, "2\\*\\*63 - 1 bytes", True),
    ("size mismatch", {"w": {**W, "shape": [3]}}, b"\0" * 8, None, "do not hold shape", True),
    ("three offsets", {"w": {**W, "data_offsets": [0, 8, 8]}}, b"\0" * 8, None,
     "invalid data_offsets", True),
    ("reversed offsets", {"w": {**W, "shape": [0], "data_offsets": [8, 0]}}, b"\0" * 8, None,
     "do not hold shape", True),
    ("gap", {"w": {**W, "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8, None,
     "leaves a gap", True),
    ("overlap", {"w": W, "v": W}, b"\0" * 8, None, "overlaps", True),
    ("truncated data", {"w": W}, b"\0" * 4, None, "truncated", True),
    ("bytes after the data", {"w": W}, b"\0" * 9, None, "1 unexpected bytes", True),
]


@pytest.mark.parametrize("name, header, data, n, match, ref", SPEC, ids=[c[0] for c in SPEC])
def test_what_the_format_forbids_is_refused(tmp_path, name, header, data, n, match, ref):
    path = tmp_path / "f.safetensors"
    path.write_bytes(data if header is None else join(header, data, n))
    refused(path, match)
    refused(path, match, cr.io.load_metadata)
    # Stricter than the reference reader where it is lenient; never more lenient.
    assert reference_refuses(path.read_bytes()) == ref


@pytest.mark.parametrize("header, data, want", [
    ({}, b"", {}),
    ({"__metadata__": {}, "a": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]},
      "b": {"dtype": "I16", "shape": [0, 2**40], "data_offsets": [0, 0]}}, b"",
     {"a": np.zeros(0, np.uint8), "b": np.zeros((0, 2**40), np.int16)}),
    ({"w": {"dtype": "F32", "shape": [1] * 62 + [2, 1], "data_offsets": [0, 8]}},
     np.array([1.5, 2.5], "<f4").tobytes(), {"w": np.array([1.5, 2.5], np.float32).reshape(
         [1] * 62 + [2, 1])}),
    ({"c": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}},
     np.array([1 + 2j], "<c8").tobytes(), {"c": np.array([1 + 2j], np.complex64)}),
    ({"b": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
      "w": {"dtype": "F32", "shape": [1], "data_offsets": [1, 5]}},
     b"\x07" + np.array([3.0], "<f4").tobytes(),  # unaligned: copied
     {"b": np.array([7], np.uint8), "w": np.array([3.0], np.float32)}),
])
def test_edge_files_the_format_allows_load(tmp_path, header, data, want):
    path = write(tmp_path, header, data)
    got = cr.load(path)
    assert list(got) == list(want)
    for k, v in want.items():
        assert got[k].dtype == v.dtype and got[k].shape == v.shape
        np.testing.assert_array_equal(got[k].numpy(), v)


def test_bfloat16_is_widened_exactly(tmp_path):
    bits = np.array([0x3F80, 0xC040, 0x7F80], "<u2")  # 1.0, -3.0, inf
    path = write(tmp_path, {"h": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}},
                 bits.tobytes())
    np.testing.assert_array_equal(cr.load(path)["h"].numpy(), [1.0, -3.0, np.inf])


def test_bombs_are_refused_before_parsing_and_fast(tmp_path):
    deep = '{"a":' * 1_000_000 + "1" + "}" * 1_000_000
    path = write(tmp_path, deep, b"")
    start = time.perf_counter()
    refused(path, "nests more than 3 levels")
    assert time.perf_counter() - start < 5
    path = write(tmp_path, '{"__metadata__": {"k": "' + "[\\\"" * 1_000_000 + '"}}', b"")
    assert cr.io.load_metadata(path) == {"k": '["' * 1_000_000}  # brackets, but in a string


# ---- the nesting scan ---------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.text(alphabet='[]{}"\\ab', max_size=3), inner, max_size=3),
    max_leaves=20)


def _true_depth(v) -> int:
    if isinstance(v, list):
        return 1 + max(map(_true_depth, v), default=0)
    if isinstance(v, dict):
        return 1 + max(map(_true_depth, v.values()), default=0)
    return 0


@given(json_values)
def test_the_nesting_scan_agrees_with_the_parser(value):
    raw = json.dumps(value).encode()
    want = _true_depth(value)
    for limit in range(want + 2):
        got = depth(raw, limit)
        assert (got > limit) == (want > limit), (raw, limit, got, want)


# ---- the checksum covers the whole content -----------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "c.safetensors"
    cr.save({"a": {"bias": cr.tensor([1.0, 2.0])}, "b": {"bias": cr.tensor([3.0, 4.0])},
             "step": 3}, path, metadata={"note": "hello"})
    return path


def _edit(path, change):
    header, data = split(path.read_bytes())
    new = change(header, data)
    path.write_bytes(join(header, new if isinstance(new, bytes) else data))
    return path


@pytest.mark.parametrize("change", [
    # the two biases trade bytes: each entry still consistent, the content is not
    lambda h, d: h["a.bias"].__setitem__("data_offsets", h["b.bias"]["data_offsets"])
    or h["b.bias"].__setitem__("data_offsets", [0, 8]),
    lambda h, d: h["a.bias"].__setitem__("dtype", "I32"),  # the bytes read as integers
    lambda h, d: h["a.bias"].__setitem__("shape", [1, 2]),
    lambda h, d: h.__setitem__("a.bias2", h.pop("a.bias")),
    lambda h, d: h["__metadata__"].__setitem__("note", "hellO"),
    lambda h, d: h["__metadata__"].__setitem__("step", "4"),
    lambda h, d: h["__metadata__"].__setitem__("added", "x"),
    lambda h, d: bytes([d[0] ^ 1]) + d[1:],
], ids=["swapped offsets", "dtype", "shape", "name", "metadata", "value", "new entry", "data"])
def test_any_change_is_detected(saved, change):
    assert json.loads(split(saved.read_bytes())[0]["__metadata__"]["step"]) == 3
    _edit(saved, change)
    refused(saved, "checksum mismatch")


def test_every_single_bit_flip_of_a_small_file_is_detected(saved):
    raw = saved.read_bytes()
    accepted = []
    for pos in range(len(raw)):
        for bit in range(8):
            b = bytearray(raw)
            b[pos] ^= 1 << bit
            try:
                cr.load(io.BytesIO(bytes(b)))
                accepted.append((pos, bit))
            except CheckpointError:
                pass
    assert accepted == [], f"{len(accepted)} of {8 * len(raw)} flips accepted"


def test_the_same_content_rewritten_by_another_writer_still_passes(saved, tmp_path):
    # The reference library reorders tensors and reformats the header: same content, same sum.
    arrays = safetensors.numpy.load_file(str(saved))
    with safetensors.safe_open(str(saved), "np") as f:
        meta = f.metadata()
    out = tmp_path / "rewritten.safetensors"
    safetensors.numpy.save_file(arrays, str(out), metadata=meta)
    assert out.read_bytes() != saved.read_bytes()
    got = cr.load(out)
    assert got["step"] == 3 and got["b"]["bias"].tolist() == [3.0, 4.0]


def test_a_forged_checksum_is_a_forgery_not_a_corruption(saved):
    # The checksum detects corruption; a forger who recomputes it writes a valid file.
    header, data = split(saved.read_bytes())
    header["__metadata__"]["note"] = "forged"
    saved.write_bytes(join(reseal(header, data), data))
    assert cr.io.load_metadata(saved) == {"note": "forged"}
    cr.load(saved)


def test_a_chainrule_file_without_its_checksum_is_refused(saved):
    _edit(saved, lambda h, d: h["__metadata__"].pop("chainrule.checksum"))
    refused(saved, "but not its checksum")
    assert cr.load(saved, verify=False)["step"] == 3


def test_files_of_the_older_format_are_still_checked(saved):
    # Before the content checksum, chainrule.sha256 covered the tensor bytes, in file order.
    import hashlib

    header, data = split(saved.read_bytes())
    meta = header["__metadata__"]
    del meta["chainrule.checksum"]
    meta["chainrule.sha256"] = hashlib.sha256(data).hexdigest()
    saved.write_bytes(join(header, data))
    assert cr.load(saved)["a"]["bias"].tolist() == [1.0, 2.0]
    saved.write_bytes(join(header, bytes([data[0] ^ 1]) + data[1:]))
    refused(saved, "checksum mismatch: the tensor data is corrupt")


def test_files_of_other_writers_have_no_checksum_to_check(tmp_path):
    path = tmp_path / "other.safetensors"
    safetensors.numpy.save_file({"w": np.arange(3, dtype=np.float32)}, str(path))
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0x40
    path.write_bytes(bytes(raw))
    assert cr.load(path)["w"].shape == (3,)  # nothing says what the bytes should be


# ---- the structure of chainrule files ---------------------------------------------------------
def test_save_refuses_what_load_would_refuse(tmp_path):
    nested: list = []
    for _ in range(450):
        nested = [nested]
    with pytest.raises(ValueError, match="nests more than 400 levels"):
        cr.save({"deep": nested}, tmp_path / "deep.safetensors")
    shallow = nested
    for _ in range(100):
        shallow = shallow[0]
    cr.save({"ok": shallow}, tmp_path / "ok.safetensors")
    assert cr.load(tmp_path / "ok.safetensors")["ok"] == shallow


def test_a_tensor_the_structure_never_uses_is_refused(saved):
    header, data = split(saved.read_bytes())
    tree = json.loads(header["__metadata__"]["chainrule.structure"])
    tree["dict"] = [item for item in tree["dict"] if item[0] != "b"]
    header["__metadata__"]["chainrule.structure"] = json.dumps(tree)
    saved.write_bytes(join(reseal(header, data), data))
    refused(saved, "tensors its chainrule.structure never uses .'b.bias'")


def test_load_state_dict_from_a_file_holding_no_tensor_where_one_belongs(tmp_path):
    net = cr.nn.BatchNorm1d(2)
    state = dict(net.state_dict(), num_batches_tracked="many", weight=[1.0, 2.0])
    cr.save(state, tmp_path / "bn.safetensors")
    with pytest.raises(StateDictError) as info:
        net.load_state_dict(cr.load(tmp_path / "bn.safetensors"))
    assert 'parameter named "num_batches_tracked", expected a Tensor' in str(info.value)
    assert 'parameter named "weight", expected a Tensor or array from checkpoint but received ' \
           "list" in str(info.value)
    np.testing.assert_array_equal(net.weight.detach().numpy(), [1.0, 1.0])  # nothing copied


# ---- only regular files, never a wait -----------------------------------------------------------
class _Hang(BaseException):
    pass


def _within(seconds, fn):
    def expire(signum, frame):
        raise _Hang

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("reader", [
    cr.load, cr.io.load_metadata, cr.train.load_checkpoint,
    lambda p: cr.train.resume(p, cr.nn.Linear(2, 1)),
], ids=["load", "load_metadata", "load_checkpoint", "resume"])
def test_special_files_are_refused_at_once(tmp_path, reader):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    sock = tmp_path / "sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(sock))
    s.close()
    for path, kind in ((fifo, r"a named pipe \(FIFO\)"), (tmp_path, "a directory"),
                       (sock, "a socket"),
                       ("/dev/zero", "a character device")):
        with pytest.raises(CheckpointError, match=f"{path}: is {kind}, not a regular file"):
            _within(5, lambda path=path: reader(path))


def test_a_pipe_swapped_in_after_the_check_does_not_block(tmp_path, monkeypatch):
    # Between stat and open the name may change; the open itself never waits.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    good = tmp_path / "good.safetensors"
    cr.save({"w": cr.ones(1)}, good)
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: real_stat(good if str(p) == str(fifo)
                                                                  else p, *a, **k))
    with pytest.raises(CheckpointError, match="is a named pipe"):
        _within(5, lambda: cr.load(fifo))


def test_a_file_growing_while_read_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "f.safetensors"
    cr.save({"w": cr.ones(4)}, path)
    real = cr.io.open_regular

    def growing(p, who="load"):
        f, size = real(p, who)
        with open(p, "ab") as g:  # another process appends after the size was taken
            g.write(b"\0" * 4)
        return f, size
    monkeypatch.setattr(cr.io, "open_regular", growing)
    refused(path, "changed size while being read")


def test_the_file_is_closed_after_a_refusal(tmp_path):
    path = write(tmp_path, {"w": {**W, "dtype": "F33"}})
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        with pytest.raises(CheckpointError):
            cr.load(path)
    assert len(os.listdir("/proc/self/fd")) <= before


def test_concurrent_loads_and_saves_see_whole_files(tmp_path):
    # A reader never sees a half-written file: every load gives one version or the other.
    path = tmp_path / "w.safetensors"
    a, b = np.zeros(20_000, np.float32), np.ones(20_000, np.float32)
    cr.save({"w": a}, path)
    stop = threading.Event()
    errors = []

    def writer():
        i = 0
        while not stop.is_set():
            cr.save({"w": (a, b)[i % 2]}, path)
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        for _ in range(50):
            w = cr.load(path)["w"].numpy()
            if not (np.array_equal(w, a) or np.array_equal(w, b)):
                errors.append(w[:3])
    finally:
        stop.set()
        t.join()
    assert errors == []
    assert sorted(os.listdir(tmp_path)) == ["w.safetensors"]


@pytest.mark.parametrize("module", [
    "chainrule.io", "chainrule.serialization.errors", "chainrule.serialization.files",
    "chainrule.serialization.checksum", "chainrule.serialization.json_limits",
    "chainrule.serialization.location", "chainrule.serialization.safetensors_format"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted and not result.failed
