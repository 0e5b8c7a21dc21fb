"""Hostile PyTorch-style checkpoints: pickles written opcode by opcode (see ``pickletools``)
inside torch-style zips. Each must stop with a clear error, and none may run code: every
payload would create a marker file, which must never appear."""

import pickle
import struct
import sys
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule.serialization import UnpicklingError, UnsafeGlobalError

# ---- writing pickles by hand -------------------------------------------------------------------
PROTO, STOP, MARK, TUPLE, TUPLE1, TUPLE2 = b"\x80\x02", b".", b"(", b"t", b"\x85", b"\x86"
REDUCE, BUILD, NEWOBJ, EMPTY_DICT, EMPTY_TUPLE, EMPTY_LIST = b"R", b"b", b"\x81", b"}", b")", b"]"
NEWFALSE, NONE, BINPERSID, SETITEM, APPEND = b"\x89", b"N", b"Q", b"s", b"a"


def glob(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def stack_glob(module: str, name: str) -> bytes:
    return text(module) + text(name) + b"\x93"


def text(s: str) -> bytes:
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def num(n: int) -> bytes:
    return b"J" + struct.pack("<i", n) if -2**31 <= n < 2**31 else b"\x8a" + bytes(
        [len(n.to_bytes(16, "little", signed=True))]) + n.to_bytes(16, "little", signed=True)


def tup(*items: bytes) -> bytes:
    return MARK + b"".join(items) + TUPLE


def put(i: int) -> bytes:
    return b"q" + bytes([i])


def get(i: int) -> bytes:
    return b"h" + bytes([i])


def storage(key="0", numel=4, kind="FloatStorage", location="cpu") -> bytes:
    return tup(text("storage"), glob("torch", kind), text(key), text(location),
               num(numel)) + BINPERSID


def tensor(offset=0, size=(4,), stride=(1,), **st) -> bytes:
    return (glob("torch._utils", "_rebuild_tensor_v2")
            + tup(storage(**st), num(offset), tup(*map(num, size)), tup(*map(num, stride)),
                  NEWFALSE, glob("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE)
            + REDUCE)


def in_dict(value: bytes) -> bytes:
    return PROTO + EMPTY_DICT + text("w") + value + SETITEM + STOP


FLOATS = np.arange(4, dtype="<f4").tobytes()


def write_zip(path, pkl: bytes, storages=None, prefix="archive", extra=(), compress=None):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{prefix}/data.pkl", pkl)
        z.writestr(f"{prefix}/byteorder", "little")
        for key, raw in (storages if storages is not None else {"0": FLOATS}).items():
            z.writestr(f"{prefix}/data/{key}", raw, compress_type=compress)
        for name, raw in extra:
            z.writestr(name, raw)
        z.writestr(f"{prefix}/version", "3\n")
    return path


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "PWNED"
    yield path
    assert not path.exists(), "a payload ran"


def test_the_hand_written_files_are_valid(tmp_path):
    # The baseline the attacks start from: the same helpers, no attack, loads correctly.
    got = cr.load(write_zip(tmp_path / "ok.pt", in_dict(tensor(offset=1, size=(3,)))))
    np.testing.assert_array_equal(got["w"]._data, [1.0, 2.0, 3.0])
    got = cr.load(write_zip(tmp_path / "ok2.pt", in_dict(
        tensor(size=(2, 2), stride=(1, 2)))))
    np.testing.assert_array_equal(got["w"]._data, [[0.0, 2.0], [1.0, 3.0]])


# ---- code execution through globals ------------------------------------------------------------
def payloads(marker) -> dict[str, tuple[str, bytes]]:
    """name -> (the global the error must name, the pickle)."""
    m = str(marker)
    shell = f"touch {m}"
    py = f"open({m!r}, 'w').close()"
    return {
        "os.system": ("os.system", glob("os", "system") + text(shell) + TUPLE1 + REDUCE),
        "posix.system": ("posix.system", glob("posix", "system") + text(shell) + TUPLE1 + REDUCE),
        "builtins.eval": ("builtins.eval", glob("builtins", "eval") + text(py) + TUPLE1 + REDUCE),
        "py2 __builtin__.exec": ("builtins.exec",
                                 glob("__builtin__", "exec") + text(py) + TUPLE1 + REDUCE),
        "subprocess.Popen": ("subprocess.Popen", glob("subprocess", "Popen")
                             + EMPTY_LIST + text("touch") + APPEND + text(m) + APPEND
                             + TUPLE1 + REDUCE),
        "STACK_GLOBAL os.system": ("os.system",
                                   stack_glob("os", "system") + text(shell) + TUPLE1 + REDUCE),
        "getattr chain": ("builtins.getattr", glob("builtins", "getattr")
                          + tup(glob("torch._utils", "_rebuild_tensor_v2"), text("__globals__"))
                          + REDUCE),
        "dotted name": ("torch._utils._rebuild_tensor_v2.__globals__",
                        glob("torch._utils", "_rebuild_tensor_v2.__globals__")),
        "torch.load": ("torch.load", glob("torch", "load") + text(m) + TUPLE1 + REDUCE),
        "numpy": ("numpy.load", glob("numpy", "load") + text(m) + TUPLE1 + REDUCE),
        "copyreg reconstructor": ("copyreg._reconstructor", glob("copy_reg", "_reconstructor")
                                  + tup(glob("os", "system"), NONE, NONE) + REDUCE),
        "an arbitrary class's __reduce__": ("evil_module.Evil",
                                            glob("evil_module", "Evil") + EMPTY_TUPLE + REDUCE),
        "a chainrule function": ("chainrule.io.save",
                                 glob("chainrule.io", "save") + tup(NONE, text(m)) + REDUCE),
    }


@pytest.mark.parametrize("name", list(payloads("x")))
@pytest.mark.parametrize("weights_only", [True, False])
def test_globals_that_would_run_code_are_refused(tmp_path, marker, name, weights_only):
    expected, body = payloads(marker)[name]
    path = write_zip(tmp_path / "evil.pt", in_dict(body))
    with pytest.raises(UnsafeGlobalError) as info:
        cr.load(path, weights_only=weights_only)
    assert info.value.name == expected
    assert f"{expected!r}" in str(info.value) and "never executes pickle" in str(info.value)
    assert "_rebuild_tensor_v2" in str(info.value)  # says what is supported


@pytest.mark.parametrize("name", ["os.system", "builtins.eval"])
def test_the_payloads_are_live(tmp_path, name):
    # Proof the refusals above matter: Python's own pickle runs the very same bytes.
    live = tmp_path / "LIVE"
    _, body = payloads(live)[name]
    pickle.loads(in_dict(body))
    assert live.exists()


def test_an_allow_listed_function_is_never_called(tmp_path, marker):
    import os
    path = write_zip(tmp_path / "evil.pt", in_dict(
        glob("posix" if os.name == "posix" else "nt", "system") + text(f"touch {marker}")
        + TUPLE1 + REDUCE))
    with cr.serialization.safe_globals([os.system]):
        with pytest.raises(UnpicklingError, match="calls posix.system.*never executes pickle"):
            cr.load(path)


# ---- objects and state --------------------------------------------------------------------------
class Plain:
    pass


sys.modules[__name__].Plain = Plain  # found by the allow-list, never imported


@pytest.mark.parametrize("body, match", [
    (glob("collections", "OrderedDict") + EMPTY_TUPLE + NEWOBJ, "NEWOBJ"),
    (tensor() + EMPTY_DICT + text("__class__") + glob("torch", "Size") + SETITEM + BUILD,
     "BUILD"),
    (EMPTY_DICT + EMPTY_DICT + text("x") + num(1) + SETITEM + BUILD, "BUILD"),
    (glob("torch", "FloatStorage") + EMPTY_DICT + BUILD, "BUILD"),
    (glob("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE + EMPTY_DICT + text("keys")
     + num(1) + SETITEM + BUILD, "BUILD"),
    (glob("torch", "FloatStorage") + EMPTY_TUPLE + REDUCE, "calls torch.FloatStorage"),
    (tensor() + text("x") + APPEND, "appends only to lists"),
    (tensor() + text("k") + num(1) + SETITEM, "sets items only in dicts"),
    (glob("torch._utils", "_rebuild_tensor_v2") + tup(num(1)) + REDUCE, "bad arguments"),
    (glob("torch._utils", "_rebuild_tensor_v2") + tup(text("storage"), num(0), tup(num(1)),
                                                       tup(num(1)), NEWFALSE, EMPTY_DICT)
     + REDUCE, "expected a storage"),
    (glob("torch._utils", "_rebuild_parameter") + tup(tensor(), NEWFALSE, glob(
        "collections", "OrderedDict") + EMPTY_TUPLE + REDUCE + text("h") + glob("os", "system")
        + SETITEM) + REDUCE, "os.system"),
    (b"i" + b"os\nsystem\n", "INST"),
    (b"\x82\x01", "extension registry"),
    (b"\x97", "out-of-band"),
])
def test_objects_and_state_are_refused(tmp_path, marker, body, match):
    with pytest.raises(UnpicklingError, match=match):
        cr.load(write_zip(tmp_path / "evil.pt", in_dict(body)))


def test_allow_listed_class_is_rebuilt_without_calling_it(tmp_path):
    name = f"{__name__}.Plain"
    module, cls = name.rsplit(".", 1)
    body = glob(module, cls) + EMPTY_TUPLE + NEWOBJ + EMPTY_DICT + text("a") + num(7) + SETITEM
    path = write_zip(tmp_path / "plain.pt", in_dict(body + BUILD))
    with pytest.raises(UnsafeGlobalError, match="add_safe_globals\\(\\[Plain\\]\\)"):
        cr.load(path)
    with cr.serialization.safe_globals([Plain]):
        got = cr.load(path)["w"]
        assert type(got) is Plain and got.__dict__ == {"a": 7}
        with pytest.raises(UnpicklingError, match="REDUCE|calls"):  # calling it: never
            cr.load(write_zip(tmp_path / "call.pt", in_dict(glob(module, cls) + EMPTY_TUPLE
                                                            + REDUCE)))
        with pytest.raises(UnpicklingError, match="with arguments"):
            cr.load(write_zip(tmp_path / "args.pt", in_dict(glob(module, cls) + tup(num(1))
                                                            + NEWOBJ)))


# ---- memo, stack and stream tricks --------------------------------------------------------------
@pytest.mark.parametrize("pkl, match", [
    (PROTO + get(5) + STOP, "memo entry 5"),
    (PROTO + glob("torch", "FloatStorage") + put(0) + b"0" + get(0) + EMPTY_TUPLE + REDUCE + STOP,
     "calls torch.FloatStorage"),
    (PROTO + glob("os", "system") + put(0) + STOP, "os.system"),
    (PROTO + b"r\xff\xff\xff\xff" + STOP, "empty stack"),  # huge memo index: no allocation
    (PROTO + NONE + b"r\xff\xff\xff\xff" + get(0) + STOP, "memo entry 0"),
    (PROTO + REDUCE + STOP, "empty stack"),
    (PROTO + MARK + STOP, "empty stack"),
    (PROTO + NONE + NONE + STOP, "extra items"),
    (PROTO + text("unterminated"), "without a STOP"),
    (PROTO + b"X\xff\xff\xff\x7f" + b"abc", "truncated"),
    (PROTO + b"\x8b\xff\xff\xff\x7f" + STOP, "refusing integers"),
    (PROTO + b"\x95" + struct.pack("<Q", 2**60) + NONE + STOP, "FRAME"),
    (PROTO + MARK * 200_000 + STOP, "MARKs"),
    (PROTO + b"\xff" + STOP, "unknown or unsupported pickle opcode"),
    (b"\x80\x09" + NONE + STOP, "protocol 9"),
    (PROTO + text("x") + TUPLE1 + BINPERSID + STOP, "persistent id"),
    (PROTO + tup(text("module"), glob("torch", "FloatStorage"), text("0"), text("cpu"), num(4))
     + BINPERSID + STOP, "persistent id"),
    (PROTO + b"Pstorage\n" + STOP, "PERSID"),
    (PROTO + EMPTY_DICT + EMPTY_LIST + NONE + SETITEM + STOP, "dict key"),
])
def test_stream_tricks(tmp_path, marker, pkl, match):
    with pytest.raises(UnpicklingError, match=match):
        cr.load(write_zip(tmp_path / "evil.pt", pkl))


# ---- tensors that reach outside their storage ---------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    (dict(size=(5,)), "reaches element 4"),
    (dict(offset=4, size=(1,)), "reaches element 4"),
    (dict(size=(2, 2), stride=(2**40, 1)), "reaches element"),
    (dict(size=(2**62, 2**62), stride=(1, 1)), "reaches element"),
    (dict(offset=-1, size=(1,)), "offset"),
    (dict(size=(-1,)), "non-negative"),
    (dict(size=(2,), stride=(-1,)), "non-negative"),
    (dict(size=(2, 2), stride=(1,)), "differ in length"),
    (dict(size=(2**40,), stride=(0,)), "refusing to materialize"),
    (dict(offset=9, size=(0,)), "past the end"),
    (dict(numel=2**40), "holds 16 bytes but the pickle describes"),
    (dict(key="7"), "no member 'archive/data/7'"),
    (dict(key="../../etc/passwd"), "invalid storage key"),
    (dict(kind="QInt8Storage"), "torch.QInt8Storage"),
    (dict(location="cuda:0"), "CPU only"),
])
def test_tensor_windows_are_checked(tmp_path, marker, kwargs, match):
    with pytest.raises((UnpicklingError, RuntimeError), match=match):
        cr.load(write_zip(tmp_path / "evil.pt", in_dict(tensor(**kwargs))))


# ---- the archive itself -------------------------------------------------------------------------
def test_zip_bomb_is_refused_before_reading(tmp_path):
    bomb = b"\0" * (16 << 20)  # inflates 16 MiB from a few KiB
    path = write_zip(tmp_path / "bomb.pt", in_dict(tensor(numel=4 << 20)),
                     storages={"0": bomb}, compress=zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 100_000
    with pytest.raises(UnpicklingError, match="compressed"):
        cr.load(path)


@pytest.mark.parametrize("extra, match", [
    ([("../evil/data.pkl", b"x")], "unsafe path"),
    ([("archive/data/../../x", b"x")], "unsafe path"),
    ([("/abs/data.pkl", b"x")], "unsafe path"),
    ([("other/data.pkl", in_dict(NONE))], "several"),
])
def test_member_names(tmp_path, extra, match):
    with pytest.raises(UnpicklingError, match=match):
        cr.load(write_zip(tmp_path / "evil.pt", in_dict(tensor()), extra=extra))


def test_duplicate_members(tmp_path):
    path = write_zip(tmp_path / "dup.pt", in_dict(tensor()))
    with pytest.warns(UserWarning), zipfile.ZipFile(path, "a") as z:
        z.writestr("archive/data/0", np.zeros(4, "<f4").tobytes())
    with pytest.raises(UnpicklingError, match="two members"):
        cr.load(path)


def test_not_an_archive_and_no_pickle(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(UnpicklingError, match="zip"):
        cr.load(tmp_path / "junk.pt")
    with zipfile.ZipFile(tmp_path / "empty.pt", "w") as z:
        z.writestr("a/readme", "x")
    with pytest.raises(UnpicklingError, match="no '<name>/data.pkl'"):
        cr.load(tmp_path / "empty.pt")


def test_legacy_stream_payloads_are_refused(tmp_path, marker):
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    version = pickle.dumps(1001, protocol=2)
    info = pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2)
    evil = PROTO + glob("os", "system") + text(f"touch {marker}") + TUPLE1 + REDUCE + STOP
    path = tmp_path / "legacy.pt"
    path.write_bytes(magic + version + info + evil)
    with pytest.raises(UnsafeGlobalError, match="os.system"):
        cr.load(path)
    path.write_bytes(magic + version + evil)  # the payload in the system-info pickle
    with pytest.raises(UnsafeGlobalError, match="os.system"):
        cr.load(path)
    keys = pickle.dumps(["0"], protocol=2)
    good = in_dict(tensor(key="0"))
    path.write_bytes(magic + version + info + good + keys + struct.pack("<q", 2**40) + FLOATS)
    with pytest.raises(UnpicklingError, match="does not match"):
        cr.load(path)
    path.write_bytes(magic + version + info + good + keys + struct.pack("<q", 4) + FLOATS)
    np.testing.assert_array_equal(cr.load(path)["w"]._data, [0.0, 1.0, 2.0, 3.0])
