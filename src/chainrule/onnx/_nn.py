"""ONNX mappings of the neural-network primitives: convolution, unfold, max pooling, embedding,
attention and normalization."""

from __future__ import annotations

import numpy as np

from ..nn.functional.fused_attention import causal_mask
from ._convert import Call, converts


@converts("conv2d")
def _conv2d(c: Call):
    k, s, p, d = c.attr("k"), c.attr("s"), c.attr("p"), c.attr("d")
    return c.g.op("Conv", [x for x in c.x if x is not None], kernel_shape=list(k),
                  strides=list(s), pads=[p[0], p[1], p[0], p[1]], dilations=list(d))


@converts("unfold")
def _unfold(c: Call):
    # im2col is a convolution: one output channel per (input channel, kernel offset), with a
    # kernel that is 1 at that offset and 0 elsewhere, channels kept apart by groups.
    k, s, p, d = c.attr("k"), c.attr("s"), c.attr("p"), c.attr("d")
    if 1 in c.dynamic(0):
        raise c.fail("unfold needs a fixed number of channels")
    channels = c.shape(0)[1]
    kk = k[0] * k[1]
    eye = np.eye(kk, dtype=c.dtype(0)).reshape(kk, 1, k[0], k[1])
    w = c.g.const(np.tile(eye, (channels, 1, 1, 1)), "unfold_kernel")
    cols = c.g.op("Conv", [c.x[0], w], kernel_shape=list(k), strides=list(s),
                  pads=[p[0], p[1], p[0], p[1]], dilations=list(d), group=channels)
    return c.g.reshape(cols, [0, channels * kk, -1])


@converts("max_pool2d")
def _max_pool2d(c: Call):
    k, s, p, d = c.attr("k"), c.attr("s"), c.attr("p"), c.attr("d")
    return c.g.op("MaxPool", [c.x[0]], kernel_shape=list(k), strides=list(s),
                  pads=[p[0], p[1], p[0], p[1]], dilations=list(d))


@converts("embedding")
def _embedding(c: Call):
    # The indices are an attribute of chainrule's op (they get no gradient): the input itself,
    # or a constant.
    return c.g.op("Gather", [c.x[0], c.array("idx")], axis=0)


@converts("attention")
def _attention(c: Call):
    g = c.g
    if c.step.attrs.get("keep") is not None:
        raise c.fail("attention dropout is on (export runs the model in eval mode: a layer "
                     "forcing training=True cannot be exported)")
    q, k, v = c.x[:3]
    mask = c.x[3] if len(c.x) > 3 else None
    rank = c.rank(1)
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    s = g.op("MatMul", [q, g.transpose(k, perm)])
    s = g.op("Mul", [s, c.scalar(c.attr("scale"))])
    if c.attr("causal"):
        s = g.op("Add", [s, _causal(c, s)])
    if mask is not None:
        s = g.op("Add", [s, mask])
    return g.op("MatMul", [g.op("Softmax", [s], axis=-1), v])


def _causal(c: Call, scores: str) -> str:
    """The additive mask of ``is_causal``: 0 on and below the diagonal, -inf above."""
    g = c.g
    lq, lk = c.shape(0)[-2], c.shape(1)[-2]
    if (c.rank(0) - 2) not in c.dynamic(0) and (c.rank(1) - 2) not in c.dynamic(1):
        return g.const(causal_mask(lq, lk, c.dtype(0)), "causal_mask")
    # A sequence axis that varies: the mask is built for each input from the scores' shape.
    size = g.op("Shape", [scores], start=-2)
    one = g.helper.make_tensor("value", g.dtype(c.dtype(0)), [1], [1.0])
    lower = g.op("Trilu", [g.op("ConstantOfShape", [size], value=one)], upper=0)
    return g.op("Where", [g.op("Equal", [lower, c.scalar(0)]), c.scalar(-np.inf), c.scalar(0)])


@converts("normalize")
def _normalize(c: Call):
    g, x = c.g, c.x[0]
    axes, eps, pshape = c.attr("axes"), float(c.attr("eps")), c.attr("pshape")
    w = c.x[1] if len(c.x) > 1 else None
    b = c.x[2] if len(c.x) > 2 else None
    rank = c.rank(0)
    trailing = tuple(axes) == tuple(range(rank - len(axes), rank))
    if trailing and pshape is None and not (set(axes) & c.dynamic(0)):
        if w is None:
            w = g.const(np.ones(c.shape(0)[rank - len(axes):], dtype=c.dtype(0)), "ones")
        ins = [x, w] + ([b] if b is not None else [])
        return g.op("LayerNormalization", ins, axis=-len(axes), epsilon=eps)
    mean = g.reduce("ReduceMean", x, axes, True)
    d = g.op("Sub", [x, mean])
    var = g.reduce("ReduceMean", g.op("Mul", [d, d]), axes, True)
    y = g.op("Div", [d, g.op("Sqrt", [g.op("Add", [var, c.scalar(eps)])])])
    if w is not None:
        y = g.op("Mul", [y, w if pshape is None else g.reshape(w, pshape)])
    if b is not None:
        y = g.op("Add", [y, b if pshape is None else g.reshape(b, pshape)])
    return y
