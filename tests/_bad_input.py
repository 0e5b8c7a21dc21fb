"""The bad-input harness: call a public callable on chainrule and on PyTorch with hostile
arguments and judge chainrule's outcome against PyTorch's.

A *spec* (see ``_bad_input_table.py``) is one good call: the callable's name and its arguments
written as argument specs (``T(2, 3)`` a float tensor, ``I(...)`` an index tensor, ``V(3)`` a
plain value, ``Ts(...)`` a list of tensors). The harness first runs the good call, then, for
every argument in turn, each *category* of bad input that fits its kind (``None``, strings,
ragged lists, object / complex / bool / uint8 / int64 tensors, a wrong rank, a mismatched
shape, an empty tensor, NaN and inf, negative and out-of-range indices, negative, zero and huge
sizes). Each call runs under a short timer and a cap on memory, on both libraries, and gets
one verdict:

- ``ok``: both returned and the values agree (shape, dtype, values, NaN where PyTorch has NaN),
  or both raised and chainrule's error is *clean*: a ``TypeError``, ``ValueError``,
  ``IndexError`` or ``RuntimeError`` (``NotSupportedError`` included) raised by chainrule's own
  code (not from inside NumPy) whose message names the function;
- ``raw``: chainrule raised anything else (``ZeroDivisionError``, ``KeyError``,
  ``AttributeError``, ``OverflowError``, ``MemoryError``...), an error from inside NumPy, or a
  message that does not name the function;
- ``hang``: chainrule ran past the timer;
- ``accepts``: PyTorch refused, chainrule returned (unless the table lists the difference as
  deliberate, with its reason);
- ``refuses``: PyTorch returned, chainrule refused (the same);
- ``wrong``: both returned, the values differ.

Where PyTorch has no twin, only ``raw`` and ``hang`` count. ``python tests/_bad_input.py``
prints the counts per verdict and category.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import math
import os
import re
import resource
import signal
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

import chainrule as cr

TIMEOUT_S = 2.0
CLEAN = (TypeError, ValueError, IndexError, RuntimeError)


class Timeout(BaseException):
    """Raised by the timer inside a call that ran too long (a BaseException, so no op code's
    ``except Exception`` swallows it)."""


# ---- argument specs -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class T:
    """A tensor argument: ``T(2, 3)`` float32 normal values; ``dist`` picks other values."""

    shape: tuple
    dist: str = "normal"  # normal, pos, prob (0..1), unit (-0.9..0.9), bin (0 or 1), sign (+-1)
    dtype: str = "float32"
    grad: bool = False  # requires_grad (gradients are compared when both libraries succeed)

    def __init__(self, *shape, dist="normal", dtype="float32", grad=False):
        object.__setattr__(self, "shape", tuple(shape))
        object.__setattr__(self, "dist", dist)
        object.__setattr__(self, "dtype", dtype)
        object.__setattr__(self, "grad", grad)

    def array(self, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        s = self.shape
        d = {
            "normal": lambda: rng.standard_normal(s),
            "pos": lambda: rng.uniform(0.5, 2.0, s),
            "prob": lambda: rng.uniform(0.1, 0.9, s),
            "unit": lambda: rng.uniform(-0.9, 0.9, s),
            "bin": lambda: (rng.random(s) > 0.5).astype(np.float64),
            "sign": lambda: np.where(rng.random(s) > 0.5, 1.0, -1.0),
            "ints": lambda: rng.integers(0, 3, s).astype(np.float64),
        }[self.dist]()
        return np.asarray(d, dtype=self.dtype)


@dataclasses.dataclass(frozen=True)
class I:  # noqa: E742 - the index-tensor spec, next to T
    """An integer index tensor (int64) with literal values, indexing a dim of ``size``."""

    data: Any
    size: int

    def array(self, seed: int) -> np.ndarray:
        return np.asarray(self.data, dtype=np.int64)


@dataclasses.dataclass(frozen=True)
class B:
    """A bool tensor with literal values (masks)."""

    data: Any

    def array(self, seed: int) -> np.ndarray:
        return np.asarray(self.data, dtype=bool)


@dataclasses.dataclass(frozen=True)
class V:
    """A plain value (int, float, str, bool, tuple of ints) passed unchanged to both libraries.
    ``kind`` overrides the mutation family (``"dim"`` for a dimension, ``"size"`` for a size or
    kernel, ``"prob"`` for a probability, ``"fixed"`` for none)."""

    value: Any
    kind: str = ""

    def family(self) -> str:
        if self.kind:
            return self.kind
        v = self.value
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, int):
            return "int"
        if isinstance(v, float):
            return "float"
        if isinstance(v, str):
            return "str"
        if isinstance(v, tuple) and all(isinstance(e, int) for e in v):
            return "ints"
        return "fixed"


@dataclasses.dataclass(frozen=True)
class Ts:
    """A list of tensor specs (``cat``, ``stack``, ``TensorDataset``'s tensors)."""

    items: tuple

    def __init__(self, *items):
        object.__setattr__(self, "items", tuple(items))


@dataclasses.dataclass(frozen=True)
class Lib:
    """Something built per library by ``make(lib)`` (a dataset, an inner scheduler...);
    never mutated."""

    make: Callable
    label: str = ""


@dataclasses.dataclass(frozen=True)
class Raw:
    """A hostile value used as is, for both libraries (what a mutation substitutes)."""

    value: Any


# ---- the namespaces of both libraries ----------------------------------------------------------


class Side:
    """One library's view: ``cr`` or ``torch``, with its tensor maker and namespaces."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "cr":
            import chainrule.data
            import chainrule.nn
            import chainrule.optim  # noqa: F401

            self.mod, self.nn, self.F = cr, cr.nn, cr.nn.functional
            self.optim, self.sched, self.data = cr.optim, cr.optim.lr_scheduler, cr.data
            self.linalg = cr.linalg
            self.Tensor = cr.Tensor
        else:
            import torch.utils.data

            self.mod, self.nn, self.F = torch, torch.nn, torch.nn.functional
            self.optim, self.sched = torch.optim, torch.optim.lr_scheduler
            self.data, self.linalg, self.Tensor = torch.utils.data, torch.linalg, torch.Tensor

    def tensor(self, array: np.ndarray, grad: bool = False):
        if self.name == "cr":
            return cr.tensor(array.copy(), requires_grad=grad)
        return torch.tensor(array.copy(), requires_grad=grad)


CR, TH = Side("cr"), Side("torch")


def build(spec, side: Side, seed: int, leaves: list):
    """The library value of an argument spec (tensors that require grad go to ``leaves``)."""
    if isinstance(spec, T):
        t = side.tensor(spec.array(seed), grad=spec.grad)
        if spec.grad:
            leaves.append(t)
        return t
    if isinstance(spec, (I, B)):
        return side.tensor(spec.array(seed))
    if isinstance(spec, V):
        return spec.value
    if isinstance(spec, Raw):
        return spec.value
    if isinstance(spec, Ts):
        return [build(s, side, seed + 17 * k, leaves) for k, s in enumerate(spec.items)]
    if isinstance(spec, Lib):
        return spec.make(side)
    if isinstance(spec, TensorArray):
        return side.tensor(spec.array)
    return spec


@dataclasses.dataclass(frozen=True)
class TensorArray:
    """A ready array that becomes a tensor on both sides (a mutation's bad tensor)."""

    array: np.ndarray

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other


# ---- the categories of bad input -----------------------------------------------------------

RAGGED = [[1.0, 2.0], [3.0]]
OBJECTS = np.array([1.0, "a"], dtype=object)
HUGE = 2 ** 62


def tensor_mutations(spec: T, seed: int) -> dict:
    a = spec.array(seed)
    out = {
        "none": Raw(None), "str": Raw("abc"), "ragged": Raw(RAGGED), "object": Raw(OBJECTS),
        "complex": TensorArray(a.astype(np.complex64)),
        "bool": TensorArray(a > 0),
        "uint8": TensorArray((np.abs(a) * 3).astype(np.uint8)),
        "int64": TensorArray(np.round(a * 2).astype(np.int64)),
        "float64": TensorArray(a.astype(np.float64)),
        "rank0": TensorArray(np.asarray(a.reshape(-1)[0] if a.size else 1.0, dtype=a.dtype)),
        "rank_more": TensorArray(a[None]),
        "empty": TensorArray(np.zeros((0,) + a.shape[1:], dtype=a.dtype)),
    }
    if a.ndim:
        out["rank_less"] = TensorArray(a[..., 0])
        out["mismatch"] = TensorArray(np.resize(a, a.shape[:-1] + (a.shape[-1] + 1,)))
    if a.size >= 3 and a.dtype.kind == "f":
        b = a.copy()
        b.reshape(-1)[:3] = [np.nan, np.inf, -np.inf]
        out["nonfinite"] = TensorArray(b)
    return out


def index_mutations(spec: I) -> dict:
    a = spec.array(0)
    return {
        "none": Raw(None), "str": Raw("abc"), "ragged": Raw([[0, 1], [0]]),
        "neg_index": TensorArray(a - spec.size),  # the same positions counted from the end
        "oob_index": TensorArray(a + spec.size),
        "float_index": TensorArray(a.astype(np.float32)),
        "int32_index": TensorArray(a.astype(np.int32)),
        "empty": TensorArray(np.zeros((0,) + a.shape[1:], dtype=np.int64)),
    }


def value_mutations(spec: V) -> dict:
    fam = spec.family()
    v = spec.value
    common = {"none": Raw(None), "str": Raw("abc")}
    if fam in ("int", "dim"):
        return {**common, "float": Raw(1.5), "neg": Raw(-1 if v else -3),
                "neg_big": Raw(-v - 7 if isinstance(v, int) else -7), "zero": Raw(0),
                "huge": Raw(HUGE), "list": Raw([v])}
    if fam == "size":
        return {**common, "float": Raw(1.5), "neg": Raw(-1), "zero": Raw(0), "huge": Raw(HUGE)}
    if fam == "ints":
        n = max(len(v), 1)
        return {**common, "empty_tuple": Raw(()), "neg": Raw((-1,) * n), "zero": Raw((0,) * n),
                "huge": Raw((HUGE,) * n), "float": Raw((1.5,) * n),
                "nested": Raw(((1,),) * n)}
    if fam == "float":
        return {**common, "nan": Raw(math.nan), "inf": Raw(math.inf), "neg": Raw(-abs(v) - 1.0)}
    if fam == "prob":
        return {**common, "nan": Raw(math.nan), "neg": Raw(-0.5), "above_one": Raw(1.5)}
    if fam == "str":
        return {"none": Raw(None), "bogus": Raw("bogus"), "int": Raw(3)}
    if fam == "bool":
        return {"str": Raw("abc")}
    if fam == "data":  # what cr.tensor / as_tensor get
        return {**common, "ragged": Raw(RAGGED), "object": Raw(OBJECTS),
                "strings": Raw([["a", "b"]]), "nested_none": Raw([1.0, None]),
                "huge_int": Raw([2 ** 70])}
    if fam == "ndarray":
        return {**common, "list": Raw([1.0, 2.0]), "object": Raw(OBJECTS),
                "strings": Raw(np.array(["a", "b"]))}
    return {}


def list_mutations(spec: Ts, seed: int) -> dict:
    out = {"none": Raw(None), "str": Raw("abc"), "empty_list": Raw([])}
    if spec.items and isinstance(spec.items[0], T):
        first = spec.items[0]
        for k, bad in tensor_mutations(first, seed).items():
            if k in ("none", "str", "object", "mismatch", "rank_more", "empty", "int64", "bool"):
                out[f"item_{k}"] = Ts(bad, *spec.items[1:])
    return out


def mutations(spec, seed: int) -> dict:
    if isinstance(spec, T):
        return tensor_mutations(spec, seed)
    if isinstance(spec, I):
        return index_mutations(spec)
    if isinstance(spec, V):
        return value_mutations(spec)
    if isinstance(spec, Ts):
        return list_mutations(spec, seed)
    if isinstance(spec, B):
        return {"none": Raw(None), "str": Raw("abc"),
                "float_mask": TensorArray(spec.array(0).astype(np.float32))}
    return {}


# ---- running one call ------------------------------------------------------------------------


@contextlib.contextmanager
def limits(seconds: float = TIMEOUT_S):
    """A wall-clock timer (``Timeout``) and a cap of 4 GiB above the current address space,
    so a call that would allocate tens of GiB fails fast instead of swapping the machine."""

    def fire(signum, frame):
        raise Timeout(f"ran longer than {seconds} s")

    old_handler = signal.signal(signal.SIGALRM, fire)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _vm_bytes() + (4 << 30)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _vm_bytes() -> int:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def outcome(fn: Callable, seconds: float = TIMEOUT_S) -> tuple[str, Any]:
    """("ok", value) or ("raised", exception), warnings silenced, under ``limits``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with limits(seconds):
                return "ok", fn()
        except Timeout as e:
            return "hang", e
        except Exception as e:  # noqa: BLE001 - the exception is the outcome
            return "raised", e


def _frames(e: BaseException) -> list:
    return traceback.extract_tb(e.__traceback__)


def raw_reason(e: BaseException, names: tuple[str, ...]) -> str | None:
    """Why chainrule's exception ``e`` is not a clean refusal, or None when it is."""
    if isinstance(e, cr.NotSupportedError):
        return None if _names_one(str(e), names) else "message does not name the function"
    if not isinstance(e, CLEAN):  # (IntegerDivisionError is both a RuntimeError and a
        return f"bare {type(e).__name__}"  # ZeroDivisionError: clean)
    frames = _frames(e)
    if frames:
        last = frames[-1].filename.replace(os.sep, "/")
        if "/numpy/" in last or "/site-packages/" in last and "chainrule" not in last:
            return f"raised inside NumPy ({os.path.basename(last)})"
    if not _names_one(str(e), names):
        return "message does not name the function"
    return None


def _names_one(msg: str, names: tuple[str, ...]) -> bool:
    low = msg.lower()
    return any(n.lower() in low for n in names)


# ---- comparing results -------------------------------------------------------------------------


def to_plain(x, depth: int = 0):
    """A library result as nested tuples of ('t', dtype name, array) and Python values."""
    if depth > 6:
        return "<deep>"
    if isinstance(x, cr.Tensor):
        return ("t", str(x.dtype), np.array(x.detach().numpy()))
    if isinstance(x, torch.Tensor):
        return ("t", str(x.dtype).removeprefix("torch."), x.detach().cpu().numpy().copy())
    if isinstance(x, np.ndarray):
        return ("t", str(x.dtype), x)
    if isinstance(x, (list, tuple)):
        return tuple(to_plain(v, depth + 1) for v in x)
    if isinstance(x, dict):
        return tuple((k, to_plain(v, depth + 1)) for k, v in sorted(x.items(), key=str))
    if isinstance(x, (bool, int, float, str, type(None), np.generic)):
        return x.item() if isinstance(x, np.generic) else x
    return f"<{type(x).__name__}>"


_DTYPE_ALIAS = {"bool_": "bool", "float": "float32"}


def differ(a, b, rtol: float, atol: float, values: bool = True) -> str | None:
    """Where chainrule's plain result ``a`` differs from PyTorch's ``b`` (None: they agree)."""
    if isinstance(a, tuple) and len(a) == 3 and a and a[0] == "t":
        if not (isinstance(b, tuple) and len(b) == 3 and b[0] == "t"):
            return f"tensor vs {type(b).__name__}"
        (_, da, xa), (_, db, xb) = a, b
        da, db = _DTYPE_ALIAS.get(da, da), _DTYPE_ALIAS.get(db, db)
        if xa.shape != xb.shape:
            return f"shape {xa.shape} vs torch {xb.shape}"
        if da != db:
            return f"dtype {da} vs torch {db}"
        if not values or xa.size == 0:
            return None
        if xa.dtype.kind in "fc":
            if not np.array_equal(np.isnan(xa), np.isnan(xb)):
                return "NaN in different places"
            ok = np.isclose(xa, xb, rtol=rtol, atol=atol, equal_nan=True)
            if not ok.all():
                i = np.argwhere(~ok)[0]
                return f"value {xa[tuple(i)]} vs torch {xb[tuple(i)]} at {tuple(i)}"
            return None
        return None if np.array_equal(xa, xb) else "integer values differ"
    if isinstance(a, tuple) and isinstance(b, tuple):
        if len(a) != len(b):
            return f"{len(a)} results vs torch {len(b)}"
        for k, (u, w) in enumerate(zip(a, b)):
            d = differ(u, w, rtol, atol, values)
            if d:
                return f"[{k}] {d}"
        return None
    if isinstance(a, float) and isinstance(b, (float, int)):
        if math.isnan(a) and math.isnan(b):
            return None
        return None if not values or math.isclose(a, b, rel_tol=rtol, abs_tol=atol) else \
            f"{a} vs torch {b}"
    if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        return f"{type(a).__name__} vs torch {type(b).__name__}"
    if values and a != b and not (isinstance(a, str) and a.startswith("<")):
        return f"{a!r} vs torch {b!r}"
    return None


# ---- specs of callables ----------------------------------------------------------------------


@dataclasses.dataclass
class Spec:
    """One public callable and a good call of it.

    ``where`` is the namespace on each side (``mod``, ``F``, ``nn``, ``linalg``, ``optim``,
    ``sched``, ``data``); ``torch_name`` the twin's name (``None``: no twin; ``""``: same name).
    For classes, ``call`` holds the arguments of the forward call (or the per-kind driver's).
    """

    name: str
    where: str
    args: tuple = ()
    kwargs: dict = dataclasses.field(default_factory=dict)
    call: tuple = ()  # forward arguments of a layer
    kind: str = "fn"  # fn, layer, optim, sched, data
    torch_name: str | None = ""
    random: bool = False  # results are random: compare shapes and dtypes only
    rtol: float = 1e-4
    atol: float = 1e-5
    names: tuple = ()  # more names an error may use for the function
    fixed: tuple = ()  # positions / keywords never mutated
    # (argument, category) pairs where PyTorch itself crashes the process: chainrule alone runs
    torch_crashes: tuple = ()
    # a custom driver: runner(side, target, args, kwargs, call, leaves, ctx) -> result
    runner: Callable | None = None

    @property
    def id(self) -> str:
        return f"{self.where}.{self.name}"

    def error_names(self) -> tuple:
        """The names an error message may use for the function: its own, the primitive's
        behind an alias (``subtract`` is ``sub``), a layer's functional name (``MSELoss``,
        ``mse_loss``)."""
        base = [self.name, self.name.rstrip("_")]
        if self.where in ("mod", "F"):
            from chainrule.ops import entries

            entry = entries().get(self.name)
            if entry is not None:
                base.append(entry.function.__name__)
                if entry.op is not None:
                    base.append(entry.op.public or entry.op.name)
        if self.kind == "layer":
            snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_",
                           self.name).lower()
            # a layer's error may name its functional form (BatchNorm2d: batch_norm)
            base += [snake, snake.removesuffix("_loss"), re.sub(r"_?[123]d$", "", snake)]
            if snake.startswith("lazy_"):  # LazyConv2d's errors are Conv2d's
                base += [self.name[4:], re.sub(r"_?[123]d$", "", snake[5:])]
        return tuple(base) + tuple(self.names)


def _target(side: Side, spec: Spec):
    ns = getattr(side, spec.where)
    name = spec.name if side is CR or not spec.torch_name else spec.torch_name
    if side is TH and spec.where == "mod" and not hasattr(ns, name):
        ns = side.F  # cr.fold, cr.pad...: torch has them in nn.functional only
    return getattr(ns, name)


def run_side(spec: Spec, side: Side, argspecs: tuple, kwspecs: dict, call: tuple, ctx: dict):
    """One library's outcome (kind, value, gradients) of the call with these argument specs."""
    leaves: list = []

    def go():
        target = _target(side, spec)
        args = [build(a, side, 7 * k, leaves) for k, a in enumerate(argspecs)]
        kwargs = {k: build(v, side, 31 + 7 * n, leaves) for n, (k, v) in enumerate(kwspecs.items())}
        runner = spec.runner or (run_layer if spec.kind == "layer" else run_function)
        return runner(side, target, args, kwargs, call, leaves, ctx)

    # PyTorch imports parts of itself (sympy...) on first use: a timer cutting that short would
    # leave a half-imported module behind, so only chainrule runs on the short timer
    kind, val = outcome(go, TIMEOUT_S if side is CR else 60.0)
    grads = None
    if kind == "ok" and leaves:
        grads = _grads(val, leaves, side)
    return kind, val, grads


def run_function(side, fn, args, kwargs, call, leaves, ctx):
    return fn(*args, **kwargs)


def run_layer(side, cls, args, kwargs, call, leaves, ctx):
    """Build the layer, give PyTorch's twin chainrule's parameter values, run the forward."""
    mod = cls(*args, **kwargs)
    if side is CR:
        ctx["module"] = mod
    elif "module" in ctx:
        _copy_params(ctx["module"], mod)
    fwd = [build(a, side, 100 + 7 * k, leaves) for k, a in enumerate(call)]
    return mod(*fwd)


def _grads(val, leaves, side):
    """Gradients of the sum of the float outputs with respect to the leaves (or a failure)."""
    outs = [v for v in _flat(val) if isinstance(v, side.Tensor) and v.requires_grad
            and v.dtype in (cr.float32, cr.float64, torch.float32, torch.float64)]
    if not outs:
        return None

    def go():
        total = sum(o.sum() for o in outs)
        if side is CR:
            gs = cr.autograd.grad(total, leaves, allow_unused=True)
        else:
            gs = torch.autograd.grad(total, leaves, allow_unused=True)
        # no gradient (None) and a zero gradient are the same answer
        return [np.zeros(tuple(x.shape), _np_dtype(x)) if g is None else g
                for g, x in zip(gs, leaves)]

    return outcome(go)


def _np_dtype(x):
    return x.dtype if isinstance(x, cr.Tensor) else str(x.dtype).removeprefix("torch.")


def _flat(x):
    if isinstance(x, (list, tuple)):
        for v in x:
            yield from _flat(v)
    else:
        yield x


def _copy_params(src, dst) -> None:
    """chainrule's parameter and buffer values into the PyTorch twin (same names)."""
    theirs = dict(dst.named_parameters()) | dict(dst.named_buffers())
    for name, p in list(src.named_parameters()) + list(src.named_buffers()):
        t = theirs.get(name)
        if t is None or p is None or isinstance(t, torch.nn.parameter.UninitializedTensorMixin):
            continue  # (a lazy layer's parameters exist only after its first call)
        a = np.asarray(p.detach().numpy())
        if tuple(t.shape) == a.shape:
            with torch.no_grad():
                t.copy_(torch.from_numpy(a.copy()))


@dataclasses.dataclass
class Verdict:
    spec: str
    arg: str
    category: str
    verdict: str  # ok, raw, hang, accepts, refuses, wrong
    detail: str = ""


def judge(spec: Spec, argspecs, kwspecs, call, arg: str, category: str, allowed) -> Verdict:
    """Run both libraries and give the verdict (``allowed(spec id, arg, category, verdict)``
    returns a reason when a difference from PyTorch is deliberate)."""
    ctx: dict = {}
    ck, cv, cg = run_side(spec, CR, argspecs, kwspecs, call, ctx)
    if spec.torch_name is None or (arg, category) in spec.torch_crashes:
        tk, tv, tg = "absent", None, None
    else:
        tk, tv, tg = run_side(spec, TH, argspecs, kwspecs, call, ctx)

    def v(verdict, detail=""):
        if verdict != "ok" and category != "good" and allowed(spec.id, arg, category, verdict):
            return Verdict(spec.id, arg, category, "ok", f"deliberate: {detail}")
        return Verdict(spec.id, arg, category, verdict, detail)

    if ck == "hang":
        return v("hang", str(cv))
    if ck == "raised":
        why = raw_reason(cv, spec.error_names())
        if why:
            return v("raw", f"{why}: {type(cv).__name__}: {str(cv)[:200]}")
        if tk == "ok":
            if isinstance(cv, cr.NotSupportedError):  # a documented refusal
                return v("ok", f"refused on purpose: {str(cv)[:120]}")
            return v("refuses", f"{type(cv).__name__}: {str(cv)[:200]}")
        return v("ok", f"both refuse: {type(cv).__name__}")
    if tk == "absent":
        return v("ok", "no twin")
    if tk in ("raised", "hang"):
        return v("accepts", f"torch: {type(tv).__name__}: {str(tv)[:160]}")
    d = differ(to_plain(cv), to_plain(tv), spec.rtol, spec.atol, values=not spec.random)
    if d:
        return v("wrong", d)
    if cg is not None and tg is not None and not spec.random:
        if cg[0] != "ok" and tg[0] == "ok":
            why = raw_reason(cg[1], spec.error_names()) or "gradient refused"
            return v("wrong", f"gradient: {why}: {type(cg[1]).__name__}: {str(cg[1])[:160]}")
        if cg[0] == "ok" and tg[0] == "ok":
            d = differ(to_plain(tuple(cg[1])), to_plain(tuple(tg[1])), spec.rtol, spec.atol)
            if d:
                return v("wrong", f"gradient: {d}")
    return v("ok")


def cases(spec: Spec):
    """(argument label, category, args, kwargs, forward args) for the good call and every
    mutation of one argument."""
    kw0 = dict(spec.kwargs)
    yield "-", "good", spec.args, kw0, spec.call
    for k, a in enumerate(spec.args):
        if k in spec.fixed:
            continue
        for cat, bad in mutations(a, 7 * k).items():
            args = list(spec.args)
            args[k] = bad
            yield _label(spec, k), cat, tuple(args), kw0, spec.call
    for n, (key, a) in enumerate(spec.kwargs.items()):
        if key in spec.fixed:
            continue
        for cat, bad in mutations(a, 31 + 7 * n).items():
            yield key, cat, spec.args, {**kw0, key: bad}, spec.call
    for k, a in enumerate(spec.call):
        if f"call{k}" in spec.fixed:
            continue
        for cat, bad in mutations(a, 100 + 7 * k).items():
            call = list(spec.call)
            call[k] = bad
            yield f"forward[{k}]", cat, spec.args, kw0, tuple(call)
    if spec.kind == "optim":  # a .grad the optimizer's driver assigns before each step
        for cat, bad in GRAD_MUTATIONS.items():
            yield "grad", cat, spec.args, kw0, (bad, bad)


# the .grad an optimizer's parameter (float32, shape (3,)) is given (a list: a tensor of the
# array): PyTorch refuses all but None at the assignment, and skips the parameter when None
GRAD_MUTATIONS = {
    "grad_none": None,
    "grad_str": "abc",
    "grad_array": np.zeros(3, np.float32),
    "grad_shape": [np.zeros(2, np.float32)],
    "grad_rank": [np.zeros((1, 3), np.float32)],
    "grad_dtype": [np.zeros(3, np.float64)],
    "grad_int": [np.zeros(3, np.int64)],
}


def _label(spec: Spec, k: int) -> str:
    try:
        params = list(inspect.signature(_target(CR, spec)).parameters.values())
    except (TypeError, ValueError):
        return f"arg{k}"
    if spec.kind in ("sched", "optim"):  # the driver passes the optimizer / params itself
        k += 1
    for i, p in enumerate(params):
        if p.kind is p.VAR_POSITIONAL and i <= k:
            return p.name
    return params[k].name if k < len(params) else f"arg{k}"


def sweep(spec: Spec, allowed) -> list[Verdict]:
    return [judge(spec, args, kwargs, call, arg, cat, allowed)
            for arg, cat, args, kwargs, call in cases(spec)]


def summary(verdicts: list[Verdict]) -> str:
    by = Counter(v.verdict for v in verdicts)
    cats = Counter(v.category for v in verdicts)
    lines = [f"{len(verdicts)} calls over {len({v.spec for v in verdicts})} callables, "
             f"{len(cats)} categories", "verdicts: " + ", ".join(f"{k} {n}" for k, n in
                                                               by.most_common())]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - the report
    import sys

    sys.path.insert(0, os.path.dirname(__file__))
    import _bad_input as harness  # the module the table's specs come from, not __main__
    from _bad_input_table import SPECS, allowed

    everything = []
    import time

    pattern = re.compile(sys.argv[1]) if len(sys.argv) > 1 else None
    for s in SPECS:
        if pattern is not None and not pattern.search(s.id):
            continue
        t0 = time.perf_counter()
        vs = harness.sweep(s, allowed)
        if time.perf_counter() - t0 > 1:
            print(f"slow {s.id}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        everything += vs
        for v in vs:
            if v.verdict != "ok":
                print(f"{v.verdict:8} {v.spec} {v.arg} {v.category}: {v.detail}")
    print(harness.summary(everything))
