"""``Op``, the base class of every differentiable primitive, and the registry of public names.

An op is one class: what it computes (``forward``), its chain-rule step (``backward``), and its
entry in the registry (public name, Tensor method or not, dtype promotion, kind). Defining the
class registers it; everything that lists ops reads the registry instead of its own table:

- ``cr.<name>`` and ``chainrule.functional.<name>`` (``export_to``),
- ``Tensor.<name>`` for ops declared ``method = True`` (``bind_methods_to``),
- the promotion of integer inputs to the default float dtype (``promote = "float"``),
- the op table's meta-test (every registered op has a gradcheck row),
- the tools: explain's naming of activations and infix symbols, and the dead / saturated unit
  checks of ``why_no_grad``, ``explain`` and the gradient monitor (``gate`` and ``slope``).

Functions built from several primitives (``rsqrt``, ``flatten``, ``max``) have no rule of their
own; ``@public(...)`` registers them by name in the same table.

Example:
    >>> import numpy as np
    >>> import chainrule as cr
    >>> from chainrule.ops import lookup
    >>> lookup("exp").op.kind, lookup("exp").method, lookup("sigmoid").op.gate
    ('elementwise', True, 'saturates')
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass

from .._fpstate import quietly
from ..autograd.graph import apply as _record
from ..tensor import Tensor
from ._util import as_tensor, pair, real_only, to_float

KINDS = frozenset({
    "elementwise",  # one output entry from the same entry of each input (broadcasting)
    "activation",  # an elementwise nonlinearity of a layer's output (or softmax-like)
    "reduction",  # sums, means, extrema over dims
    "linalg",  # matrix products and dense layers
    "shape",  # reshapes, transposes, concatenation, padding: values are moved, not changed
    "indexing",  # getitem and scatter-adds
    "convolution",  # convolution, unfold / fold
    "pooling",
    "normalization",  # batch / layer / group norm
    "loss",
    "embedding",
    "dropout",
    "conversion",  # dtype casts and copies
    "other",
})
# "float_only": integer and bool inputs are refused, as PyTorch's float-only kernels refuse them
PROMOTIONS = ("none", "common", "float", "float_only")
# Kinds whose ops move values without computing with them: complex tensors pass through.
_MOVES_VALUES = frozenset({"shape", "indexing", "conversion"})


class Op:
    """Base class of a differentiable primitive.

    A subclass defines two plain functions (never instantiated, so no ``self``):

    - ``forward(*arrays, **attrs) -> array`` (or ``(array, saved)`` when ``saves = True``);
    - ``backward(F, g, out, *inputs, **attrs) -> tuple`` of one gradient per input (``None`` for
      "no gradient"). ``F`` is a backend namespace (``chainrule.ops.backends``): NumPy functions
      for a plain backward, the differentiable chainrule functions under ``create_graph=True``;
      ``g``, ``out`` and ``inputs`` are arrays or tensors to match. Writing the rule once against
      ``F`` is what gives higher-order gradients for free. Gradients may have the broadcast
      shape: the engine sums them back to each input's shape.

    and optionally ``call(...)``, its public function (the signature users call). Without one,
    the op's inputs are its arguments (``cr.exp(x)``). The class docstring documents the public
    function; ``formula`` (and ``latex``) state the local derivative, shown by ``cr.explain``.
    """

    # ---- read by the engine ----------------------------------------------------------------
    name = "op"  # the primitive's name in graphs and errors (snake case of the class name)
    saves = False
    # True: the rule also gets ``needs_input_grad`` (one bool per input, PyTorch's name) so it can
    # skip work nobody uses, e.g. a dense layer's input gradient when the input is the data.
    pass_needs_input_grad = False
    # True: in a plain backward the rule returns gradients in new arrays that alias nothing (no
    # input, output, saved value, upstream g or other returned gradient), or the upstream ``g``
    # itself when it was given ``F.owns_g``. The engine then owns them (see autograd.engine).
    fresh_grads = False
    # True: the forward or the rule can give inf or NaN from ordinary inputs (log of 0, x / 0,
    # sqrt of a negative number). Both then run with NumPy's floating-point warnings off
    # (``chainrule._fpstate``), silent as in PyTorch. Declared per op because that costs about
    # 0.4 us a call: ops that warn only on overflow or inf * 0 (add, mul, matmul) skip it.
    quiet = False
    # ---- the registry entry ----------------------------------------------------------------
    public: str | None = ""  # the public name; "" means ``name``; None: internal only
    method = False  # also a Tensor method
    aliases: tuple = ()  # more public names for the same function (``clip`` for ``clamp``)
    # "common": inputs to their common dtype; "float": also ints to float; "float_only": ints
    # and bools refused (PyTorch's gelu, softmax...)
    promote = "none"
    # complex inputs computed with (None: only ops that move values, see _MOVES_VALUES); every
    # other op refuses them with NotSupportedError
    complex_ok: bool | None = None
    bools_ok = True  # False: bool inputs refused, as PyTorch's kernel refuses them (abs, floor)
    kind = "other"  # one of KINDS
    elementwise: bool | None = None  # None: True for the elementwise and activation kinds
    # ---- read by the tools -----------------------------------------------------------------
    formula = ""
    latex = ""
    symbol = ""  # infix symbol in explanations (``a + b``, ``-x``, ``x ^ 2``)
    # "dies": the local derivative is exactly 0 over part of the range (ReLU); "saturates": it
    # tends to 0 at both ends (sigmoid, tanh). Then ``slope(out)`` is the local derivative
    # read off the output, and ``max_slope`` its largest value.
    gate: str | None = None
    max_slope = 1.0
    nan_hint = ""  # why the forward usually goes non-finite (shown by detect_anomaly)
    nan_grad_hint = ""  # why the rule usually does
    title: str | None = None  # the op's name in sentences ("ReLU"); None: ``name``
    dead_when: str | None = None  # where a "dies" op passes nothing ("z <= 0")

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()
        if cls.kind not in KINDS:
            raise ValueError(f"{cls.__name__}: kind {cls.kind!r} is not one of {sorted(KINDS)}")
        if cls.promote not in PROMOTIONS:
            raise ValueError(f"{cls.__name__}: promote must be one of {PROMOTIONS}")
        if cls.elementwise is None:
            cls.elementwise = cls.kind in ("elementwise", "activation")
        if cls.complex_ok is None:
            cls.complex_ok = cls.kind in _MOVES_VALUES
        if cls.public == "":
            cls.public = cls.name
        if cls.__dict__.get("quiet"):
            for attr in ("forward", "backward"):
                if attr in cls.__dict__:
                    setattr(cls, attr, _quietly(cls.__dict__[attr]))
        register_op(cls)

    def forward(*arrays, **attrs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(F, g, out, *inputs, **attrs):  # pragma: no cover - abstract
        raise NotImplementedError

    def slope(out):  # pragma: no cover - only for gated ops
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **attrs) -> Tensor:
        """Convert ``inputs`` to tensors, promote their dtypes as declared, run and record."""
        promote = cls.promote
        name = cls.public or cls.name
        if len(inputs) == 1:
            x = inputs[0]
            if type(x) is not Tensor:
                x = as_tensor(x, name)
            if x._data.dtype.kind != "f":
                x = not_float(cls, x, "input")
            return _record(cls, (x,), attrs or None)
        if promote == "none":
            xs = tuple(as_tensor(x, name, f"input{i or ''}") for i, x in enumerate(inputs))
            if not cls.complex_ok:
                for i, x in enumerate(xs):
                    if x._data.dtype.kind == "c":
                        not_float(cls, x, f"input{i or ''}")
        elif len(inputs) == 2:
            xs = pair(inputs[0], inputs[1], name)
            if xs[0]._data.dtype.kind != "f":  # both have one dtype now
                xs = (not_float(cls, xs[0], "input"), not_float(cls, xs[1], "other"))
        else:  # pragma: no cover - no op with three promoted inputs yet
            raise NotImplementedError(f"{cls.__name__}: promotion of {len(inputs)} inputs")
        return _record(cls, xs, attrs or None)

    @classmethod
    def record(cls, *tensors, **attrs):
        """Run and record on tensors already converted (no promotion): for ``call`` bodies."""
        return _record(cls, tensors, attrs or None)


def not_float(op, x: Tensor, arg: str) -> Tensor:
    """An input of ``op`` whose dtype is not floating: promoted, kept or refused as the op
    declares (``promote``, ``complex_ok``); PyTorch's rules."""
    kind = x._data.dtype.kind
    if kind == "c":
        if op.complex_ok:
            return x
        real_only(x, op.public or op.name, arg)
    if kind == "b" and not op.bools_ok:
        from .._validate import say

        raise TypeError(say("dtype_bool", op=op.public or op.name, arg=arg))
    if kind in "biu":
        if op.promote == "float":
            return to_float(x)
        if op.promote == "float_only":
            from .._validate import floating

            floating(x, op.public or op.name, arg)
    return x


def _quietly(fn):
    """``fn`` run with NumPy's floating-point warnings off (for ops declared ``quiet``)."""
    if isinstance(fn, staticmethod):
        fn = fn.__func__
    run = quietly(fn)
    run.__wrapped__ = fn  # _arity reads the real signature
    return run


# ---- the registry --------------------------------------------------------------------------


@dataclass
class Entry:
    """One public name: the function, whether it is a Tensor method, and the op behind it."""

    name: str
    function: Callable
    method: bool
    kind: str
    op: type[Op] | None  # the primitive when the function is one op; None for composites


_OPS: list = []  # every primitive, public or not, in definition order
_ENTRIES: dict[str, Entry] = {}  # public name (aliases included) -> entry
_NAMESPACES: list[dict] = []  # module dicts that receive every public function
_METHOD_OWNERS: list[type] = []  # classes that receive every method


def register_op(op: type[Op]) -> None:
    """Add a primitive (called by ``Op.__init_subclass__``); public ones get their function."""
    _OPS.append(op)
    if op.public is None:
        return
    fn = op.__dict__.get("call") or _default_call(op)
    op.call = fn
    _name_function(fn, op.public, op.__doc__, op.__module__)
    for name in (op.public,) + tuple(op.aliases):
        _add(Entry(name, fn, op.method, op.kind, op))


def public(*, method: bool = False, kind: str = "other", aliases: tuple = (),
           name: str | None = None) -> Callable:
    """Register a function built from primitives under its (or ``name``'s) public name.

    Example:
        >>> import chainrule as cr
        >>> from chainrule.ops import lookup
        >>> lookup("rsqrt").op is None, cr.tensor([4.0]).rsqrt().tolist()
        (True, [0.5])
    """
    if kind not in KINDS:
        raise ValueError(f"public(): kind {kind!r} is not one of {sorted(KINDS)}")

    def decorate(fn):
        for n in ((name or fn.__name__),) + tuple(aliases):
            _add(Entry(n, fn, method, kind, None))
        return fn

    return decorate


def _add(entry: Entry) -> None:
    _ENTRIES[entry.name] = entry
    for ns in _NAMESPACES:
        ns[entry.name] = entry.function
    if entry.method:
        for cls in _METHOD_OWNERS:
            setattr(cls, entry.name, entry.function)


def unregister(op_or_name) -> None:
    """Remove an op (and its public names) or a public name: for tests that define ops."""
    if isinstance(op_or_name, str):
        names = [op_or_name]
    else:
        if op_or_name in _OPS:
            _OPS.remove(op_or_name)
        names = [n for n, e in _ENTRIES.items() if e.op is op_or_name]
    for n in names:
        entry = _ENTRIES.pop(n, None)
        if entry is None:
            continue
        for ns in _NAMESPACES:
            if ns.get(n) is entry.function:
                del ns[n]
        if entry.method:
            for cls in _METHOD_OWNERS:
                if cls.__dict__.get(n) is entry.function:
                    delattr(cls, n)


def export_to(namespace: dict) -> None:
    """Put every public function into ``namespace`` (a module's globals), now and later."""
    _NAMESPACES.append(namespace)
    for name, entry in _ENTRIES.items():
        namespace[name] = entry.function


def bind_methods_to(cls: type) -> None:
    """Make every function declared a method a method of ``cls``, now and later."""
    _METHOD_OWNERS.append(cls)
    for name, entry in _ENTRIES.items():
        if entry.method:
            setattr(cls, name, entry.function)


def lookup(name: str) -> Entry:
    """The registry entry of a public name (``KeyError`` if there is none)."""
    return _ENTRIES[name]


def entries() -> dict[str, Entry]:
    """Every public name and its entry (a copy)."""
    return dict(_ENTRIES)


def all_ops() -> list:
    """Every registered primitive, public or internal, in definition order."""
    return list(_OPS)


def ops_of_kind(*kinds: str) -> list:
    return [op for op in _OPS if op.kind in kinds]


def gated_ops() -> dict:
    """``{op name: op}`` of the ops whose units can die or saturate."""
    return {op.name: op for op in _OPS if op.gate}


# ---- generated public functions -----------------------------------------------------------


def _default_call(op):
    """``op.call`` for an op whose arguments are just its inputs (PyTorch's parameter names)."""
    n = _arity(op)
    if n == 1:
        name = op.public

        def call(input):  # noqa: A002
            # Op.apply for one input, inlined: cr.relu(x) and x.exp() run once per op call
            x = input if type(input) is Tensor else as_tensor(input, name)
            if x._data.dtype.kind != "f":
                x = not_float(op, x, "input")
            return _record(op, (x,), None)
    elif n == 2:
        def call(input, other):  # noqa: A002
            return op.apply(input, other)
    else:
        raise TypeError(f"{op.__name__}: an op with {n} inputs or with attributes needs its own "
                        "call(...) giving its public signature")
    return call


def _arity(op) -> int:
    """How many inputs ``op.forward`` takes (-1 when it takes ``*args`` or keywords)."""
    fwd = inspect.unwrap(op.__dict__.get("forward", op.forward))
    nin = getattr(fwd, "nin", None)  # a NumPy ufunc
    if nin is not None:
        return nin
    code = getattr(fwd, "__code__", None)
    if code is None or code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS) or \
            code.co_kwonlyargcount:
        return -1
    return code.co_argcount


def _name_function(fn, name: str, doc: str | None, module: str) -> None:
    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = module
    if doc:
        fn.__doc__ = doc
