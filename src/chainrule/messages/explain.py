"""The sentences of ``cr.explain``, ``cr.explain_step`` and ``cr.why_no_grad``, one dict per
language (the Chinese follows the terms of the Chinese backprop texts).

Renderers never build sentences themselves: they ask ``chainrule.messages.say(lang, key, ...)``.
"""

from __future__ import annotations

EN = {
    "title": "Backpropagation, step by step",
    "leaves": "Inputs and parameters",
    "forward": "Forward pass",
    "backward": "Backward pass (chain rule, from the output back to the inputs)",
    "grads": "Gradients of the parameters",
    "col_name": "name", "col_role": "role", "col_value": "value", "col_op": "operation",
    "col_grad": "gradient",
    "parameter": "parameter (requires grad)",
    "constant": "constant",
    "detached": "detached copy of {src}",
    "forward_intro": "Each recorded operation in the order it ran, with the value it produced.",
    "backward_intro": (
        "The engine visits the operations in reverse. At each one, the upstream gradient "
        "δ (the gradient of {root} with respect to the operation's output) is multiplied by the "
        "local derivative of that operation and sent to its inputs (the chain rule)."),
    "step": "Step {i}: {expr}",
    "rule_label": "local derivative rule: ",
    "upstream": "upstream gradient δ = d{root}/d{name} = {value}",
    "local": "local derivative d{out}/d{inp} = {value}",
    "vjp": "local derivative: a Jacobian, applied to δ as a product (never built as a matrix)",
    "send_product": "sends d{root}/d{inp} = δ × d{out}/d{inp} = {up} × {loc} = {value}",
    "send": "sends d{root}/d{inp} = {value}",
    "skip_constant": "{inp} is a constant (requires_grad=False): no gradient goes to it",
    "skip_detached": (
        "{inp} is detached from {src}: the gradient stops here and never reaches {src}"),
    "skip_none": "the rule sends no gradient to {inp} (its derivative is zero everywhere)",
    "ev_sum": "{name} is used {n} times, so its gradients add up: {parts} = {total}",
    "ev_broadcast": (
        "{inp} (shape {small}) was broadcast to {big} in the forward pass, so its gradient "
        "is summed over axes {axes}"),
    "ev_dead": "{op} zeroes {pct}% of the gradient ({k} of {n} entries had {when})",
    "dead_when_default": "a local derivative of 0",
    "ev_saturated": (
        "{op} is saturated on {pct}% of its entries (local derivative below 0.001): "
        "almost no gradient passes there"),
    "leaf_grad": "d{root}/d{name} = {value}",
    "not_written": (
        "explain() did not touch .grad: call backward() (or pass accumulate=True) to store "
        "these gradients."),
    "written": "These gradients were also added into .grad (accumulate=True).",
    # explain_step
    "update_title": "Parameter update ({opt})",
    "upd_plain": "{name}_new = {name}_old - lr × grad = {old} - {lr} × {grad} = {new}",
    "upd_sgd_wd": "weight decay: g = grad + wd × {name} = {grad} + {wd} × {old} = {g}",
    "upd_momentum_first": "momentum buffer (first step): buf = g = {buf}",
    "upd_momentum": "momentum buffer: buf = momentum × buf + (1 - dampening) × g = {m} × {prev} + "
                    "{damp} × {g} = {buf}",
    "upd_nesterov": "Nesterov: g = g + momentum × buf = {g}",
    "upd_sgd_step": "{name}_new = {name}_old - lr × {d} = {old} - {lr} × {dval} = {new}",
    "upd_adam_t": "step t = {t}",
    "upd_adam_m": "first moment m = β1 × m + (1 - β1) × g = {b1} × {mprev} + {c1} × {g} = {m}",
    "upd_adam_v": "second moment v = β2 × v + (1 - β2) × g² = {b2} × {vprev} + {c2} × {g2} = {v}",
    "upd_adam_hat": "bias corrections: m̂ = m / (1 - β1^t) = {mhat}, v̂ = v / (1 - β2^t) = {vhat}",
    "upd_adam_step": "{name}_new = {name}_old - lr × m̂ / (√v̂ + ε) = {old} - {lr} × {mhat} / "
                     "(√{vhat} + {eps}) = {new}",
    "upd_adamw": "decoupled weight decay: {name} = {name} × (1 - lr × wd) = {val}",
    "upd_amsgrad": "AMSGrad: v_max = max(v_max, v) = max({prev}, {v}) = {vmax}",
    "upd_adam_hat_ams": "bias corrections: m̂ = m / (1 - β1^t) = {mhat}, "
                        "v̂ = v_max / (1 - β2^t) = {vhat}",
    "upd_rms_v": "square average v = α × v + (1 - α) × g² = {a} × {vprev} + {c} × {g2} = {v}",
    "upd_rms_gavg": "gradient average (centered) ḡ = α × ḡ + (1 - α) × g = {a} × {prev} + "
                    "{c} × {g} = {gavg}",
    "upd_rms_avg": "denominator avg = √v + ε = {avg} (ε = {eps})",
    "upd_rms_avg_centered": "denominator avg = √(v - ḡ²) + ε = {avg} (ε = {eps})",
    "upd_rms_momentum": "momentum buffer: buf = momentum × buf + g / avg = {m} × {prev} + {g} / "
                        "{avg} = {buf}",
    "upd_rms_step": "{name}_new = {name}_old - lr × g / avg = {old} - {lr} × {g} / {avg} = {new}",
    "upd_adagrad_sum": "sum of squared gradients: s = s + g² = {prev} + {g2} = {s}",
    "upd_adagrad_clr": "decayed learning rate: clr = lr / (1 + (t - 1) × lr_decay) = {lr} / "
                       "(1 + {tm1} × {decay}) = {clr}",
    "upd_adagrad_step": "{name}_new = {name}_old - clr × g / (√s + ε) = {old} - {clr} × {g} / "
                        "(√{s} + {eps}) = {new}",
    "upd_maximize": "maximize=True: the gradient is negated",
    "upd_nograd": "{name} has no gradient: step() leaves it unchanged",
    "upd_predicted": "Computed from the optimizer's hyper-parameters and state before step(); "
                     "nothing was changed.",
    "upd_done": "step() was run; the values after it are the optimizer's own results.",
    "upd_checked": "checked: the predicted new values equal what step() produced",
    "upd_mismatch": "warning: step() produced {actual} for {name}, the formula predicted {pred}",
    # why_no_grad
    "why_ok": "d{out}/d{wrt} exists and is not zero: {value}",
    "why_integer_dtype": "{wrt} has dtype {dtype}: only floating-point tensors carry gradients. "
                         "Convert it first, e.g. {wrt}.float().requires_grad_()",
    "why_not_requires_grad": "{wrt} has requires_grad=False, so nothing records how {out} depends "
                             "on it. Create it with requires_grad=True (or call "
                             "{wrt}.requires_grad_()) before computing {out}.",
    "why_no_graph": "{out} has no graph (it is not the output of a recorded operation): it was "
                    "computed under no_grad() (or only from tensors that do not require grad, "
                    "such as .detach() copies or tensors made from .data: operations on them "
                    "record nothing, so where the link to {wrt} was lost cannot be traced)."
                    "{now}",
    "why_no_grad_now": " Gradient recording is switched off right now (no_grad is active).",
    "why_detached": "{out} depends on a detached copy of {wrt} ({where}): .detach() cuts the "
                    "graph, so no gradient flows back to {wrt}.",
    "why_detached_from": "the path from {out} to {wrt} is cut by .detach() ({where}): it took "
                         "{src} off the graph, and {src} is computed from {wrt}, so no gradient "
                         "flows back to {wrt}.",
    "why_detached_unknown": "{out} does not depend on {wrt}: the path breaks at a .detach() "
                            "({where}). What it detached was {what}, and that value's graph is "
                            "gone, so whether it was computed from {wrt} cannot be checked; but "
                            ".detach() cuts the graph, so no gradient flows back through it.",
    "why_what_op": "the result of {op}",
    "why_shared_data": "{out} does not use {wrt} itself but a tensor that shares its memory "
                       "({where}): it was not computed from {wrt} by a recorded operation (it "
                       "was made from {wrt}.data, from a NumPy array or by a .detach() taken "
                       "before {wrt} required grad, for example), so to the graph it is a "
                       "constant and no gradient flows back to {wrt}. Compute with {wrt} itself.",
    "why_graph_freed": (
        "the graph behind {out} was already freed by a backward() call ({where}). Pass "
        "retain_graph=True to the first backward() or recompute {out}."),
    "why_not_connected": "{out} does not depend on {wrt}: {wrt} is not in its graph. "
                         "The path breaks at {where}.",
    "why_not_connected_nowhere": "{out} does not depend on {wrt}: {wrt} is not in its graph "
                                 "(every input of {out} is a constant or another parameter).",
    "why_break": "{name} (shape {shape}, requires_grad=False, used by {op})",
    "why_used_by": "{name}, used by {op}",
    "why_dead_relu": "every path from {wrt} to {out} goes through a ReLU whose inputs are all "
                     "<= 0 ({where}): the mask is all zero, so the gradient is exactly zero.",
    "why_saturated": "every path from {wrt} to {out} goes through a saturated {where}: its local "
                     "derivative is (almost) zero, so the gradient vanishes.",
    "why_zero": "d{out}/d{wrt} is connected but equals zero at this point: the function is flat "
                "in {wrt} here.",
    "why_the_output": "the output",  # the names used when a tensor has none
    "why_the_parameter": "the parameter",
}

ZH = {
    "title": "反向传播，一步一步",
    "leaves": "输入与参数",
    "forward": "前向传播",
    "backward": "反向传播（链式法则，从输出一路传回输入）",
    "grads": "参数的梯度",
    "col_name": "名称", "col_role": "类型", "col_value": "值", "col_op": "运算",
    "col_grad": "梯度",
    "parameter": "参数（需要梯度）",
    "constant": "常量",
    "detached": "{src} 的 detach 副本",
    "forward_intro": "按执行顺序列出记录下来的每个运算及其输出值。",
    "backward_intro": (
        "引擎按相反的顺序访问各个运算。每一步把上游梯度，即误差项 δ"
        "（{root} 对该运算输出的偏导数），乘以该运算的局部导数，再传给它的输入（链式法则）。"),
    "step": "第 {i} 步：{expr}",
    "rule_label": "局部导数公式：",
    "upstream": "上游梯度（误差项）δ = d{root}/d{name} = {value}",
    "local": "局部导数 d{out}/d{inp} = {value}",
    "vjp": "局部导数是一个雅可比矩阵，直接以乘积的形式作用于 δ（不显式构造矩阵）",
    "send_product": "传给 {inp}：d{root}/d{inp} = δ × d{out}/d{inp} = {up} × {loc} = {value}",
    "send": "传给 {inp}：d{root}/d{inp} = {value}",
    "skip_constant": "{inp} 是常量（requires_grad=False）：不向它传梯度",
    "skip_detached": "{inp} 是从 {src} detach 出来的：梯度在这里中断，传不到 {src}",
    "skip_none": "该规则不向 {inp} 传梯度（它的导数处处为零）",
    "ev_sum": "{name} 被使用了 {n} 次，所以它的梯度要相加：{parts} = {total}",
    "ev_broadcast": (
        "{inp}（形状 {small}）在前向传播中被广播到 {big}，所以它的梯度要沿轴 {axes} 求和"),
    "ev_dead": "{op} 把 {pct}% 的梯度置零（{n} 个元素中有 {k} 个 {when}）",
    "dead_when_default": "局部导数为 0",
    "ev_saturated": "{op} 在 {pct}% 的元素上饱和（局部导数小于 0.001）：那里几乎没有梯度通过",
    "leaf_grad": "d{root}/d{name} = {value}",
    "not_written": (
        "explain() 没有改动 .grad：调用 backward()（或传入 accumulate=True）才会保存这些梯度。"),
    "written": "这些梯度也已累加到 .grad 中（accumulate=True）。",
    "update_title": "参数更新（{opt}）",
    "upd_plain": "{name}_new = {name}_old - 学习率 × 梯度 = {old} - {lr} × {grad} = {new}",
    "upd_sgd_wd": "权重衰减：g = 梯度 + wd × {name} = {grad} + {wd} × {old} = {g}",
    "upd_momentum_first": "动量缓存（第一步）：buf = g = {buf}",
    "upd_momentum": "动量缓存：buf = momentum × buf + (1 - dampening) × g = {m} × {prev} + "
                    "{damp} × {g} = {buf}",
    "upd_nesterov": "Nesterov 动量：g = g + momentum × buf = {g}",
    "upd_sgd_step": "{name}_new = {name}_old - 学习率 × {d} = {old} - {lr} × {dval} = {new}",
    "upd_adam_t": "步数 t = {t}",
    "upd_adam_m": "一阶矩 m = β1 × m + (1 - β1) × g = {b1} × {mprev} + {c1} × {g} = {m}",
    "upd_adam_v": "二阶矩 v = β2 × v + (1 - β2) × g² = {b2} × {vprev} + {c2} × {g2} = {v}",
    "upd_adam_hat": "偏差修正：m̂ = m / (1 - β1^t) = {mhat}，v̂ = v / (1 - β2^t) = {vhat}",
    "upd_adam_step": "{name}_new = {name}_old - 学习率 × m̂ / (√v̂ + ε) = {old} - {lr} × {mhat} / "
                     "(√{vhat} + {eps}) = {new}",
    "upd_adamw": "解耦权重衰减：{name} = {name} × (1 - 学习率 × wd) = {val}",
    "upd_amsgrad": "AMSGrad：v_max = max(v_max, v) = max({prev}, {v}) = {vmax}",
    "upd_adam_hat_ams": "偏差修正：m̂ = m / (1 - β1^t) = {mhat}，v̂ = v_max / (1 - β2^t) = {vhat}",
    "upd_rms_v": "梯度平方的滑动平均 v = α × v + (1 - α) × g² = {a} × {vprev} + {c} × {g2} = {v}",
    "upd_rms_gavg": "梯度的滑动平均（centered）ḡ = α × ḡ + (1 - α) × g = {a} × {prev} + "
                    "{c} × {g} = {gavg}",
    "upd_rms_avg": "分母 avg = √v + ε = {avg}（ε = {eps}）",
    "upd_rms_avg_centered": "分母 avg = √(v - ḡ²) + ε = {avg}（ε = {eps}）",
    "upd_rms_momentum": "动量缓存：buf = momentum × buf + g / avg = {m} × {prev} + {g} / {avg} = "
                        "{buf}",
    "upd_rms_step": "{name}_new = {name}_old - 学习率 × g / avg = {old} - {lr} × {g} / {avg} = "
                    "{new}",
    "upd_adagrad_sum": "梯度平方和：s = s + g² = {prev} + {g2} = {s}",
    "upd_adagrad_clr": "衰减后的学习率：clr = 学习率 / (1 + (t - 1) × lr_decay) = {lr} / "
                       "(1 + {tm1} × {decay}) = {clr}",
    "upd_adagrad_step": "{name}_new = {name}_old - clr × g / (√s + ε) = {old} - {clr} × {g} / "
                        "(√{s} + {eps}) = {new}",
    "upd_maximize": "maximize=True：梯度取反",
    "upd_nograd": "{name} 没有梯度：step() 不会改变它",
    "upd_predicted": "根据优化器的超参数和状态在 step() 之前计算；没有改动任何值。",
    "upd_done": "已执行 step()；更新后的值是优化器自己的结果。",
    "upd_checked": "已核对：预测的新值与 step() 的结果一致",
    "upd_mismatch": "警告：step() 给 {name} 的结果是 {actual}，公式预测的是 {pred}",
    "why_ok": "d{out}/d{wrt} 存在且不为零：{value}",
    "why_integer_dtype": "{wrt} 的数据类型是 {dtype}：只有浮点张量才有梯度。先转换，例如 "
                         "{wrt}.float().requires_grad_()",
    "why_not_requires_grad": "{wrt} 的 requires_grad=False，所以没有记录 {out} 如何依赖它。"
                             "在计算 {out} 之前用 requires_grad=True 创建它（或调用 "
                             "{wrt}.requires_grad_()）。",
    "why_no_graph": "{out} 没有计算图（它不是某个被记录的运算的输出）：它是在 no_grad() 下计算的"
                    "（或只由不需要梯度的张量算出，例如 .detach() 副本或由 .data 得到的张量："
                    "对它们的运算不做任何记录，因此无法追查与 {wrt} 的联系在哪里断开）。{now}",
    "why_no_grad_now": "当前梯度记录处于关闭状态（no_grad 生效中）。",
    "why_detached": "{out} 依赖的是 {wrt} 的 detach 副本（{where}）：.detach() 切断了计算图，"
                    "梯度传不回 {wrt}。",
    "why_detached_from": "从 {out} 到 {wrt} 的路径被 .detach() 切断了（{where}）：它把 {src} "
                         "从计算图中取了出来，而 {src} 是由 {wrt} 算出来的，所以梯度传不回 "
                         "{wrt}。",
    "why_detached_unknown": "{out} 不依赖 {wrt}：路径在一个 .detach() 处断开（{where}）。被 "
                            "detach 的是{what}，而那个值的计算图已经不在了，无法检查它是否由 "
                            "{wrt} 算出；但 .detach() 会切断计算图，梯度不会从这里传回。",
    "why_what_op": "一个 {op} 运算的结果",
    "why_shared_data": "{out} 用的不是 {wrt} 本身，而是与它共享内存的张量（{where}）：它不是由"
                       "被记录的运算从 {wrt} 算出的（例如由 {wrt}.data 或 NumPy 数组得到，或是在 "
                       "{wrt} 需要梯度之前 .detach() 出来的），所以对计算图来说它是常量，梯度传不"
                       "回 {wrt}。计算时请直接使用 {wrt}。",
    "why_graph_freed": (
        "{out} 背后的计算图已被一次 backward() 释放（{where}）。第一次 backward() 时传入 "
        "retain_graph=True，或重新计算 {out}。"),
    "why_not_connected": "{out} 不依赖 {wrt}：{wrt} 不在它的计算图中。路径在 {where} 处断开。",
    "why_not_connected_nowhere": "{out} 不依赖 {wrt}：{wrt} 不在它的计算图中"
                                 "（{out} 的输入都是常量或其他参数）。",
    "why_break": "{name}（形状 {shape}，requires_grad=False，被 {op} 使用）",
    "why_used_by": "{name}，被 {op} 使用",
    "why_dead_relu": "从 {wrt} 到 {out} 的每条路径都经过一个输入全部 <= 0 的 ReLU（{where}）："
                     "掩码全为零，所以梯度恰好为零。",
    "why_saturated": "从 {wrt} 到 {out} 的每条路径都经过饱和的 {where}：其局部导数（几乎）为零，"
                     "梯度消失。",
    "why_zero": "d{out}/d{wrt} 是连通的，但在这一点上等于零：函数在这里关于 {wrt} 是平的。",
    "why_the_output": "输出",
    "why_the_parameter": "参数",
}
