"""From recorded statistics to verdicts: every decision is a comparison of a measured number
with a documented threshold (``Thresholds``), so a report can always say why it said what it did.

Medians over the recorded steps are used wherever one unlucky batch should not decide.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .monitor import gate
from .report import DiagnosisReport, Verdict

# A ReLU unit is dead when it outputs 0 for every sample of the last DEAD_WINDOW recorded
# batches: one batch of 64 leaves 10-20% of a healthy net's units silent by chance.
DEAD_WINDOW = 10

CODES = ("vanishing_gradients", "exploding_gradients", "dead_relu", "saturation", "lr_too_large",
         "lr_too_small")


@dataclass(frozen=True)
class Thresholds:
    """The numbers the verdicts compare against (see docs/diagnose.md for the reasoning)."""

    vanishing_warn: float = 1e-2  # first / last weight-layer gradient norm below this
    vanishing_error: float = 1e-4
    layer_growth: float = 1e2  # first / last above this: gradients grow toward the input
    spike_limit: float = 1e2  # a step's total gradient norm over the run's median
    blowup: float = 1.0  # one step changed a layer's weights by >= 100% of their norm
    # fraction of a ReLU module's units dead (silent on all of the last DEAD_WINDOW batches);
    # a healthy deep, narrow He-initialised net has up to ~30% of them in its deepest layers
    dead_warn: float = 0.4
    dead_error: float = 0.6
    saturated_warn: float = 0.2  # fraction of sigmoid/tanh outputs with derivative < 5% of max
    saturated_error: float = 0.5
    lr_high: float = 1e-1  # median over layers of the update/weight ratio above this
    lr_low: float = 1e-5  # the fastest layer's update/weight ratio below this
    lr_target: float = 1e-3  # the usual healthy update/weight ratio


def _nanmedian(a) -> float:
    a = np.asarray(a, dtype=np.float64)
    a = a[~np.isnan(a)]
    return float(np.median(a)) if a.size else math.nan


def diagnose(monitor, thresholds: Thresholds | None = None) -> DiagnosisReport:
    """Compute every verdict from ``monitor``'s records."""
    T = thresholds or Thresholds()
    wl = monitor.weight_layers()
    n = len(monitor.records)
    layers = monitor.layer_names
    info = {"layers": len(layers), "records": n, "every": monitor.every,
            "window": min(n, DEAD_WINDOW), "weight_layers": wl, "thresholds": asdict(T)}
    if not n:
        # No numbers, no verdicts: judging absent records would state things about the model
        # that were never measured (no ReLU output seen is not "no ReLU in the model").
        base = {"records": 0, "every": monitor.every}
        return DiagnosisReport([Verdict(c, "n/a", dict(base), ["no_records"]) for c in CODES],
                               [], [], info)
    # steps x weight layers
    G = np.array([monitor.series(name, "grad_norm") for name in wl]).T if n and wl \
        else np.zeros((n, 0))
    U = np.array([monitor.series(name, "update_ratio") for name in wl]).T if n and wl \
        else np.zeros((n, 0))
    total = np.sqrt(np.nansum([monitor.series(name, "grad_norm") ** 2 for name in layers],
                              axis=0)) if n else np.zeros(0)
    acts = _activation_table(monitor)
    base = {"records": n, "every": monitor.every, "depth": len(wl),
            "window": min(n, DEAD_WINDOW)} | asdict(T)

    grads = _gradient_facts(G, U, total, wl, monitor, base)
    verdicts = [
        _vanishing(grads, acts, T),
        _exploding(grads, acts, T),
        _dead(acts, base, T),
        _saturation(acts, base, T),
        *_learning_rate(U, wl, base, T, grads["no_gradient"]),
    ]
    table = [{"layer": name,
              "grad_norm": _nanmedian(monitor.series(name, "grad_norm")),
              "weight_norm": _nanmedian(monitor.series(name, "weight_norm")),
              "update_ratio": _nanmedian(monitor.series(name, "update_ratio"))}
             for name in layers]
    return DiagnosisReport(verdicts, table, acts, info)


def _gradient_facts(G, U, total, wl, monitor, base) -> dict:
    f = dict(base)
    finite_total = total[np.isfinite(total)]
    bad_steps = [int(s) for s, t in zip(monitor.steps, total) if not np.isfinite(t)]
    bad_steps += [int(r["step"]) for r in monitor.curves
                  if "loss" in r and not math.isfinite(r["loss"])]
    bad_steps = sorted(set(bad_steps))
    f["nonfinite_steps"] = len(bad_steps)
    f["first_nonfinite"] = bad_steps[0] if bad_steps else None
    f["applicable"] = G.shape[1] >= 2 and G.shape[0] >= 1
    if f["applicable"]:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = G[:, 0] / G[:, -1]
        ratios = ratios[np.isfinite(ratios)]
        f["layer_ratio"] = float(np.median(ratios)) if ratios.size else math.nan
        r = f["layer_ratio"]
        f["factor"] = r ** (1 / (G.shape[1] - 1)) if r > 0 else 0.0
    else:
        f["layer_ratio"], f["factor"] = math.nan, math.nan
    med = float(np.median(finite_total)) if finite_total.size else math.nan
    f["peak_layer_ratio"] = f["peak_factor"] = math.nan
    if finite_total.size and med > 0:
        k = int(np.argmax(np.where(np.isfinite(total), total, -np.inf)))
        f["peak_norm"], f["peak_step"] = float(total[k]), int(monitor.steps[k])
        f["spike"] = float(total[k]) / med
        if f["applicable"] and G[k, -1] > 0:
            # the layer profile at the worst step tells a bad init from a bad step size
            f["peak_layer_ratio"] = float(G[k, 0] / G[k, -1])
            f["peak_factor"] = f["peak_layer_ratio"] ** (1 / (G.shape[1] - 1))
    else:
        f["peak_norm"], f["peak_step"], f["spike"] = math.nan, None, 1.0
    q = len(finite_total) // 4
    f["step_growth"] = 1.0
    if q >= 2:
        first, last = np.median(finite_total[:q]), np.median(finite_total[-q:])
        if first > 0:
            f["step_growth"] = float(last / first)
    f["no_gradient"] = bool(G.size) and bool(np.all(G == 0))
    finite_u = np.where(np.isfinite(U), U, np.nan) if U.size else U
    if U.size and not np.all(np.isnan(finite_u)):
        j = np.unravel_index(np.nanargmax(finite_u), U.shape)
        f["max_update"], f["blowup_layer"] = float(finite_u[j]), wl[j[1]]
    else:
        f["max_update"], f["blowup_layer"] = math.nan, None
    return f


def _vanishing(f, acts, T) -> Verdict:
    if f["no_gradient"]:
        severity, evidence = "error", ["no_gradient"]
    elif not f["applicable"] or math.isnan(f["layer_ratio"]):
        return Verdict("vanishing_gradients", "n/a", f, ["too_few_layers"])
    elif f["layer_ratio"] >= T.vanishing_warn:
        return Verdict("vanishing_gradients", "ok", f, ["layer_ratio_ok"])
    else:
        severity = "error" if f["layer_ratio"] < T.vanishing_error else "warning"
        evidence = ["layer_ratio"]
    facts = dict(f)
    relus = [a for a in acts if gate(a["kind"]) == "dies"]
    squash = [a for a in acts if gate(a["kind"]) == "saturates"]
    worst_dead = max((a["dead_fraction"] for a in relus), default=0.0)
    worst_sat = max((a["saturated_fraction"] for a in squash), default=0.0)
    remedies = ["relu", "init_he", "norm", "residual"]
    if worst_dead >= T.dead_warn:
        cause, remedies = "dead", ["leaky", "init_he", "zero_bias", "norm", "residual"]
    elif worst_sat >= T.saturated_warn:
        cause = "saturated"
        remedies = ["relu", "init_xavier", "norm", "residual"]
    elif squash:
        kinds = {a["kind"] for a in squash}
        cause = "sigmoid" if "sigmoid" in kinds else "tanh"
        facts["mean_derivative"] = _nanmedian([a["mean_derivative"] for a in squash
                                               if a["kind"] == cause])
    else:
        cause = "small_weights"
    return Verdict("vanishing_gradients", severity, facts, evidence, cause, remedies)


def _exploding(f, acts, T) -> Verdict:
    code = "exploding_gradients"
    evidence = []
    if f["nonfinite_steps"]:
        evidence.append("nonfinite")
    if f["spike"] >= T.spike_limit:
        evidence.append("spike")
        if f["peak_layer_ratio"] >= T.layer_growth:
            evidence.append("peak_growth")
    if f["step_growth"] >= T.spike_limit:
        evidence.append("step_growth")
    if f["max_update"] >= T.blowup:
        evidence.append("blowup")
    growth = f["applicable"] and f["layer_ratio"] >= T.layer_growth
    if growth:
        evidence.append("layer_growth")
    if not evidence:
        parts = ["peak_ok"]
        if not math.isnan(f["max_update"]):
            parts.append("update_ok")
        if not math.isnan(f["layer_ratio"]):
            parts.append("ratio_ok")
        return Verdict(code, "ok", f, parts)
    kinds = {a["kind"] for a in acts}
    # the init advice that fits the activations in the model (both when none is watched)
    inits = [r for r, k in (("init_he", {"relu"}), ("init_xavier", {"sigmoid", "tanh"}))
             if k & kinds or not kinds]
    remedies = ["clip", *inits, "smaller_lr", "norm"]
    if evidence == ["layer_growth"]:
        # Growth across layers alone, with bounded steps: the init is off, but clipping (or a
        # small learning rate) keeps it from wrecking the weights. A warning, not an error.
        f = dict(f, growth_factor=f["factor"])
        return Verdict(code, "warning", f, ["layer_growth", "bounded"], "large_init_bounded",
                       [*inits, "norm"])
    peak_growth = f["peak_layer_ratio"] >= T.layer_growth  # False when NaN
    if "nonfinite" in evidence:
        cause = "nonfinite"
        remedies = ["anomaly", "clip", "smaller_lr", *inits]
    elif growth or peak_growth:
        cause = "large_init"
        f = dict(f, growth_factor=f["factor"] if growth else f["peak_factor"])
    elif "blowup" in evidence:
        cause = "lr"
        remedies = ["smaller_lr", "clip", "norm"]
    else:
        cause = "spike"
    return Verdict(code, "error", f, evidence, cause, remedies)


def _activation_table(monitor) -> list[dict]:
    rows = []
    for name in monitor.activation_names:
        kind = monitor.activation_kind(name)
        row = {"module": name, "kind": kind}
        if gate(kind) == "dies":
            row["dead_fraction"] = monitor.dead_fraction(name, DEAD_WINDOW)
            row["silent_fraction"] = _nanmedian(monitor.series(name, "dead_fraction"))
            row["zero_fraction"] = _nanmedian(monitor.series(name, "zero_fraction"))
        else:
            row["saturated_fraction"] = _nanmedian(monitor.series(name, "saturated_fraction"))
            row["mean_derivative"] = _nanmedian(monitor.series(name, "mean_derivative"))
        rows.append(row)
    return rows


def _dead(acts, base, T) -> Verdict:
    relus = [a for a in acts if gate(a["kind"]) == "dies"]
    if not relus:
        return Verdict("dead_relu", "n/a", dict(base), ["no_relu"])
    worst = max(relus, key=lambda a: a["dead_fraction"])
    f = dict(base, worst_dead=worst["dead_fraction"], worst_module=worst["module"],
             mean_dead=float(np.mean([a["dead_fraction"] for a in relus])))
    if f["worst_dead"] < T.dead_warn:
        return Verdict("dead_relu", "ok", f, ["dead_ok"])
    severity = "error" if f["worst_dead"] >= T.dead_error else "warning"
    return Verdict("dead_relu", severity, f, ["dead"], "dead_units",
                   ["leaky", "init_he", "zero_bias", "smaller_lr", "norm"])


def _saturation(acts, base, T) -> Verdict:
    squash = [a for a in acts if gate(a["kind"]) == "saturates"]
    if not squash:
        return Verdict("saturation", "n/a", dict(base), ["no_squash"])
    worst = max(squash, key=lambda a: a["saturated_fraction"])
    f = dict(base, worst_saturated=worst["saturated_fraction"], worst_module=worst["module"],
             kind=worst["kind"], mean_derivative=worst["mean_derivative"])
    if f["worst_saturated"] < T.saturated_warn:
        return Verdict("saturation", "ok", f, ["saturated_ok"])
    severity = "error" if f["worst_saturated"] >= T.saturated_error else "warning"
    return Verdict("saturation", severity, f, ["saturated"], "large_preact",
                   ["init_xavier", "normalize", "norm", "relu", "smaller_lr"])


def _learning_rate(U, wl, base, T, no_gradient) -> list[Verdict]:
    per_layer = [_nanmedian(U[:, j]) for j in range(U.shape[1])] if U.size else []
    per_layer = [(v, name) for v, name in zip(per_layer, wl) if not math.isnan(v)]
    if not per_layer:
        return [Verdict("lr_too_large", "n/a", dict(base), ["no_updates"]),
                Verdict("lr_too_small", "n/a", dict(base), ["no_updates"])]
    typical = float(np.median([v for v, _ in per_layer]))
    fastest, fastest_layer = max(per_layer)
    f = dict(base, typical_update=typical, fastest_update=fastest, fastest_layer=fastest_layer)
    if no_gradient:  # no gradient, no step: the step size says nothing about the rate
        return [Verdict("lr_too_large", "n/a", f, ["lr_no_gradient"]),
                Verdict("lr_too_small", "n/a", f, ["lr_no_gradient"])]
    if typical > T.lr_high:
        high = Verdict("lr_too_large", "error" if typical > 10 * T.lr_high else "warning",
                       dict(f, times=typical / T.lr_target), ["lr_high"], "lr_high",
                       ["smaller_lr", "clip", "norm"])
    else:
        high = Verdict("lr_too_large", "ok", f, ["lr_high_ok"])
    # the fastest layer decides "too small": slow early layers alone mean vanishing gradients
    if fastest < T.lr_low:
        low = Verdict("lr_too_small", "warning", dict(f, times=T.lr_target / max(fastest, 1e-300)),
                      ["lr_low"], "lr_low", ["larger_lr"])
    else:
        low = Verdict("lr_too_small", "ok", f, ["lr_low_ok"])
    return [high, low]
