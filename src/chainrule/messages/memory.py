"""The words of ``cr.explain_memory``, one dict per language (keys ``mem.*``)."""

from __future__ import annotations

EN = {
    "mem.title": "Memory kept for the backward pass",
    "mem.total": (
        "{total} kept alive by {ops} ops until backward uses it: activations {act}, input "
        "data {inputs}. Parameters ({params}) are held by the model anyway and are listed "
        "apart."),
    "mem.largest": "Largest contributors",
    "mem.by_module": "By module (each with its submodules)",
    "mem.by_op": "By op, in forward order (what each adds; arrays another op holds count once)",
    "mem.scalar": "scalar",
    "mem.parameter": "(parameter)",
    "mem.input": "(input data)",
    "mem.packed": "(packed by a saved-tensor hook)",
    "mem.shared": "(same memory as {op})",
    "mem.recomputed_list": "checkpointed, recomputed in backward (nothing kept): {arrays}",
    "mem.more": "... and {n} more",
    "mem.more_ops": "... {n} more ops (report.to_text(limit=0) shows all)",
    "mem.no_sources": (
        "Source lines and modules were not recorded: run the forward through "
        "cr.explain_memory(model, x) to see them."),
    "mem.how": (
        "How to read this: an op keeps its inputs, its output and any extra arrays its rule "
        "needs until backward reaches it. Activations grow with the batch size and with every "
        "layer; they are what checkpointing (cr.utils.checkpoint) trades for a second forward "
        "pass, and what saved_tensors_hooks can compress or move."),
    # the command line
    "mem.cli_plain": "Without checkpointing:",
    "mem.cli_ckpt": "With checkpoint_sequential({segments} segments):",
    "mem.cli_compare": (
        "Checkpointing keeps {ckpt} of activations instead of {plain} ({ratio:.0%}); the price "
        "is one more forward pass of the checkpointed segments during backward."),
}

ZH = {
    "mem.title": "反向传播保留的内存",
    "mem.total": (
        "{ops} 个运算共保留 {total}，直到反向传播用到为止：激活值 {act}，输入数据 {inputs}。"
        "参数（{params}）本来就由模型持有，单独列出。"),
    "mem.largest": "占用最多的运算",
    "mem.by_module": "按模块（含其子模块）",
    "mem.by_op": "按运算，依前向顺序（各自新增的内存；多个运算共用的数组只计一次）",
    "mem.scalar": "标量",
    "mem.parameter": "（参数）",
    "mem.input": "（输入数据）",
    "mem.packed": "（已由 saved-tensor 钩子打包）",
    "mem.shared": "（与 {op} 共用内存）",
    "mem.recomputed_list": "检查点：反向时重新计算（不保留）：{arrays}",
    "mem.more": "……另有 {n} 项",
    "mem.more_ops": "……另有 {n} 个运算（report.to_text(limit=0) 显示全部）",
    "mem.no_sources": (
        "未记录源代码行和模块：用 cr.explain_memory(model, x) 运行前向传播即可看到。"),
    "mem.how": (
        "阅读方法：每个运算保留其输入、输出以及求导规则需要的额外数组，直到反向传播经过它。"
        "激活值随批量大小和层数增长；检查点（cr.utils.checkpoint）用多一次前向计算换取这部分"
        "内存，saved_tensors_hooks 可以压缩或转移它。"),
    "mem.cli_plain": "不用检查点：",
    "mem.cli_ckpt": "用 checkpoint_sequential（{segments} 段）：",
    "mem.cli_compare": (
        "检查点只保留 {ckpt} 激活值，而不是 {plain}（{ratio:.0%}）；代价是反向传播时对检查点分段"
        "多做一次前向计算。"),
}
