"""ONNX mappings of the tensor ops: elementwise, reductions, shapes, indexing, matrix products.

Each mapping reproduces chainrule's forward (which is PyTorch's) with standard ONNX ops of
opset 17 to 21. Where ONNX has no single op, or its op loses precision, the mapping composes
a few (``log1p`` as ``log(u) x / (u - 1)`` with ``u = 1 + x``, accurate for tiny x).
"""

from __future__ import annotations

import math

import numpy as np

from ._convert import Call, converts

_BIG = np.iinfo(np.int64).max  # Slice's "to the end"
_SMALL = np.iinfo(np.int64).min  # Slice's "to before the start" (negative steps)

# ---- elementwise -----------------------------------------------------------------------------

_UNARY = {"neg": "Neg", "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "abs": "Abs",
          "sign": "Sign", "sin": "Sin", "cos": "Cos", "tanh": "Tanh", "sigmoid": "Sigmoid",
          "relu": "Relu", "erf": "Erf", "floor": "Floor", "ceil": "Ceil", "clone": "Identity"}
_BINARY = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow",
           "maximum": "Max", "minimum": "Min", "matmul": "MatMul"}


def _unary(op_type):
    return lambda c: c.g.op(op_type, [c.x[0]])


def _binary(op_type):
    return lambda c: c.g.op(op_type, [c.x[0], c.x[1]])


for _name, _type in _UNARY.items():
    converts(_name)(_unary(_type))
for _name, _type in _BINARY.items():
    converts(_name)(_binary(_type))


@converts("where")
def _where(c: Call):
    return c.g.op("Where", c.x[:3])


@converts("log1p")
def _log1p(c: Call):
    # log(1 + x) loses x's low bits when 1 + x rounds; log(u) * x / (u - 1) gets them back
    # (Goldberg), and u == 1 means x is below half an ulp of 1: then log1p(x) = x.
    g, x = c.g, c.x[0]
    one = c.scalar(1)
    u = g.op("Add", [x, one])
    exact = g.op("Div", [g.op("Mul", [g.op("Log", [u]), x]), g.op("Sub", [u, one])])
    return g.op("Where", [g.op("Equal", [u, one]), x, exact])


@converts("expm1")
def _expm1(c: Call):
    # (e^x - 1) x / log(e^x), Kahan's correction; x itself where e^x rounds to 1, and -1 where
    # e^x underflows to 0.
    g, x = c.g, c.x[0]
    one = c.scalar(1)
    u = g.op("Exp", [x])
    d = g.op("Sub", [u, one])
    exact = g.op("Div", [g.op("Mul", [d, x]), g.op("Log", [u])])
    exact = g.op("Where", [g.op("Equal", [u, c.scalar(0)]), c.scalar(-1), exact])
    return g.op("Where", [g.op("Equal", [u, one]), x, exact])


def _trunc(g, c, x):
    return g.op("Where", [g.op("Less", [x, c.scalar(0)]), g.op("Ceil", [x]), g.op("Floor", [x])])


@converts("trunc")
def _trunc_op(c: Call):
    return _trunc(c.g, c, c.x[0])


@converts("frac")
def _frac(c: Call):
    return c.g.op("Sub", [c.x[0], _trunc(c.g, c, c.x[0])])


@converts("round")
def _round(c: Call):
    g, x, decimals = c.g, c.x[0], c.attr("decimals")
    if not decimals:
        return g.op("Round", [x])
    scale = c.scalar(10.0 ** decimals)
    return g.op("Div", [g.op("Round", [g.op("Mul", [x, scale])]), scale])


@converts("remainder")
def _remainder(c: Call):
    g, a, b = c.g, c.x[0], c.x[1]
    if np.dtype(c.dtype(0)).kind in "iu":
        return g.op("Mod", [a, b], fmod=0)
    # PyTorch's formula: a - floor(a / b) * b, the sign of b
    return g.op("Sub", [a, g.op("Mul", [g.op("Floor", [g.op("Div", [a, b])]), b])])


@converts("fmod")
def _fmod(c: Call):
    return c.g.op("Mod", [c.x[0], c.x[1]], fmod=1)


@converts("hypot")
def _hypot(c: Call):
    g, a, b = c.g, c.x[0], c.x[1]
    return g.op("Sqrt", [g.op("Add", [g.op("Mul", [a, a]), g.op("Mul", [b, b])])])


@converts("leaky_relu")
def _leaky_relu(c: Call):
    return c.g.op("LeakyRelu", [c.x[0]], alpha=float(c.attr("slope")))


@converts("elu")
def _elu(c: Call):
    return c.g.op("Elu", [c.x[0]], alpha=float(c.attr("alpha")))


@converts("softplus")
def _softplus(c: Call):
    g, x = c.g, c.x[0]
    beta, threshold = float(c.attr("beta")), float(c.attr("threshold"))
    z = x if beta == 1 else g.op("Mul", [x, c.scalar(beta)])
    soft = g.op("Softplus", [z])
    if beta != 1:
        soft = g.op("Div", [soft, c.scalar(beta)])
    # PyTorch's softplus is x itself where beta * x > threshold
    return g.op("Where", [g.op("Greater", [z, c.scalar(threshold)]), x, soft])


@converts("silu")
def _silu(c: Call):
    return c.g.op("Mul", [c.x[0], c.g.op("Sigmoid", [c.x[0]])])


@converts("gelu")
def _gelu(c: Call):
    g, x, approximate = c.g, c.x[0], c.attr("approximate")
    if c.opset >= 20:
        return g.op("Gelu", [x], approximate=approximate)
    half = c.scalar(0.5)
    if approximate == "tanh":
        # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.op("Mul", [g.op("Mul", [x, x]), x])
        inner = g.op("Add", [x, g.op("Mul", [cube, c.scalar(0.044715)])])
        t = g.op("Tanh", [g.op("Mul", [inner, c.scalar(math.sqrt(2 / math.pi))])])
    else:
        # 0.5 x (1 + erf(x / sqrt 2))
        t = g.op("Erf", [g.op("Mul", [x, c.scalar(1 / math.sqrt(2))])])
    return g.op("Mul", [g.op("Mul", [x, half]), g.op("Add", [t, c.scalar(1)])])


@converts("clamp")
def _clamp(c: Call):
    lo, hi = c.attr("lo"), c.attr("hi")
    ins = [c.x[0], None if lo is None else c.scalar(lo), None if hi is None else c.scalar(hi)]
    while ins[-1] is None:
        ins.pop()
    return c.g.op("Clip", ins)


@converts("pow_scalar")
def _pow_scalar(c: Call):
    p = c.attr("p")
    if p == 2:  # chainrule's x * x, exactly
        return c.g.op("Mul", [c.x[0], c.x[0]])
    return c.g.op("Pow", [c.x[0], c.scalar(p)])


@converts("cast")
def _cast(c: Call):
    return c.g.op("Cast", [c.x[0]], to=c.g.dtype(c.attr("dtype")))


# ---- matrix products ------------------------------------------------------------------------


@converts("linear")
def _linear(c: Call):
    g, x, w = c.g, c.x[0], c.x[1]
    b = c.x[2] if len(c.x) > 2 else None
    if c.rank(0) == 2:
        return g.op("Gemm", [x, w] + ([b] if b else []), transB=1)
    y = g.op("MatMul", [x, g.transpose(w, (1, 0))])
    return g.op("Add", [y, b]) if b else y


@converts("einsum")
def _einsum(c: Call):
    equation = ",".join(c.attr("subs")) + "->" + c.attr("result")
    return c.g.op("Einsum", list(c.x), equation=equation)


# ---- reductions -----------------------------------------------------------------------------


def _axes(c: Call, key: str = "axis"):
    axis = c.attr(key)
    if axis is None:
        return None
    return [int(a) for a in (axis if isinstance(axis, (tuple, list)) else (axis,))]


def _reduction(op_type):
    def convert(c: Call):
        return c.g.reduce(op_type, c.x[0], _axes(c), c.attr("keepdims"))

    return convert


for _name, _type in {"sum": "ReduceSum", "mean": "ReduceMean", "amax": "ReduceMax",
                     "amin": "ReduceMin", "prod": "ReduceProd",
                     "logsumexp": "ReduceLogSumExp"}.items():
    converts(_name)(_reduction(_type))


def _count(c: Call, axes) -> int:
    shape = c.shape(0)
    axes = range(len(shape)) if axes is None else axes
    if set(a % max(len(shape), 1) for a in axes) & c.dynamic(0):
        raise c.fail("a variance with a correction over a dynamic axis needs the axis' size "
                     "as a number (correction=0 needs none)")
    return math.prod(shape[a] for a in axes)


def _variance(c: Call):
    g, x = c.g, c.x[0]
    axes = _axes(c)
    correction = float(c.attr("correction"))
    d = g.op("Sub", [x, g.reduce("ReduceMean", x, axes, True)])
    if correction == 0:  # the mean square: no count needed, so any axis may be dynamic
        return g.reduce("ReduceMean", g.op("Mul", [d, d]), axes, c.attr("keepdims"))
    n = _count(c, axes)
    s = g.reduce("ReduceSum", g.op("Mul", [d, d]), axes, c.attr("keepdims"))
    return g.op("Div", [s, c.scalar(max(n - correction, 0))])


@converts("var")
def _var(c: Call):
    return _variance(c)


@converts("std")
def _std(c: Call):
    return c.g.op("Sqrt", [_variance(c)])


@converts("max_dim")
def _max_dim(c: Call):
    op_type = "ReduceMax" if c.attr("largest") else "ReduceMin"
    return c.g.reduce(op_type, c.x[0], [c.attr("dim")], c.attr("keepdim"))


@converts("softmax")
def _softmax(c: Call):
    return c.g.op("Softmax", [c.x[0]], axis=int(c.attr("axis")))


@converts("log_softmax")
def _log_softmax(c: Call):
    return c.g.op("LogSoftmax", [c.x[0]], axis=int(c.attr("axis")))


@converts("cumsum")
def _cumsum(c: Call):
    return c.g.op("CumSum", [c.x[0], c.g.const(np.int64(c.attr("axis")), "axis")])


@converts("vector_norm")
def _vector_norm(c: Call):
    g, x, p = c.g, c.x[0], float(c.attr("p"))
    axes, keep = _axes(c), c.attr("keepdims")
    if p == 2:
        return g.reduce("ReduceL2", x, axes, keep)
    if p == 1:
        return g.reduce("ReduceL1", x, axes, keep)
    a = g.op("Abs", [x])
    if p == math.inf:
        return g.reduce("ReduceMax", a, axes, keep)
    if p == -math.inf:
        return g.reduce("ReduceMin", a, axes, keep)
    if p == 0:
        nonzero = g.op("Cast", [g.op("Not", [g.op("Equal", [a, c.scalar(0)])])],
                       to=g.dtype(c.dtype(0)))
        return g.reduce("ReduceSum", nonzero, axes, keep)
    s = g.reduce("ReduceSum", g.op("Pow", [a, c.scalar(p)]), axes, keep)
    return g.op("Pow", [s, c.scalar(1 / p)])


# ---- shapes ---------------------------------------------------------------------------------


@converts("reshape")
def _reshape(c: Call):
    shape, shape2 = list(c.step.attrs["shape"]), list(c.attr2("shape"))
    if len(shape) != len(shape2):
        raise c.fail(f"its target shape {tuple(shape)} changes rank with the input size")
    varying = [i for i, (a, b) in enumerate(zip(shape, shape2)) if a != b]
    s1, s2 = c.shape(0), c.info[0].shape2
    left = []
    for i in varying:
        # Reshape's 0 copies the input's size at the same position
        if i < len(s1) and s1[i] == shape[i] and s2[i] == shape2[i]:
            shape[i] = 0
        else:
            left.append(i)
    if len(left) == 1 and -1 not in shape:
        shape[left[0]] = -1
    elif left:
        raise c.fail(f"its target shape {tuple(c.step.attrs['shape'])} has more than one size "
                     f"that follows the dynamic axes ({tuple(c.attr2('shape'))} for the other "
                     f"input size); write the sizes that do not change as numbers and one -1")
    return c.g.reshape(c.x[0], shape)


@converts("permute")
def _permute(c: Call):
    return c.g.transpose(c.x[0], c.attr("axes"))


@converts("broadcast_to")
def _broadcast_to(c: Call):
    shape, shape2 = list(c.step.attrs["shape"]), list(c.attr2("shape"))
    s1, s2 = c.shape(0), c.info[0].shape2
    lead = len(shape) - len(s1)
    for i, (a, b) in enumerate(zip(shape, shape2)):
        if a == b:
            continue
        j = i - lead
        if j >= 0 and s1[j] == a and s2[j] == b:
            shape[i] = 1  # Expand keeps the input's own size there
        else:
            raise c.fail(f"it broadcasts to {tuple(c.step.attrs['shape'])}, a size that "
                         f"follows a dynamic axis without coming from the input")
    return c.g.op("Expand", [c.x[0], c.g.ints(shape, "shape")])


@converts("flip")
def _flip(c: Call):
    axes = c.attr("axis")
    axes = list(axes) if isinstance(axes, (tuple, list)) else [axes]
    n = len(axes)
    return c.g.slice(c.x[0], [-1] * n, [_SMALL] * n, axes, [-1] * n)


@converts("cat")
def _cat(c: Call):
    return c.g.op("Concat", list(c.x), axis=int(c.attr("axis")))


@converts("stack")
def _stack(c: Call):
    axis = int(c.attr("axis"))
    parts = [c.g.unsqueeze(x, [axis]) for x in c.x]
    return c.g.op("Concat", parts, axis=axis)


@converts("pad")
def _pad(c: Call):
    width = c.attr("pad_width")
    pads = [int(lo) for lo, _ in width] + [int(hi) for _, hi in width]
    value = c.g.const(np.asarray(c.attr("value"), dtype=c.dtype(0)), "pad_value")
    return c.g.op("Pad", [c.x[0], c.g.ints(pads, "pads"), value], mode="constant")


@converts("get_item")
def _get_item(c: Call):
    return _index(c, c.step.attrs["index"], c.attr2("index"))


def _entries(index) -> list:
    entries = list(index) if isinstance(index, tuple) else [index]
    return [np.asarray(e) if isinstance(e, list) else e for e in entries]


def _bound(c: Call, v1, v2, n1, n2, what):
    """One slice bound or int index, written so that it holds at both input sizes."""
    if v1 == v2:
        return v1
    if v1 is not None and v2 is not None:
        if v1 - n1 == v2 - n2:
            return v1 - n1  # counted from the end
        if v1 >= n1 and v2 >= n2:
            return _BIG
    raise c.fail(f"its index {what} changes with the size of a dynamic axis in a way that "
                 f"is neither a fixed position nor one counted from the end")


def _index(c: Call, index, index2):
    """``x[index]`` for basic indexing (ints, slices, None, Ellipsis) and one integer array."""
    g, x = c.g, c.x[0]
    e1, e2 = _entries(index), _entries(index2)
    if len(e1) != len(e2):
        raise c.fail("its index changes form with the input size")
    s1, s2 = c.shape(0), c.info[0].shape2

    def consumes(e):
        if e is None or e is Ellipsis:
            return 0
        if isinstance(e, np.ndarray) and e.dtype == np.bool_:
            return e.ndim
        return 1

    n_ellipsis = sum(e is Ellipsis for e in e1)
    fill = len(s1) - sum(consumes(e) for e in e1)
    slices, ints, arrays, news = [], [], [], []
    axis = out_pos = 0
    for k, (a, b) in enumerate(zip(e1, e2)):
        if a is Ellipsis:
            axis += fill
            out_pos += fill
        elif a is None:
            news.append(out_pos)
            out_pos += 1
        elif isinstance(a, slice):
            n1, n2 = s1[axis], s2[axis]
            step = a.step if a.step is not None else 1
            if not same_step(a, b):
                raise c.fail("its slice step changes with the input size")
            start = _bound(c, a.start, b.start, n1, n2, "start")
            stop = _bound(c, a.stop, b.stop, n1, n2, "stop")
            if start is not None or stop is not None or step != 1:
                if start is None:
                    start = 0 if step > 0 else -1
                if stop is None:
                    stop = _BIG if step > 0 else _SMALL
                slices.append((start, stop, axis, step))
            axis += 1
            out_pos += 1
        elif isinstance(a, (int, np.integer)):
            ints.append((axis, _bound(c, int(a), int(b), s1[axis], s2[axis], "position")))
            axis += 1
        elif isinstance(a, np.ndarray) and a.dtype.kind in "iu":
            arrays.append((axis, out_pos, a, k))
            axis += 1
            out_pos += a.ndim
        else:
            raise c.fail(f"indexing with {type(a).__name__} (a boolean mask or a tensor index "
                         f"computed from the input) gives a shape that depends on the values; "
                         f"supported: ints, slices, None, ... and one integer array")
    if n_ellipsis > 1 or len(arrays) > 1 or (arrays and ints):
        raise c.fail("supported indexes are ints, slices, None, ... and at most one integer "
                     "array (without ints beside it)")
    if slices:
        st, en, ax, sp = zip(*slices)
        x = g.slice(x, st, en, ax, sp)
    for ax, i in sorted(ints, reverse=True):  # the last axes first: earlier positions hold
        x = g.op("Gather", [x, g.const(np.int64(i), "index")], axis=ax)
    for ax, _, _, k in arrays:
        indices = c.array("index", k if isinstance(index, tuple) else None)
        x = g.op("Gather", [x, indices], axis=ax)
    if news:
        x = g.unsqueeze(x, news)
    if x is c.x[0]:
        x = g.op("Identity", [x])
    return x


def same_step(a: slice, b: slice) -> bool:
    return (a.step if a.step is not None else 1) == (b.step if b.step is not None else 1)


# ---- comparisons and logical ops (bool results) ---------------------------------------------

_COMPARE = {"eq": "Equal", "lt": "Less", "le": "LessOrEqual", "gt": "Greater",
            "ge": "GreaterOrEqual"}


def _common(c: Call) -> list:
    """The operands in their common dtype (ONNX compares only equal types)."""
    dt = np.promote_types(c.dtype(0), c.dtype(1))
    return [x if np.dtype(c.dtype(i)) == dt else c.g.op("Cast", [x], to=c.g.dtype(dt))
            for i, x in enumerate(c.x[:2])]


def _comparison(op_type):
    return lambda c: c.g.op(op_type, _common(c))


for _name, _type in _COMPARE.items():
    converts(_name)(_comparison(_type))


@converts("ne")
def _ne(c: Call):
    return c.g.op("Not", [c.g.op("Equal", _common(c))])


def _truth(c: Call, i: int) -> str:
    if np.dtype(c.dtype(i)) == np.bool_:
        return c.x[i]
    return c.g.op("Cast", [c.x[i]], to=c.g.dtype(np.bool_))  # nonzero is True


def _logical(op_type):
    return lambda c: c.g.op(op_type, [_truth(c, i) for i in range(len(c.x))])


for _name, _type in {"logical_and": "And", "logical_or": "Or", "logical_xor": "Xor",
                     "logical_not": "Not"}.items():
    converts(_name)(_logical(_type))


def _bitwise(op_type, bool_type):
    def convert(c: Call):
        if np.dtype(c.dtype(0)) == np.bool_:
            return c.g.op(bool_type, list(c.x))
        if c.opset < 18:
            raise c.fail(f"bitwise ops on integers need opset 18 or later ({op_type})")
        return c.g.op(op_type, list(c.x))

    return convert


for _name, _types in {"bitwise_and": ("BitwiseAnd", "And"), "bitwise_or": ("BitwiseOr", "Or"),
                      "bitwise_xor": ("BitwiseXor", "Xor"),
                      "bitwise_not": ("BitwiseNot", "Not")}.items():
    converts(_name)(_bitwise(*_types))
