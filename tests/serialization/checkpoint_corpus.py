"""A corpus of corrupt, tampered and hostile checkpoint files, and what loading each may do.

``build(folder, marker)`` writes it and returns its cases. Every case derives from one of a few
*bases*, real files written by chainrule, by the reference ``safetensors`` library and by
PyTorch, or is foreign junk:

- truncations, appended bytes, random bit flips in the header (length prefix included) and in
  the tensor data, random bit flips in PyTorch's zip and legacy files and inside the pickle of
  a zip (its CRCs recomputed, so the restricted interpreter meets them);
- edits of the header as a corruptor makes them (the checksum left as it was) and as a forger
  makes them (the checksum recomputed): swapped or shifted offsets, dtypes and shapes changed,
  huge and overflowing dimensions, duplicate keys and fields, unknown fields, metadata of the
  wrong type, JSON nested a million deep, numbers of ten thousand digits;
- a chainrule structure entry that is invalid, nested too deeply or names what it should not;
- training checkpoints with forged fields: a negative epoch, a missing RNG state, optimizer and
  scheduler states of the wrong shape or type;
- foreign formats: empty and random files, npy, npz, tar, gzip, plain zip, JSON, pickles and
  PyTorch files whose pickle runs ``os.system``/``exec`` (each payload would create
  ``marker``, which must never appear), a zip bomb;
- what is not a regular file: a named pipe, a directory, a socket, ``/dev/zero``.

Each case says which loading paths must refuse it (``must_refuse``), and whether a load that
succeeds must give back exactly its base (``exact``): so for a corruption of a file that
carries a checksum (chainrule's, or the CRC-32 of every member of PyTorch's zip). A forged file
(content consistent, checksum recomputed) or a corruption of a file without one (written by
the safetensors library, PyTorch's legacy stream) may load what its bytes now say.
"""

from __future__ import annotations

import collections
import gzip
import io
import json
import os
import pickle
import random
import socket
import stat
import struct
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import safetensors.numpy
from st_files import join, reseal, split

import chainrule as cr
import chainrule.nn as nn
from chainrule.train import ModelCheckpoint, fit

PATHS = ("load", "load_state_dict", "resume", "fit")
ALL = frozenset(PATHS)
TRAINING = frozenset({"resume", "fit"})


@dataclass
class Case:
    name: str
    path: Path
    category: str
    base: str | None  # the base it derives from; None for foreign junk
    forged: bool = False  # consistent content (checksum recomputed), not a corruption
    must_refuse: frozenset = ALL
    special: bool = False  # not a regular file
    exact: bool = False  # a successful load must give exactly what the base gives


@dataclass
class Base:
    name: str
    path: Path
    raw: bytes
    kind: str  # "safetensors" or "torch"
    training: bool = False  # a training checkpoint (resume and fit accept it)
    checked: bool = True  # carries a checksum of its content
    cases: list = field(default_factory=list)


# ---- the training job every base comes from ---------------------------------------------------
def model() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def job(seed: int = 0):
    """A fresh model, optimizer, scheduler and loader, the same for a given seed."""
    cr.manual_seed(seed)
    net = model()
    opt = cr.optim.Adam(net.parameters(), lr=0.01)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=24)
    loader = cr.data.DataLoader(cr.data.TensorDataset(cr.tensor(X), cr.tensor(y)),
                                batch_size=8, shuffle=True, generator=cr.Generator(seed))
    return net, opt, sched, loader


def run_fit(net, opt, sched, loader, **kw):
    return fit(net, loader, loss="cross_entropy", optimizer=opt, scheduler=sched, epochs=2,
               verbose=0, **kw)


# ---- bases ------------------------------------------------------------------------------------
def _bases(folder: Path) -> dict[str, Base]:
    out: dict[str, Base] = {}

    def add(name, path, kind, training=False, checked=True):
        out[name] = Base(name, path, path.read_bytes(), kind, training, checked)

    net, opt, sched, loader = job()
    run_fit(net, opt, sched, loader, callbacks=[
        ModelCheckpoint(str(folder / "base_train_e{epoch}.ckpt")),
        ModelCheckpoint(str(folder / "base_train_s{step}.ckpt"), save_freq=2)])
    add("train", folder / "base_train_e1.ckpt", "safetensors", training=True)
    add("train_mid", folder / "base_train_s2.ckpt", "safetensors", training=True)
    cr.save(net.state_dict(), folder / "base_weights.safetensors")
    add("weights", folder / "base_weights.safetensors", "safetensors")
    cr.save(net, folder / "base_module.safetensors")
    add("module", folder / "base_module.safetensors", "safetensors")
    arrays = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    safetensors.numpy.save_file(arrays, str(folder / "base_foreign.safetensors"),
                                metadata={"format": "np"})
    add("foreign", folder / "base_foreign.safetensors", "safetensors", checked=False)
    _torch_files(arrays, folder)
    add("torch_zip", folder / "base_torch.pt", "torch")
    add("torch_legacy", folder / "base_torch_legacy.pt", "torch", checked=False)
    return out


def _torch_files(arrays: dict, folder: Path) -> None:
    """The same weights written by PyTorch, in its zip format and its legacy stream."""
    import torch

    tsd = collections.OrderedDict((k, torch.from_numpy(v.copy())) for k, v in arrays.items())
    torch.save(tsd, folder / "base_torch.pt")
    torch.save(tsd, folder / "base_torch_legacy.pt", _use_new_zipfile_serialization=False)


# ---- writing cases ----------------------------------------------------------------------------
class _Writer:
    def __init__(self, folder: Path, bases: dict[str, Base]) -> None:
        self.folder, self.bases, self.cases = folder, bases, []

    def add(self, name: str, raw: bytes, category: str, base: str | None = None,
            forged: bool = False, must_refuse: frozenset | None = None) -> None:
        path = self.folder / f"{len(self.cases):04d}_{name}"
        path.write_bytes(raw)
        if must_refuse is None:
            if base is None:
                must_refuse = ALL
            elif self.bases[base].training:
                must_refuse = frozenset()
            else:
                must_refuse = TRAINING  # not a training checkpoint
        exact = base is not None and not forged and self.bases[base].checked
        self.cases.append(Case(name, path, category, base, forged, must_refuse, exact=exact))

    def special(self, name: str, path: Path, category: str) -> None:
        self.cases.append(Case(name, path, category, None, special=True))


def _refuse_all(w: _Writer, name: str, raw: bytes, category: str) -> None:
    w.add(name, raw, category, None, must_refuse=ALL)


# ---- byte-level corruption --------------------------------------------------------------------
def _truncations(w: _Writer, base: Base) -> None:
    raw = base.raw
    n = struct.unpack("<Q", raw[:8])[0] if base.kind == "safetensors" else len(raw) // 3
    cuts = sorted({0, 1, 7, 8, 9, 8 + n // 2, 8 + n - 1, 8 + n, 8 + n + 1,
                   (8 + n + len(raw)) // 2, len(raw) - 1})
    for cut in cuts:
        if 0 <= cut < len(raw):
            w.add(f"{base.name}_truncated_{cut}", raw[:cut], "truncation", base.name,
                  must_refuse=ALL)
    for extra in (b"\0", b" " * 8, b"PK\x03\x04junk"):
        # A zip archive is found from its end: bytes after it leave it whole (PyTorch too).
        w.add(f"{base.name}_appended_{len(extra)}", raw + extra, "appended bytes", base.name,
              must_refuse=None if base.name == "torch_zip" else ALL)


def _flip(raw: bytes, pos: int, bit: int) -> bytes:
    b = bytearray(raw)
    b[pos] ^= 1 << bit
    return bytes(b)


def _bit_flips(w: _Writer, base: Base, rng: random.Random, header: int, data: int) -> None:
    raw = base.raw
    if base.kind == "safetensors":
        end = 8 + struct.unpack("<Q", raw[:8])[0]
        regions = (("header", 0, end, header), ("data", end, len(raw), data))
    else:
        regions = (("bytes", 0, len(raw), header + data),)
    for region, lo, hi, count in regions:
        for _ in range(count):
            pos, bit = rng.randrange(lo, hi), rng.randrange(8)
            # In a chainrule file the checksum must catch every flip; other files may load
            # what their bytes now say (checked against the reference readers).
            chainrule_file = base.name in ("train", "train_mid", "weights", "module")
            w.add(f"{base.name}_{region}_flip_{pos}_{bit}", _flip(raw, pos, bit),
                  f"bit flip in the {region}", base.name,
                  must_refuse=ALL if chainrule_file else None)


def _pickle_flips(w: _Writer, base: Base, rng: random.Random, count: int) -> None:
    """Bit flips inside the pickle of a PyTorch zip, the archive rebuilt so that its CRCs
    hold: the restricted interpreter itself meets the damage, not the zip reader."""
    with zipfile.ZipFile(io.BytesIO(base.raw)) as z:
        members = [(info, z.read(info)) for info in z.infolist()]
    for _ in range(count):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            for info, data in members:
                if info.filename.endswith("/data.pkl"):
                    pos, bit = rng.randrange(len(data)), rng.randrange(8)
                    data = _flip(data, pos, bit)
                    name = f"{base.name}_pickle_flip_{pos}_{bit}"
                z.writestr(info, data)
        w.add(name, out.getvalue(), "bit flip in a pickle", base.name, forged=True)


# ---- header edits -----------------------------------------------------------------------------
def _edited(base: Base, edit, forged: bool) -> bytes:
    header, data = split(base.raw)
    data = edit(header, data) or data
    if forged:
        reseal(header, data)
    return join(header, data)


def _same_size_pair(header: dict) -> tuple[str, str]:
    """Two tensors of the same dtype and size (their bytes can trade places), else the first
    two."""
    names = [n for n in header if n != "__metadata__"]
    seen: dict = {}
    for name in names:
        e = header[name]
        key = (e["dtype"], e["data_offsets"][1] - e["data_offsets"][0])
        if key[1] and key in seen:
            return seen[key], name
        seen.setdefault(key, name)
    return names[0], names[1]


def _first_f32(header: dict) -> str:
    return next(n for n, e in header.items() if n != "__metadata__" and e["dtype"] == "F32"
                and len(e["shape"]) == 2)


def _entry_edits() -> dict:
    """name -> edit(header, data) of the tensor entries."""
    def swap_offsets(h, d):
        a, b = _same_size_pair(h)
        h[a]["data_offsets"], h[b]["data_offsets"] = h[b]["data_offsets"], h[a]["data_offsets"]

    def retype(dtype):
        def edit(h, d):
            h[_first_f32(h)]["dtype"] = dtype
        return edit

    def reshape(shape):
        def edit(h, d):
            h[_first_f32(h)]["shape"] = shape
        return edit

    def transpose(h, d):
        e = h[_first_f32(h)]
        e["shape"] = e["shape"][::-1]

    def offsets(value):
        def edit(h, d):
            h[_first_f32(h)]["data_offsets"] = value
        return edit

    def shift(h, d):
        e = h[_first_f32(h)]
        e["data_offsets"] = [e["data_offsets"][0] + 4, e["data_offsets"][1] + 4]

    def field(name, value):
        def edit(h, d):
            h[_first_f32(h)][name] = value
        return edit

    def drop(name):
        def edit(h, d):
            del h[_first_f32(h)][name]
        return edit

    def as_list(h, d):
        name = _first_f32(h)
        e = h[name]
        h[name] = [e["dtype"], e["shape"], e["data_offsets"]]

    def meta(value):
        def edit(h, d):
            h["__metadata__"] = value
        return edit

    def meta_entry(value):
        def edit(h, d):
            h.setdefault("__metadata__", {})["note"] = value
        return edit

    def rename(h, d):
        name = _first_f32(h)
        h[name + "x"] = h.pop(name)

    def drop_tensor(h, d):
        name = _first_f32(h)
        begin, end = h.pop(name)["data_offsets"]
        for e in h.values():
            if isinstance(e, dict) and "data_offsets" in e and e["data_offsets"][0] >= end:
                e["data_offsets"] = [x - (end - begin) for x in e["data_offsets"]]
        return d[:begin] + d[end:]

    def extra_tensor(h, d):
        h["extra.tensor"] = {"dtype": "U8", "shape": [1], "data_offsets": [len(d), len(d) + 1]}
        return d + b"\x07"

    def meta_value(h, d):
        m = h["__metadata__"]
        key = next((k for k in m if not k.startswith("chainrule.")), None)
        if key is None:
            m["added"] = "1"
        else:
            m[key] = m[key] + " "

    return {
        "swap_offsets": swap_offsets, "dtype_I32": retype("I32"), "dtype_F64": retype("F64"),
        "dtype_F16": retype("F16"), "dtype_BF16": retype("BF16"), "dtype_unknown": retype("F33"),
        "dtype_lowercase": retype("f32"), "dtype_list": retype(["F32"]),
        "dtype_null": retype(None), "dtype_F8": retype("F8_E4M3"), "dtype_C64": retype("C64"),
        "transposed": transpose, "shape_overflow": reshape([2**62, 2**62]),
        "shape_2_64": reshape([2**64]), "shape_huge_with_zero": reshape([0, 2**63]),
        "shape_zero_overflow_after": reshape([2**40, 2**40, 0]),
        "shape_negative": reshape([-4, -8]), "shape_float": reshape([4.0, 8.0]),
        "shape_bool": reshape([True, 32]), "shape_string": reshape("4,8"),
        "shape_nested": reshape([[4], [8]]), "shape_rank_65": reshape([1] * 65),
        "shape_rank_64": reshape([1] * 62 + [4, 8]), "shape_1e30": reshape([10**30]),
        "offsets_shift": shift, "offsets_reversed": offsets([32, 0]),
        "offsets_three": offsets([0, 128, 128]), "offsets_strings": offsets(["0", "128"]),
        "offsets_negative": offsets([-128, 0]), "offsets_past_end": offsets([0, 2**40]),
        "offsets_2_64": offsets([2**64, 2**64 + 128]), "offsets_null": offsets(None),
        "unknown_field": field("extra", 1), "missing_shape": drop("shape"),
        "missing_offsets": drop("data_offsets"), "entry_as_list": as_list,
        "entry_null": lambda h, d: h.__setitem__(_first_f32(h), None),
        "metadata_list": meta([]), "metadata_null": meta(None), "metadata_string": meta("x"),
        "metadata_int_value": meta_entry(1), "metadata_null_value": meta_entry(None),
        "metadata_nested_value": meta_entry({"a": "b"}),
        "metadata_surrogate": meta_entry("\ud800"), "renamed_tensor": rename,
        "dropped_tensor": drop_tensor, "extra_tensor": extra_tensor,
        "changed_metadata_value": meta_value,
    }


def _text_edits(base: Base) -> dict[str, bytes]:
    """Edits of the header text itself: what a dict cannot hold (duplicates, NaN)."""
    header, data = split(base.raw)
    name = _first_f32(header)
    entry = json.dumps(header[name])
    text = json.dumps(header, separators=(",", ":"))
    dup_entry = json.dumps({name: header[name]})[1:-1]
    inner = entry[1:-1]
    out = {
        "duplicate_tensor_key": "{" + dup_entry + "," + text[1:],
        "duplicate_field": text.replace(entry.replace(" ", ""), "{" + inner.replace(" ", "")
                                        + ',"dtype":"F32"}', 1),
        "duplicate_metadata": "{" + '"__metadata__":{}' + "," + text[1:],
        "leading_space": " " + text,
        "trailing_nul": text + "\0",
        "trailing_junk": text + "x",
        "nan_shape": text.replace(json.dumps(header[name]["shape"]).replace(" ", ""),
                                  "[NaN,8]", 1),
        "infinity_offset": text.replace('"data_offsets":[0,', '"data_offsets":[-Infinity,', 1),
        "exponent_number": text.replace('"data_offsets":[0,', '"data_offsets":[0e0,', 1),
        "digits_number": text.replace('"data_offsets":[0,', '"data_offsets":[' + "9" * 5000
                                      + ",", 1),
        "not_an_object": "[" + text + "]",
        "bare_string": json.dumps(text),
        "utf16": text.encode("utf-16").decode("latin-1"),
    }
    if "__metadata__" in header and header["__metadata__"]:
        key = sorted(header["__metadata__"])[0]
        out["duplicate_metadata_key"] = text.replace('"__metadata__":{',
                                                     '"__metadata__":{' + json.dumps(key)
                                                     + ':"x",', 1)
    for k, v in out.items():
        assert v != text, f"the edit {k} changed nothing"
    return {k: join(v.encode("latin-1") if k == "utf16" else v, data) for k, v in out.items()}


VALID_BOMBS = ("many_empty_tensors", "long_string", "escapes")  # big, but valid files


def _bombs() -> dict[str, bytes]:
    deep_object = '{"a":' * 200_000 + "1" + "}" * 200_000
    deep_list = '{"a":{"dtype":"F32","shape":' + "[" * 500_000 + "]" * 500_000 + "}}"
    many = {f"t{i}": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]}
            for i in range(2_000)}
    return {
        "deep_object": join(deep_object, b""),
        "deep_list_in_shape": join(deep_list, b""),
        "deep_metadata": join('{"__metadata__":' + "[" * 300_000 + "]" * 300_000 + "}", b""),
        "unclosed_nesting": join("{" + '"a":[' * 100_000, b""),
        "many_empty_tensors": join(many, b""),
        "long_string": join({"__metadata__": {"k": "x" * 5_000_000}}, b""),
        "escapes": join('{"__metadata__":{"k":"' + '\\"' * 2_000_000 + '"}}', b""),
        "length_over_limit": struct.pack("<Q", 100_000_001) + b"{}",
        "length_2_64_minus_1": struct.pack("<Q", 2**64 - 1) + b"{}",
        "length_past_end": struct.pack("<Q", 1 << 20) + b"{}",
        "length_zero": struct.pack("<Q", 0),
        "empty_header_object_with_data": join("{}", b"\0" * 8),
    }


# ---- the chainrule structure and training fields ----------------------------------------------
def _structure_edits() -> dict:
    """name -> edit(tree) of the chainrule.structure tree of a training checkpoint."""
    def set_item(tree, key, node):
        for item in tree["dict"]:
            if item[0] == key:
                item[1] = node
                return
        raise AssertionError(key)

    def deep(tree):  # as text: json.dumps itself cannot nest this deep
        set_item(tree, "scheduler", {"value": "DEEP"})
        node = '{"list": [' * 5_000 + '{"value": "training.epoch"}' + "]}" * 5_000
        return json.dumps(tree).replace('{"value": "DEEP"}', node)

    return {
        "not_json": lambda t: "{",
        "structure_list": lambda t: [t],
        "two_kinds": lambda t: {"dict": t["dict"], "list": []},
        "unknown_kind": lambda t: {"pickle": "os.system"},
        "dict_items_not_pairs": lambda t: {"dict": [[1, 2, 3]]},
        "dict_items_not_lists": lambda t: {"dict": [7]},
        "dict_key_float": lambda t: {"dict": [[1.5, {"value": "training.epoch"}]]},
        "list_body_dict": lambda t: {"list": {"a": 1}},
        "missing_tensor": lambda t: set_item(t, "model", {"tensor": "nope"}),
        "tensor_name_list": lambda t: set_item(t, "model", {"tensor": ["a"]}),
        "missing_value": lambda t: set_item(t, "scheduler", {"value": "nope"}),
        "unhashable_dtype": lambda t: set_item(t, "scheduler", {"dtype": ["float32"]}),
        "unknown_dtype": lambda t: set_item(t, "scheduler", {"dtype": "object"}),
        "global_os_system": lambda t: set_item(t, "scheduler", {"global": "os.system"}),
        "module_os": lambda t: set_item(t, "scheduler", {"module": {
            "class": "os.system", "path": "x", "state": []}}),
        "module_body_list": lambda t: set_item(t, "scheduler", {"module": ["a", "b", "c"]}),
        "parameter_no_flag": lambda t: set_item(t, "scheduler", {"parameter": {"tensor": "x"}}),
        "module_ref_missing": lambda t: set_item(t, "scheduler", {"module_ref": "nowhere"}),
        "deeply_nested": deep,
        "tensor_unused": lambda t: {"dict": [i for i in t["dict"] if i[0] != "optimizer"]},
    }


def _with_structure(base: Base, edit) -> bytes:
    header, data = split(base.raw)
    meta = header["__metadata__"]
    tree = json.loads(meta["chainrule.structure"])
    new = edit(tree)
    tree = tree if new is None else new
    meta["chainrule.structure"] = tree if isinstance(tree, str) else json.dumps(tree)
    return join(reseal(header, data), data)


def _field_edits() -> dict:
    """name -> edit(ckpt) of a loaded training checkpoint (saved again by cr.save, so the
    file itself is valid and only its content is wrong)."""
    def put(value, *keys):
        def edit(c):
            node = c
            for k in keys[:-1]:
                node = node[k]
            node[keys[-1]] = value
        return edit

    def drop(*keys):
        def edit(c):
            node = c
            for k in keys[:-1]:
                node = node[k]
            del node[keys[-1]]
        return edit

    return {
        "epoch_negative": put(-3, "training", "epoch"),
        "epoch_string": put("2", "training", "epoch"),
        "epoch_float": put(1.5, "training", "epoch"),
        "epoch_missing": drop("training", "epoch"),
        "step_negative": put(-1, "training", "step"),
        "format_unknown": put("chainrule.train.checkpoint/9", "training", "format"),
        "training_list": put([1], "training"),
        "rng_missing": drop("rng"),
        "rng_global_missing": drop("rng", "global"),
        "rng_global_short": put(cr.zeros(5, dtype=cr.uint8), "rng", "global"),
        "rng_global_float": put(cr.zeros(56), "rng", "global"),
        "rng_model_garbage": put({"x": 3}, "rng", "model"),
        "history_mismatch": put({"epoch": [0], "history": {"loss": [1.0, 2.0]}},
                                "training", "history"),
        "stop_training_string": put("yes", "training", "stop_training"),
        "callbacks_int": put(3, "callbacks"),
        "data_missing": drop("data"),
        "data_train_int": put(5, "data", "train"),
        "loader_generator_garbage": put(cr.zeros(3), "data", "train", "generator"),
        "model_list": put([1.0], "model"),
        "model_weight_string": lambda c: c["model"].__setitem__(
            next(iter(c["model"])), "abc"),
        "model_weight_shape": lambda c: c["model"].__setitem__(
            next(iter(c["model"])), cr.zeros(3, 3)),
        "optimizer_missing": drop("optimizer"),
        "optimizer_int": put(7, "optimizer"),
        "optimizer_no_param_groups": drop("optimizer", "param_groups"),
        "optimizer_params_missing": lambda c: c["optimizer"]["param_groups"][0].pop("params"),
        "optimizer_params_short": lambda c: c["optimizer"]["param_groups"][0].__setitem__(
            "params", [0]),
        "optimizer_params_duplicate": lambda c: c["optimizer"]["param_groups"][0].__setitem__(
            "params", [0, 0, 1, 2]),
        "optimizer_params_strings": lambda c: c["optimizer"]["param_groups"][0].__setitem__(
            "params", ["a", "b", "c", "d"]),
        "optimizer_state_unknown_param": lambda c: c["optimizer"]["state"].__setitem__(
            99, {"step": 1}),
        "optimizer_state_not_dict": lambda c: c["optimizer"]["state"].__setitem__(0, [1]),
        "optimizer_step_negative": lambda c: c["optimizer"]["state"][0].__setitem__(
            "step", -4),
        "optimizer_step_string": lambda c: c["optimizer"]["state"][0].__setitem__("step", "x"),
        "optimizer_step_fraction": lambda c: c["optimizer"]["state"][0].__setitem__(
            "step", 2.5),
        "optimizer_buffer_shape": lambda c: c["optimizer"]["state"][0].__setitem__(
            "exp_avg", cr.zeros(5)),
        "optimizer_buffer_string": lambda c: c["optimizer"]["state"][0].__setitem__(
            "exp_avg", "zeros"),
        "optimizer_lr_string": lambda c: c["optimizer"]["param_groups"][0].__setitem__(
            "lr", "fast"),
        "optimizer_lr_negative": lambda c: c["optimizer"]["param_groups"][0].__setitem__(
            "lr", -1.0),
        "optimizer_betas_short": lambda c: c["optimizer"]["param_groups"][0].__setitem__(
            "betas", (0.9,)),
        "optimizer_groups_two": lambda c: c["optimizer"]["param_groups"].append(
            dict(c["optimizer"]["param_groups"][0])),
        "scheduler_unknown_key": put(1, "scheduler", "warmup"),
        "scheduler_last_epoch_negative": put(-5, "scheduler", "last_epoch"),
        "scheduler_last_epoch_string": put("x", "scheduler", "last_epoch"),
        "scheduler_base_lrs_long": put([0.1, 0.1, 0.1], "scheduler", "base_lrs"),
        "scheduler_gamma_string": put("half", "scheduler", "gamma"),
        "scheduler_list": put([1], "scheduler"),
        "progress_batch_negative": put({"batch": -1, "seen": 0, "loss_sum": 0.0, "sums": {},
                                        "lr": 0.1, "elapsed": 0.0}, "training", "progress"),
    }


# ---- foreign files ----------------------------------------------------------------------------
def _payload_pickles(marker: Path) -> dict[str, bytes]:
    m = str(marker)

    class Shell:
        def __reduce__(self):
            return os.system, (f"touch {m}",)

    class Exec:
        def __reduce__(self):
            return exec, (f"open({m!r}, 'w').close()",)

    class Eval:
        def __reduce__(self):
            return eval, (f"open({m!r}, 'w')",)

    out = {}
    for proto in (0, 2, 4, 5):
        out[f"pickle_os_system_p{proto}"] = pickle.dumps({"w": Shell()}, protocol=proto)
    out["pickle_exec"] = pickle.dumps([Exec()], protocol=2)
    out["pickle_eval"] = pickle.dumps((Eval(),), protocol=4)
    return out


def _torch_with(pkl: bytes, legacy_parts: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")
    return buf.getvalue()


def _legacy_with(pkl: bytes) -> bytes:
    return (pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
            + pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2)
            + pkl)


def _foreign(w: _Writer, marker: Path, rng: random.Random) -> None:
    for name, raw in {
        "empty": b"", "one_byte": b"\0", "seven_bytes": b"\xff" * 7, "eight_zeros": b"\0" * 8,
        "json_text": b'{"model": {"w": [1, 2, 3]}}', "text": b"hello, checkpoint\n" * 10,
        "png_magic": b"\x89PNG\r\n\x1a\n" + bytes(100),
        "hdf5_magic": b"\x89HDF\r\n\x1a\n" + bytes(100),
        "elf_magic": b"\x7fELF" + bytes(100),
    }.items():
        _refuse_all(w, name, raw, "foreign format")
    for i in range(12):
        _refuse_all(w, f"random_{i}", rng.randbytes(rng.choice((16, 100, 4096))),
                    "random bytes")
    for i in range(4):  # random bytes behind a plausible length prefix
        body = rng.randbytes(200)
        _refuse_all(w, f"random_after_length_{i}", struct.pack("<Q", 100) + body,
                    "random bytes")
    buf = io.BytesIO()
    np.save(buf, np.arange(6.0))
    _refuse_all(w, "npy", buf.getvalue(), "foreign format")
    buf = io.BytesIO()
    np.savez(buf, w=np.arange(6.0))
    _refuse_all(w, "npz", buf.getvalue(), "foreign format")
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    _refuse_all(w, "npy_object", buf.getvalue(), "foreign format")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "not a checkpoint")
    _refuse_all(w, "plain_zip", buf.getvalue(), "foreign format")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", pickle.dumps({}, protocol=2))
        z.writestr("archive/data/0", b"\0" * (8 << 20))
    _refuse_all(w, "zip_bomb", buf.getvalue(), "foreign format")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("storages")
        info.size = 4
        t.addfile(info, io.BytesIO(b"abcd"))
    _refuse_all(w, "tar", buf.getvalue(), "foreign format")
    _refuse_all(w, "gzip", gzip.compress(b"{}" * 100), "foreign format")
    _refuse_all(w, "gzip_of_checkpoint", gzip.compress(w.bases["weights"].raw),
                "foreign format")
    for proto in (2, 4, 5):
        _refuse_all(w, f"pickle_plain_p{proto}", pickle.dumps({"w": [1.0, 2.0]}, protocol=proto),
                    "foreign format")
    for name, pkl in _payload_pickles(marker).items():
        _refuse_all(w, name, pkl, "pickle payload")
        _refuse_all(w, f"torch_zip_{name}", _torch_with(pkl), "pickle payload")
        _refuse_all(w, f"torch_legacy_{name}", _legacy_with(pkl), "pickle payload")


def _specials(w: _Writer, folder: Path) -> None:
    fifo = folder / "special_fifo"
    os.mkfifo(fifo)
    w.special("fifo", fifo, "not a regular file")
    w.special("directory", folder, "not a regular file")
    sock = folder / "special_socket"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(sock))
    s.close()
    w.special("socket", sock, "not a regular file")
    link = folder / "special_link_to_fifo"
    link.symlink_to(fifo)
    w.special("symlink_to_fifo", link, "not a regular file")
    for dev in ("/dev/zero", "/dev/null", "/dev/urandom"):
        if os.path.exists(dev) and stat.S_ISCHR(os.stat(dev).st_mode):
            w.special(dev.rsplit("/", 1)[1], Path(dev), "not a regular file")


# ---- the corpus -------------------------------------------------------------------------------
def build(folder: Path, marker: Path, seed: int = 0) -> tuple[list[Case], dict[str, Base]]:
    """Write the corpus into ``folder``; payloads would create ``marker``."""
    bases = _bases(folder)
    w = _Writer(folder, bases)
    rng = random.Random(seed)
    for base in bases.values():
        _truncations(w, base)
    for name, (header, data) in (("train", (30, 8)), ("train_mid", (10, 4)),
                                 ("weights", (20, 6)), ("module", (20, 6)),
                                 ("foreign", (20, 6)), ("torch_zip", (30, 0)),
                                 ("torch_legacy", (30, 0))):
        _bit_flips(w, bases[name], rng, header, data)
    _pickle_flips(w, bases["torch_zip"], rng, 40)
    for base_name in ("train", "weights", "module", "foreign"):
        base = bases[base_name]
        chainrule_file = base_name != "foreign"
        for name, edit in _entry_edits().items():
            # As a corruptor leaves them: a chainrule file's checksum must catch every edit.
            w.add(f"{base_name}_{name}", _edited(base, edit, False), "header edit", base_name,
                  must_refuse=ALL if chainrule_file else None)
            if chainrule_file:  # as a forger leaves them: checksum recomputed
                w.add(f"{base_name}_{name}_forged", _edited(base, edit, True),
                      "forged header edit", base_name, forged=True)
        for name, raw in _text_edits(base).items():
            w.add(f"{base_name}_{name}", raw, "header text edit", base_name,
                  must_refuse=ALL if name not in ("leading_space",) or chainrule_file
                  else None)
    for name, raw in _bombs().items():
        w.add(f"bomb_{name}", raw, "JSON bomb or length",
              must_refuse=TRAINING if name in VALID_BOMBS else ALL)
    for name, edit in _structure_edits().items():
        w.add(f"structure_{name}", _with_structure(bases["train"], edit), "forged structure",
              "train", forged=True, must_refuse=ALL)
    for base_name in ("train", "train_mid"):
        base = bases[base_name]
        for name, edit in _field_edits().items():
            if base_name == "train_mid" and not name.startswith(("progress", "epoch", "rng")):
                continue
            ckpt = cr.load(base.path)
            edit(ckpt)
            buf = io.BytesIO()
            cr.save(ckpt, buf)
            w.add(f"{base_name}_field_{name}", buf.getvalue(), "forged training field",
                  base_name, forged=True, must_refuse=TRAINING)
    _foreign(w, marker, rng)
    _specials(w, folder)
    return w.cases, bases
