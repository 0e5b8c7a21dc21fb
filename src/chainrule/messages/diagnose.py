"""The words of the gradient-health report (``cr.diagnose``), one dict per language.

Verdicts hold only keys and numbers; the report picks the language when it renders, so both
texts always state the same computed facts. Keys are grouped by what they are: ``verdict.*``
(titles), ``severity.*``, ``report.*`` (headings, columns, punctuation), ``evidence.*``,
``cause.*`` and ``remedy.*``; every template is a ``str.format`` string over a verdict's
``facts``.
"""

from __future__ import annotations

EN = {
    # the verdicts' titles
    "verdict.vanishing_gradients": "Vanishing gradients",
    "verdict.exploding_gradients": "Exploding gradients",
    "verdict.dead_relu": "Dead ReLUs",
    "verdict.saturation": "Saturated sigmoid/tanh units",
    "verdict.lr_too_large": "Learning rate too large",
    "verdict.lr_too_small": "Learning rate too small",
    # severities
    "severity.ok": "ok",
    "severity.warning": "WARNING",
    "severity.error": "ERROR",
    "severity.n/a": "n/a",
    # the report's headings and table columns
    "report.header": (
        "Gradient health report: {layers} layers, {records} recorded steps "
        "(every {every})"),
    "report.evidence": "evidence",
    "report.cause": "cause",
    "report.remedies": "remedies",
    "report.table": "Per layer (median over the recorded steps)",
    "report.col_layer": "layer",
    "report.col_grad_norm": "grad norm",
    "report.col_weight_norm": "weight norm",
    "report.col_update_ratio": "update/weight",
    "report.acts": (
        "Activations (dead: silent on all of the last {window} recorded batches; "
        "the rest: median over the recorded steps)"),
    "report.act_col_module": "module",
    "report.act_col_kind": "kind",
    "report.act_col_dead": "dead",
    "report.act_col_saturated": "saturated",
    "report.act_col_mean_derivative": "mean derivative",
    "report.none": "no problem found",
    "report.flagged": "flagged: {codes}",
    "report.no_records": (
        "no step was recorded, so there is nothing to judge: call monitor.record(loss) after "
        "each loss.backward() (before optimizer.step()), or pass the monitor to "
        "cr.train.fit(..., callbacks=[monitor])"),
    # punctuation between a label and its text, and between the items of a list
    "report.colon": ": ",
    "report.list_sep": ", ",
    "report.evidence_sep": "; ",
    # evidence: a verdict's measured facts
    "evidence.layer_ratio": (
        "the first layer's gradient norm is {layer_ratio:.1e} times the last "
        "layer's (median over {records} steps): about x{factor:.2f} per layer "
        "across {depth} weight layers"),
    "evidence.layer_ratio_ok": (
        "first/last layer gradient-norm ratio {layer_ratio:.2g} (flagged below "
        "{vanishing_warn:g})"),
    "evidence.too_few_layers": "needs at least two weight layers and one recorded step",
    "evidence.no_records": "no step was recorded",
    "evidence.nonfinite": (
        "non-finite (Inf/NaN) gradients or loss at {nonfinite_steps} recorded "
        "steps, first at step {first_nonfinite}"),
    "evidence.spike": (
        "the total gradient norm peaked at {peak_norm:.2e} at step {peak_step}, "
        "{spike:.0f}x its median"),
    "evidence.peak_growth": (
        "at that step the gradient grew {peak_layer_ratio:.0f}x from the last "
        "layer to the first"),
    "evidence.step_growth": (
        "the total gradient norm grew {step_growth:.0f}x from the first to the "
        "last quarter of training"),
    "evidence.blowup": "one step changed the weights of layer {blowup_layer} by {max_update:.0%}",
    "evidence.layer_growth": (
        "gradients grow {layer_ratio:.0f}x from the last layer to the first "
        "(about x{factor:.2f} per layer)"),
    "evidence.bounded": (
        "but the steps stay bounded: peak/median gradient norm {spike:.1f}, largest "
        "update/weight ratio {max_update:.1e} (clipping or a small learning rate "
        "holds them)"),
    "evidence.peak_ok": "peak/median gradient norm {spike:.1f} (flagged from {spike_limit:g})",
    "evidence.update_ok": "largest update/weight ratio {max_update:.1e} (flagged from {blowup:g})",
    "evidence.ratio_ok": (
        "first/last layer gradient-norm ratio {layer_ratio:.2g} (flagged from "
        "{layer_growth:g})"),
    "evidence.dead": (
        "{worst_dead:.0%} of the units of {worst_module} output 0 for every sample of "
        "the last {window} recorded batches (mean over ReLU modules {mean_dead:.0%})"),
    "evidence.dead_ok": (
        "at most {worst_dead:.0%} dead units per ReLU module (silent for every "
        "sample of the last {window} recorded batches)"),
    "evidence.no_relu": "no ReLU module in the model",
    "evidence.saturated": (
        "{worst_saturated:.0%} of the outputs of {worst_module} ({kind}) sit where "
        "its derivative is below 5% of its maximum (mean derivative "
        "{mean_derivative:.3f})"),
    "evidence.saturated_ok": (
        "at most {worst_saturated:.0%} saturated units per sigmoid/tanh module"),
    "evidence.no_squash": "no sigmoid/tanh module in the model",
    "evidence.lr_high": (
        "a typical step changes a layer's weights by {typical_update:.1e} of their "
        "norm (median over layers), {times:.3g}x the usual ~1e-3"),
    "evidence.lr_low": (
        "even the fastest-learning layer ({fastest_layer}) changes by only "
        "{fastest_update:.1e} of its norm per step, {times:.3g}x below the usual ~1e-3"),
    "evidence.lr_high_ok": (
        "update/weight ratio {typical_update:.1e} (median over layers; flagged "
        "above {lr_high:g}, healthy around 1e-3)"),
    "evidence.lr_low_ok": (
        "the fastest layer ({fastest_layer}) changes by {fastest_update:.1e} of its "
        "norm per step (flagged below {lr_low:g})"),
    "evidence.lr_no_gradient": (
        "every weight gradient is 0, so the step size says nothing about the "
        "learning rate"),
    "evidence.no_gradient": (
        "every weight gradient is exactly 0 at every recorded step: the weights "
        "cannot learn"),
    "evidence.no_updates": (
        "no optimizer step was measured (call record() every step, or "
        "record_update() after step())"),
    # causes
    "cause.sigmoid": (
        "the sigmoid's derivative is at most 0.25 (mean here {mean_derivative:.3f}): "
        "every sigmoid layer shrinks the backward signal, and they compound"),
    "cause.tanh": (
        "tanh's derivative (mean here {mean_derivative:.3f}) and the weights shrink the "
        "backward signal at every layer, and the factors compound"),
    "cause.saturated": "saturated units pass almost no gradient back",
    "cause.dead": "dead ReLUs pass no gradient back",
    "cause.small_weights": (
        "the weights are too small for the depth: each layer scales the "
        "gradient down"),
    "cause.nonfinite": (
        "a value overflowed or an undefined operation (log 0, 0/0) was hit; once a "
        "gradient is Inf/NaN the weights are ruined"),
    "cause.large_init": (
        "the weights are initialised too large: each layer multiplies the "
        "backward signal by about {growth_factor:.2f}, so the first layers get "
        "huge steps"),
    "cause.large_init_bounded": (
        "the weights are initialised too large: each layer multiplies "
        "the backward signal by about {growth_factor:.2f}, so the first "
        "layers take most of every (bounded) step"),
    "cause.lr": "the learning rate is so large that single steps overshoot",
    "cause.spike": "occasional huge gradients (sharp regions of the loss, outliers in the data)",
    "cause.dead_units": (
        "pre-activations are below zero for every input: a large negative bias, "
        "or a large step pushed them there, and a dead unit gets no gradient to "
        "recover"),
    "cause.large_preact": (
        "the pre-activations are large (weights or inputs too large), which "
        "pushes the units into the flat tails of the function"),
    "cause.lr_high": "the optimizer steps are large compared with the weights themselves",
    "cause.lr_low": "the optimizer steps are tiny compared with the weights: training crawls",
    # remedies
    "remedy.relu": "use ReLU or GELU in the hidden layers (cr.nn.ReLU, cr.nn.GELU)",
    "remedy.init_he": (
        "He (Kaiming) init for ReLU layers: cr.nn.init.kaiming_normal_(w, "
        "nonlinearity=\"relu\") with zero biases"),
    "remedy.init_xavier": (
        "Xavier init for tanh/sigmoid layers: cr.nn.init.xavier_normal_(w, "
        "gain=cr.nn.init.calculate_gain(\"tanh\"))"),
    "remedy.norm": "add batch norm (cr.nn.BatchNorm1d) or layer norm between the layers",
    "remedy.residual": "add residual connections (x + f(x)) so the gradient can skip layers",
    "remedy.clip": (
        "clip the gradient norm between backward() and step(): "
        "cr.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)"),
    "remedy.smaller_lr": "a smaller learning rate (divide it by 10)",
    "remedy.larger_lr": "a larger learning rate (multiply it by 10), or Adam",
    "remedy.leaky": "LeakyReLU or GELU, whose gradient is never exactly 0",
    "remedy.zero_bias": "initialise biases at 0 (or slightly positive), never strongly negative",
    "remedy.anomaly": (
        "find the first Inf/NaN with cr.autograd.detect_anomaly() (or fit(..., "
        "detect_anomaly=True))"),
    "remedy.normalize": "normalise the inputs (zero mean, unit variance)",
}

ZH = {
    # the verdicts' titles
    "verdict.vanishing_gradients": "梯度消失",
    "verdict.exploding_gradients": "梯度爆炸",
    "verdict.dead_relu": "ReLU 神经元死亡",
    "verdict.saturation": "sigmoid/tanh 神经元饱和",
    "verdict.lr_too_large": "学习率过大",
    "verdict.lr_too_small": "学习率过小",
    # severities
    "severity.ok": "正常",
    "severity.warning": "警告",
    "severity.error": "严重",
    "severity.n/a": "不适用",
    # the report's headings and table columns
    "report.header": "梯度健康报告：{layers} 个层，记录了 {records} 步（每 {every} 步一次）",
    "report.evidence": "证据",
    "report.cause": "原因",
    "report.remedies": "对策",
    "report.table": "各层统计（记录步的中位数）",
    "report.col_layer": "层",
    "report.col_grad_norm": "梯度范数",
    "report.col_weight_norm": "权重范数",
    "report.col_update_ratio": "更新/权重比",
    "report.acts": "激活函数统计（死亡：最近 {window} 个记录批次中始终为 0；其余：记录步的中位数）",
    "report.act_col_module": "模块",
    "report.act_col_kind": "类型",
    "report.act_col_dead": "死亡比例",
    "report.act_col_saturated": "饱和比例",
    "report.act_col_mean_derivative": "平均导数",
    "report.none": "未发现问题",
    "report.flagged": "发现的问题：{codes}",
    "report.no_records": (
        "没有记录任何一步，因此无从判断：每次 loss.backward() 之后（optimizer.step() 之前）"
        "调用 monitor.record(loss)，或把监视器传给 cr.train.fit(..., callbacks=[monitor])"),
    "report.colon": "：",
    "report.list_sep": "、",
    "report.evidence_sep": "；",
    # evidence: a verdict's measured facts
    "evidence.layer_ratio": (
        "第一层的梯度范数只有最后一层的 {layer_ratio:.1e} 倍"
        "（{records} 步的中位数）：在 {depth} 个权重层中每经过一层约乘以 "
        "{factor:.2f}"),
    "evidence.layer_ratio_ok": (
        "第一层/最后一层梯度范数之比为 {layer_ratio:.2g}"
        "（低于 {vanishing_warn:g} 才报警）"),
    "evidence.too_few_layers": "需要至少两个权重层和一个记录步",
    "evidence.no_records": "没有记录任何一步",
    "evidence.nonfinite": (
        "有 {nonfinite_steps} 个记录步出现非有限（Inf/NaN）梯度或损失，最早在第 "
        "{first_nonfinite} 步"),
    "evidence.spike": (
        "总梯度范数在第 {peak_step} 步达到峰值 {peak_norm:.2e}，是中位数的 {spike:.0f} 倍"),
    "evidence.peak_growth": "在那一步，梯度从最后一层到第一层增长了 {peak_layer_ratio:.0f} 倍",
    "evidence.step_growth": (
        "从训练的前四分之一到最后四分之一，总梯度范数增长了 {step_growth:.0f} 倍"),
    "evidence.blowup": "单步更新使层 {blowup_layer} 的权重改变了 {max_update:.0%}",
    "evidence.layer_growth": (
        "梯度从最后一层到第一层增长了 {layer_ratio:.0f} 倍（每层约乘以 "
        "{factor:.2f}）"),
    "evidence.bounded": (
        "但每一步的更新仍然有界：梯度范数峰值/中位数为 {spike:.1f}，最大更新/权重比为 "
        "{max_update:.1e}（梯度裁剪或较小的学习率限制住了它）"),
    "evidence.peak_ok": "梯度范数峰值/中位数为 {spike:.1f}（达到 {spike_limit:g} 才报警）",
    "evidence.update_ok": "最大更新/权重比为 {max_update:.1e}（达到 {blowup:g} 才报警）",
    "evidence.ratio_ok": (
        "第一层/最后一层梯度范数之比为 {layer_ratio:.2g}"
        "（达到 {layer_growth:g} 才报警）"),
    "evidence.dead": (
        "{worst_module} 中 {worst_dead:.0%} 的神经元在最近 {window} 个记录批次的每个样本上"
        "都输出 0（所有 ReLU 模块平均 {mean_dead:.0%}）"),
    "evidence.dead_ok": (
        "每个 ReLU 模块中死亡神经元最多 {worst_dead:.0%}（在最近 {window} 个记录批次中"
        "始终输出 0）"),
    "evidence.no_relu": "模型中没有 ReLU 模块",
    "evidence.saturated": (
        "{worst_module}（{kind}）有 {worst_saturated:.0%} 的输出处于导数不到最大值 5% "
        "的区域（平均导数 {mean_derivative:.3f}）"),
    "evidence.saturated_ok": "每个 sigmoid/tanh 模块中饱和神经元最多 {worst_saturated:.0%}",
    "evidence.no_squash": "模型中没有 sigmoid/tanh 模块",
    "evidence.lr_high": (
        "一步更新通常使某层权重改变其范数的 {typical_update:.1e}（各层中位数），"
        "是常见值 ~1e-3 的 {times:.3g} 倍"),
    "evidence.lr_low": (
        "即使学得最快的层（{fastest_layer}）每步也只改变其范数的 {fastest_update:.1e}，"
        "比常见值 ~1e-3 低 {times:.3g} 倍"),
    "evidence.lr_high_ok": (
        "更新/权重比为 {typical_update:.1e}（各层中位数；高于 {lr_high:g} 才报警，"
        "健康值约为 1e-3）"),
    "evidence.lr_low_ok": (
        "学得最快的层（{fastest_layer}）每步改变其范数的 {fastest_update:.1e}"
        "（低于 {lr_low:g} 才报警）"),
    "evidence.lr_no_gradient": "所有权重梯度都为 0，因此步长无法说明学习率的大小",
    "evidence.no_gradient": "在每个记录步中，所有权重梯度都恰好为 0：权重无法学习",
    "evidence.no_updates": (
        "没有测到优化器的更新（请每步调用 record()，或在 step() 之后调用 "
        "record_update()）"),
    # causes
    "cause.sigmoid": (
        "sigmoid 的导数最大只有 0.25（这里平均为 {mean_derivative:.3f}）：每个 sigmoid "
        "层都会缩小反向传播的信号，而且层层累积"),
    "cause.tanh": (
        "tanh 的导数（这里平均为 {mean_derivative:.3f}）和权重在每一层都缩小反向信号，"
        "并且层层累积"),
    "cause.saturated": "饱和的神经元几乎不回传梯度",
    "cause.dead": "死亡的 ReLU 不回传梯度",
    "cause.small_weights": "相对于网络深度，权重太小：每一层都把梯度缩小",
    "cause.nonfinite": (
        "数值溢出或遇到了未定义的运算（log 0、0/0）；"
        "梯度一旦变成 Inf/NaN，权重就被破坏了"),
    "cause.large_init": (
        "权重初始化过大：每一层把反向信号放大约 {growth_factor:.2f} 倍，"
        "前面的层得到巨大的更新"),
    "cause.large_init_bounded": (
        "权重初始化过大：每一层把反向信号放大约 {growth_factor:.2f} 倍，"
        "前面的层占据了每一步（有界的）更新的大部分"),
    "cause.lr": "学习率太大，单步更新就越过了最优点",
    "cause.spike": "偶发的巨大梯度（损失函数的陡峭区域或数据中的异常值）",
    "cause.dead_units": (
        "对所有输入，预激活值都小于零：偏置过于负，或一次过大的更新把它们推到了那里；"
        "死亡的神经元得不到梯度，无法恢复"),
    "cause.large_preact": "预激活值过大（权重或输入过大），把神经元推到了函数平坦的两端",
    "cause.lr_high": "优化器的步长相对于权重本身过大",
    "cause.lr_low": "优化器的步长相对于权重极小：训练进展缓慢",
    # remedies
    "remedy.relu": "隐藏层改用 ReLU 或 GELU（cr.nn.ReLU、cr.nn.GELU）",
    "remedy.init_he": (
        "ReLU 层使用 He（Kaiming）初始化：cr.nn.init.kaiming_normal_(w, "
        "nonlinearity=\"relu\")，偏置置零"),
    "remedy.init_xavier": (
        "tanh/sigmoid 层使用 Xavier 初始化：cr.nn.init.xavier_normal_(w, "
        "gain=cr.nn.init.calculate_gain(\"tanh\"))"),
    "remedy.norm": "在层与层之间加入批归一化（cr.nn.BatchNorm1d）或层归一化",
    "remedy.residual": "加入残差连接（x + f(x)），让梯度可以跳过若干层",
    "remedy.clip": (
        "在 backward() 与 step() 之间做梯度裁剪："
        "cr.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)"),
    "remedy.smaller_lr": "减小学习率（除以 10）",
    "remedy.larger_lr": "增大学习率（乘以 10），或改用 Adam",
    "remedy.leaky": "改用 LeakyReLU 或 GELU，它们的梯度不会恰好为 0",
    "remedy.zero_bias": "偏置初始化为 0（或略大于 0），不要设成很大的负数",
    "remedy.anomaly": (
        "用 cr.autograd.detect_anomaly()（或 fit(..., detect_anomaly=True)）找到第一个 "
        "Inf/NaN"),
    "remedy.normalize": "对输入做标准化（零均值、单位方差）",
}
