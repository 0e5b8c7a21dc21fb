"""The "Backprop, step by step" guide, built from real ``cr.explain`` output.

``scripts/make_explain_docs.py`` writes ``build("en")`` and ``build("zh")`` to
``docs/backprop-step-by-step.md`` and ``.zh.md``; a test checks the committed files are current.
Every number in the guide comes from a run of the engine, never from this file.

Example:
    >>> "0.6682" in build("en")
    True
"""

from __future__ import annotations

import inspect

from ..messages import check
from . import worked
from .blocks import Code, Heading, Items, Para
from .fmt import arr
from .render import to_markdown

_TEXT = {
    "en": {
        "title": "Backprop, step by step",
        "generated": (
            "This page is generated from real output of `cr.explain` and `cr.explain_step` by "
            "`python scripts/make_explain_docs.py`; rerun it after changing the engine or the "
            "explanations (a test fails while the page is out of date). Chinese version: "
            "[backprop-step-by-step.zh.md](backprop-step-by-step.zh.md)."),
        "idea": (
            "Backpropagation is the chain rule applied once per operation, from the loss back "
            "to the parameters. Each operation receives the upstream gradient δ, the derivative "
            "of the loss with respect to its output, multiplies it by its own local derivative "
            "and passes the result to its inputs. A value used twice receives two gradients, "
            "which add up. chainrule records every operation of the forward pass as a node; "
            "`cr.explain(loss)` runs the engine's own backward loop once with an observer "
            "attached and writes down every step."),
        "deltas": "Error terms δ per layer",
        "deltas_text": (
            "The tutorials call the gradient of the loss with respect to a layer's "
            "pre-activation its error term δ. Read off the trace above:"),
        "d_out": "output layer: δ2 = dL/dy = {v}",
        "d_hidden": "hidden layer: δ1 = dL/dz1 = δ2 × w2 × σ'(z1) = {v}",
        "d_w": "each weight's gradient is δ times the layer's input: dL/dw2 = δ2 × h = {a}, "
               "dL/dw1 = δ1 × x = {b}",
        "batch": "A batch, a ReLU, broadcasting and reuse",
        "batch_text": (
            "With tensors the steps are the same; the trace then prints shapes, norms and "
            "the first entries, and says where something special happens: a bias broadcast "
            "over the batch has its gradient summed over the batch axis, a ReLU zeroes the "
            "gradient where its input was negative, and a weight used twice gets both "
            "gradients added."),
        "more": "More",
        "more_items": [
            "`chainrule explain [--lang zh] [--format text|markdown|latex|html]` prints the "
            "worked example from the command line.",
            "`cr.explain_step(optimizer)` shows the next update of every parameter (SGD with "
            "momentum, Adam, AdamW, RMSprop, Adagrad); see [explain.md](explain.md).",
            "`cr.why_no_grad(tensor, wrt=param)` says why a gradient is missing.",
            "`cr.viz.to_dot(loss)` draws the graph; see [viz.md](viz.md).",
        ],
    },
    "zh": {
        "title": "反向传播，一步一步",
        "generated": (
            "本页由 `python scripts/make_explain_docs.py` 根据 `cr.explain` 和 "
            "`cr.explain_step` 的真实输出生成；修改引擎或解释功能后请重新运行它（页面过期时会有"
            "测试失败）。英文版：[backprop-step-by-step.md](backprop-step-by-step.md)。"),
        "idea": (
            "反向传播就是把链式法则从损失函数开始、逐个运算地一直应用到参数。每个运算接收上游"
            "梯度，即误差项 δ（损失函数对该运算输出的偏导数），乘以自己的局部导数，再把结果传给"
            "它的输入。一个值如果被使用两次，就会收到两个梯度，二者相加。chainrule 把前向传播中"
            "的每个运算记录为一个节点；`cr.explain(loss)` 让引擎自己的反向传播循环运行一次，"
            "并挂上一个观察者，把每一步都记录下来。"),
        "deltas": "每一层的误差项 δ",
        "deltas_text": (
            "教程把损失函数对某层净输入（激活前的值）的偏导数称为该层的误差项 δ。"
            "从上面的过程读出："),
        "d_out": "输出层：δ2 = dL/dy = {v}",
        "d_hidden": "隐藏层：δ1 = dL/dz1 = δ2 × w2 × σ'(z1) = {v}",
        "d_w": ("每个权重的梯度等于 δ 乘以该层的输入：dL/dw2 = δ2 × h = {a}，"
                "dL/dw1 = δ1 × x = {b}"),
        "batch": "批量数据、ReLU、广播与重复使用",
        "batch_text": (
            "换成张量时步骤完全一样；此时过程会打印形状、范数和前几个元素，并指出特殊的地方："
            "在批量上广播的偏置，其梯度要沿批量轴求和；ReLU 在输入为负的位置把梯度置零；"
            "被使用两次的权重，两个梯度相加。"),
        "more": "更多",
        "more_items": [
            "`chainrule explain [--lang zh] [--format text|markdown|latex|html]` "
            "在命令行打印算例。",
            "`cr.explain_step(optimizer)` 显示每个参数下一次的更新（SGD 与动量、Adam、AdamW、"
            "RMSprop、Adagrad）；"
            "见 [explain.md](explain.md)。",
            "`cr.why_no_grad(tensor, wrt=param)` 说明梯度为什么缺失。",
            "`cr.viz.to_dot(loss)` 画出计算图；见 [viz.md](viz.md)。",
        ],
    },
}


def batch_example(lang: str = "en"):
    """A batch of 3 through a 2-2 ReLU layer whose weight is used twice."""
    import chainrule as cr

    x = cr.tensor([[1.0, -2.0], [0.5, 1.0], [-1.0, 0.0]], name="x")
    W = cr.tensor([[0.5, -0.3], [0.8, 0.2]], requires_grad=True, name="W")
    b = cr.tensor([0.1, -0.1], requires_grad=True, name="b")
    h = cr.relu(x @ W + b)  # b is broadcast over the batch
    loss = (h @ W).sum()  # W is used a second time
    return cr.explain(loss, lang)


def build(lang: str = "en") -> str:
    """The guide as Markdown."""
    lang = check(lang)
    T = _TEXT[lang]
    trace, report = worked.run(lang)
    out = [Heading(1, T["title"]), Para(T["generated"]), Para(T["idea"])]
    for b in worked.blocks(lang, with_program=True):
        out.append(Heading(2, b.text) if isinstance(b, Heading) and b.level == 1 else b)
    out += [Heading(2, T["deltas"]), Para(T["deltas_text"]), Items([
        T["d_out"].format(v=arr(trace.step("y").upstream)),
        T["d_hidden"].format(v=arr(trace.step("z1").upstream)),
        T["d_w"].format(a=arr(trace.grad("w2")), b=arr(trace.grad("w1"))),
    ])]
    out += [Heading(2, T["batch"]), Para(T["batch_text"]),
            Code(inspect.getsource(batch_example), "python")]
    out += [_demote(b) for b in batch_example(lang).blocks(lang)]
    out += [Heading(2, T["more"]), Items(T["more_items"])]
    return to_markdown(out)


def _demote(block):
    """Sections of an embedded trace become subsections of the guide's section."""
    if isinstance(block, Heading):
        return Heading(block.level + 1, block.text)
    return block
