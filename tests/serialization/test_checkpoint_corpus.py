"""Every file of the corpus (``checkpoint_corpus``) through every loading path: ``cr.load``,
``load_state_dict`` from a file, ``cr.train.resume`` and ``fit(resume=...)``.

Each attempt must end in one of two ways: ``cr.CheckpointError`` (a ``ValueError`` whose message
names the file), or a load that is right. Right means: for a corruption of a base file, exactly
what the base file gives; for any file at all, what the reference readers read from the same
bytes (``safetensors`` for safetensors files, ``torch.load(weights_only=True)`` for PyTorch's),
so chainrule accepts nothing they refuse and never reads a tensor differently. Never another
exception, never a hang (each attempt runs under a deadline), never a pickle payload run.
"""

import collections
import hashlib
import io
import signal
import warnings
from contextlib import contextmanager
from types import SimpleNamespace

import numpy as np
import pytest
import safetensors.numpy
from checkpoint_corpus import ALL, PATHS, build, job, model, run_fit

import chainrule as cr
from chainrule.nn.modules.module import StateDictError

DEADLINE_S = 10.0  # far above any attempt (milliseconds), far below a hang


class Hang(BaseException):  # BaseException: no `except Exception` in the code under test hides it
    pass


@contextmanager
def deadline(seconds: float):
    def expire(signum, frame):
        raise Hang

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---- the four loading paths -------------------------------------------------------------------
def _weights(net) -> dict:
    return {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}


def _state_of(obj):
    if isinstance(obj, cr.nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict) and isinstance(obj.get("model"), dict):
        return obj["model"]
    return obj


class Objects:
    """The model, optimizer, scheduler and loader a resume restores into. They are made anew
    only after a successful resume: a refused one must leave them exactly as they were (and
    the global generator too), which each attempt checks."""

    def __init__(self) -> None:
        self.fresh()

    def fresh(self) -> None:
        self.net, self.opt, self.sched, self.loader = job(seed=5)
        self.before = self.snapshot()

    def snapshot(self) -> str:
        return fingerprint({"weights": _weights(self.net), "optimizer": self.opt.state_dict(),
                            "scheduler": self.sched.state_dict(),
                            "loader": self.loader.state_dict(), "rng": cr.get_rng_state()})

    def untouched(self) -> bool:
        return self.snapshot() == self.before


def fingerprint(obj) -> str:
    """A digest of everything ``same`` compares: types, keys in order, array bits."""
    h = hashlib.sha256()

    def walk(o):
        h.update(type(o).__name__.encode())
        if isinstance(o, cr.Tensor):
            o = o.detach().numpy()
        if isinstance(o, np.ndarray):
            h.update(f"{o.dtype}{o.shape}".encode())
            h.update(np.ascontiguousarray(o).tobytes())
        elif isinstance(o, dict):
            for k, v in o.items():
                h.update(repr(k).encode())
                walk(v)
        elif isinstance(o, (list, tuple)):
            h.update(str(len(o)).encode())
            for v in o:
                walk(v)
        else:
            h.update(repr(o).encode())
    walk(obj)
    return h.hexdigest()


OBJECTS: Objects | None = None


def load(path):
    return cr.load(path)


def load_state_dict(path):
    net = model()
    net.load_state_dict(_state_of(cr.load(path)))
    return _weights(net)


def resume(path):
    o = OBJECTS
    ckpt = cr.train.resume(path, o.net, o.opt, o.sched, loader=o.loader)
    out = {"weights": _weights(o.net), "optimizer": o.opt.state_dict(),
           "scheduler": o.sched.state_dict(), "loader": o.loader.state_dict(),
           "rng": cr.get_rng_state(), "epoch": ckpt["epoch"], "step": ckpt["step"]}
    o.fresh()
    return out


def fit_resume(path):
    o = OBJECTS
    run_fit(o.net, o.opt, o.sched, o.loader, resume=str(path))
    out = {"weights": _weights(o.net), "optimizer": o.opt.state_dict()}
    o.fresh()
    return out


RUN = {"load": load, "load_state_dict": load_state_dict, "resume": resume, "fit": fit_resume}


def attempt(path_name: str, file):
    """("ok", result) | ("refused", error) | ("raw", error) | ("hang", None), and
    ("partial", error) for a refused resume that changed something."""
    outcome, value = _attempt(path_name, file)
    if outcome != "ok" and path_name in ("resume", "fit"):
        if not OBJECTS.untouched():
            OBJECTS.fresh()
            return "partial", value
    return outcome, value


def _attempt(path_name: str, file):
    try:
        with deadline(DEADLINE_S):
            return "ok", RUN[path_name](file)
    except Hang:
        return "hang", None
    except cr.CheckpointError as e:
        return "refused", e
    except StateDictError as e:  # a valid file whose state does not fit the model
        return ("refused", e) if path_name == "load_state_dict" else ("raw", e)
    except TypeError as e:
        if path_name == "load_state_dict" and str(e).startswith("load_state_dict"):
            return "refused", e  # a valid file holding something else than a state dict
        return "raw", e
    except Exception as e:
        return "raw", e


# ---- what a right result is -------------------------------------------------------------------
def same(a, b) -> bool:
    """Exactly equal: arrays by dtype, shape and bits; containers by type, keys and order."""
    if isinstance(a, cr.Tensor) or isinstance(b, cr.Tensor):
        return (isinstance(a, cr.Tensor) and isinstance(b, cr.Tensor)
                and same(a.detach().numpy(), b.detach().numpy()))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return (a.dtype == b.dtype and a.shape == b.shape
                and a.tobytes() == b.tobytes())
    if isinstance(a, cr.nn.Module):
        return type(a) is type(b) and same(a.state_dict(), b.state_dict()) and (
            a.training == b.training)
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and np.isnan(a):
        return np.isnan(b)
    return a == b


def flat_tensors(obj, prefix: str = "") -> dict:
    """The tensors of a loaded object by dotted name, as the file names them."""
    if isinstance(obj, cr.nn.Module):
        obj = obj.state_dict()
    if isinstance(obj, cr.Tensor):
        return {prefix or "tensor": obj.detach().numpy()}
    out = {}
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(
        obj, (list, tuple)) else ()
    for k, v in items:
        out.update(flat_tensors(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def reference(raw: bytes, torch_file: bool) -> dict | None:
    """What the reference reader reads from ``raw`` ({name: array}, None if it refuses it):
    ``safetensors``, or for PyTorch's files ``torch.load(weights_only=True)``."""
    if not torch_file:
        try:
            return dict(safetensors.numpy.load(raw))
        except Exception:
            return None
    import torch

    try:
        with warnings.catch_warnings():  # it warns of damaged files it then reads or refuses
            warnings.simplefilter("ignore")
            obj = torch.load(io.BytesIO(raw), weights_only=True)
    except Exception:
        return None

    def flat(o, prefix=""):
        if isinstance(o, torch.Tensor):
            return {prefix: o.numpy()}
        items = o.items() if isinstance(o, dict) else enumerate(o) if isinstance(
            o, (list, tuple)) else ()
        out = {}
        for k, v in items:
            out.update(flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return flat(obj)


def judge(path_name: str, case, outcome: str, value, expected: dict) -> str | None:
    """Why this outcome is wrong, or None."""
    if outcome == "hang":
        return f"no answer within {DEADLINE_S} s"
    if outcome == "raw":
        return f"raw {type(value).__name__}: {value}"
    if outcome == "partial":
        return f"refused ({value}), but the objects were changed"
    if outcome == "refused":
        text = str(value)
        if isinstance(value, cr.CheckpointError) and str(case.path) not in text:
            return f"the message does not name the file: {text[:200]}"
        return None
    if path_name in case.must_refuse:
        return "accepted, but this file must be refused"
    exact = case.base is not None and same(value, expected[case.base])
    if case.exact and not exact:
        return "accepted, but the result differs from the file it was corrupted from"
    if path_name == "load":
        torch_file = case.base is not None and case.base.startswith("torch")
        if torch_file and exact:
            return None  # PyTorch's zip reader may refuse zip metadata chainrule never reads
        ref = reference(case.path.read_bytes(), torch_file)
        if ref is None:
            return "accepted, but the reference reader refuses it"
        got = flat_tensors(value)
        if sorted(got) != sorted(ref) or not all(same(got[k], ref[k]) for k in got):
            return "accepted, but its tensors differ from the reference reader's"
    return None


# ---- the corpus -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    global OBJECTS
    OBJECTS = Objects()
    folder = tmp_path_factory.mktemp("corpus")
    marker = tmp_path_factory.mktemp("payloads") / "PWNED"
    cases, bases = build(folder, marker)
    expected = {path_name: {} for path_name in PATHS}
    for name, base in bases.items():
        for path_name in PATHS:
            OBJECTS.fresh()  # building a model moved the global generator
            outcome, value = attempt(path_name, base.path)
            if outcome == "ok":
                expected[path_name][name] = value
            else:  # only the training checkpoints resume
                assert path_name in ("resume", "fit") and not base.training, (name, value)
                assert outcome == "refused", (name, path_name, value)
    return SimpleNamespace(cases=cases, bases=bases, marker=marker, expected=expected)


def test_the_corpus(corpus):
    counts = collections.Counter(c.category for c in corpus.cases)
    assert len(corpus.cases) >= 800, counts
    assert sum(c.must_refuse == ALL for c in corpus.cases) >= 450  # refused by every path
    for category in ("truncation", "bit flip in the header", "bit flip in the data",
                     "bit flip in a pickle",
                     "header edit", "forged header edit", "JSON bomb or length",
                     "forged structure", "forged training field", "foreign format",
                     "pickle payload", "random bytes", "not a regular file"):
        assert counts[category] >= 5, (category, counts)
    # The base files load, and as the reference readers read them.
    for base in corpus.bases.values():
        got = flat_tensors(corpus.expected["load"][base.name])
        ref = reference(base.raw, base.kind == "torch")
        assert sorted(got) == sorted(ref) and all(same(got[k], ref[k]) for k in got), base.name


def test_the_payloads_would_run(tmp_path):
    # Proof that the payload files are live: Python's own pickle runs them.
    import pickle

    from checkpoint_corpus import _payload_pickles

    live = tmp_path / "LIVE"
    pickle.loads(_payload_pickles(live)["pickle_os_system_p2"])
    assert live.exists()


@pytest.mark.parametrize("path_name", PATHS)
def test_every_file_through_every_loading_path(corpus, path_name):
    failures, outcomes = [], collections.Counter()
    OBJECTS.fresh()
    for case in corpus.cases:
        outcome, value = attempt(path_name, case.path)
        outcomes[outcome] += 1
        why = judge(path_name, case, outcome, value, corpus.expected[path_name])
        if why:
            failures.append(f"{case.name} [{case.category}]: {why}")
    assert not corpus.marker.exists(), "a pickle payload ran"
    assert not failures, f"{len(failures)} of {len(corpus.cases)} files:\n" + "\n".join(
        failures[:60])
    assert outcomes["refused"] >= sum(path_name in c.must_refuse for c in corpus.cases)
