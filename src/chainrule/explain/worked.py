"""The worked example of the backprop tutorials: a 1-1-1 network, one sample, one SGD step.

x = 1, target t = 0.5; z1 = w1 x + b1, h = sigmoid(z1), y = w2 h + b2, L = (y - t)^2 / 2, with
w1 = 0.5, b1 = 0.2, w2 = 0.3, b2 = 0.1 and learning rate 0.1. Everything is computed by the
engine (float64); this module only builds the network and names its values.

Example:
    >>> trace, report = run()
    >>> round(trace.value("h"), 4), round(trace.grad("w1"), 4)
    (0.6682, -0.0133)
"""

from __future__ import annotations

import inspect

from ..messages import check
from .blocks import Code, Heading, Para

_INTRO = {
    "en": ("The 1-1-1 network: one input x = 1, one sigmoid hidden unit, one linear output, "
           "target t = 0.5, loss L = (y - t)^2 / 2, weights w1 = 0.5, b1 = 0.2, w2 = 0.3, "
           "b2 = 0.1, learning rate 0.1."),
    "zh": ("1-1-1 网络：一个输入 x = 1，一个 sigmoid 隐藏单元，一个线性输出，目标值 t = 0.5，"
           "损失函数 L = (y - t)^2 / 2，权重 w1 = 0.5，偏置 b1 = 0.2，w2 = 0.3，b2 = 0.1，"
           "学习率 0.1。"),
}
_TITLE = {"en": "Worked example: the 1-1-1 network", "zh": "算例：1-1-1 网络"}


def network():
    """The network and its loss, built by the engine; returns (loss, names, parameters)."""
    import chainrule as cr

    f64 = cr.float64
    x = cr.tensor(1.0, dtype=f64, name="x")  # input
    t = cr.tensor(0.5, dtype=f64, name="t")  # target
    w1 = cr.tensor(0.5, dtype=f64, requires_grad=True, name="w1")
    b1 = cr.tensor(0.2, dtype=f64, requires_grad=True, name="b1")
    w2 = cr.tensor(0.3, dtype=f64, requires_grad=True, name="w2")
    b2 = cr.tensor(0.1, dtype=f64, requires_grad=True, name="b2")
    u1 = w1 * x
    z1 = u1 + b1  # hidden pre-activation
    h = cr.sigmoid(z1)  # hidden activation
    u2 = w2 * h
    y = u2 + b2  # output
    e = y - t
    e2 = e**2
    L = 0.5 * e2  # loss L = (y - t)^2 / 2
    names = {u1: "u1", z1: "z1", h: "h", u2: "u2", y: "y", e: "e", e2: "e2", L: "L"}
    return L, names, [w1, b1, w2, b2]


def run(lang: str = "en"):
    """Explain the backward pass, then explain and run one SGD step (lr = 0.1)."""
    import chainrule as cr

    loss, names, params = network()
    trace = cr.explain(loss, lang, names=names)
    opt = cr.optim.SGD(params, lr=0.1)
    loss.backward()
    report = cr.explain_step(opt, lang=lang, step=True)
    return trace, report


def program() -> str:
    """The source of ``network`` and ``run``: what the guide shows and what produced it."""
    return (inspect.getsource(network) + "\n\n" + inspect.getsource(run)
            + "\n\ntrace, report = run()\nprint(trace)\nprint(report)\n")


def blocks(lang: str = "en", with_program: bool = False) -> list:
    """The whole worked example as a document: intro, (program,) trace and the update."""
    lang = check(lang)
    trace, report = run(lang)
    out = [Heading(1, _TITLE[lang]), Para(_INTRO[lang])]
    if with_program:
        out.append(Code(program(), "python"))
    return out + trace.blocks(lang) + report.blocks(lang)
