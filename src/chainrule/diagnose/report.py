"""``Verdict`` and ``DiagnosisReport``: computed findings, rendered as text (en/zh) or a dict."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from ..messages import check, say

SEVERITIES = ("error", "warning", "ok", "n/a")


@dataclass
class Verdict:
    """One check of the report: ``code``, ``severity`` and the numbers it was decided on.

    ``evidence`` holds ``evidence.*`` message keys, ``cause`` one ``cause.*`` key and
    ``remedies`` ``remedy.*`` keys of ``chainrule.messages`` (without the prefix); ``facts``
    fills their placeholders.
    """

    code: str
    severity: str
    facts: dict[str, Any] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    cause: str | None = None
    remedies: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return self.severity in ("warning", "error")

    def text(self, part: str, lang: str = "en") -> str | list[str]:
        """``title``, ``evidence`` (one string), ``cause`` or ``remedies`` (a list) in ``lang``."""
        if part == "title":
            return say(lang, f"verdict.{self.code}")
        if part == "evidence":
            return say(lang, "report.evidence_sep").join(
                say(lang, f"evidence.{k}", **self.facts) for k in self.evidence)
        if part == "cause":
            return say(lang, f"cause.{self.cause}", **self.facts) if self.cause else ""
        if part == "remedies":
            return [say(lang, f"remedy.{k}") for k in self.remedies]
        raise ValueError(f"unknown part {part!r}")

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "flagged": self.flagged,
                "title": self.text("title", lang), "evidence": self.text("evidence", lang),
                "cause": self.text("cause", lang), "remedies": self.text("remedies", lang),
                "facts": _jsonable(self.facts)}


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if hasattr(obj, "item"):  # NumPy scalars
        return _jsonable(obj.item())
    return obj


def _fmt(v) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2e}"


@dataclass
class DiagnosisReport:
    """All verdicts of a gradient-health check, plus the per-layer table they came from.

    Example:
        >>> import chainrule as cr
        >>> model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 2))
        >>> monitor = cr.diagnose.GradientMonitor(model)
        >>> model(cr.randn(16, 4)).pow(2).mean().backward(); monitor.record()
        >>> report = monitor.report()
        >>> sorted(v.code for v in report.verdicts)[:2]
        ['dead_relu', 'exploding_gradients']
    """

    verdicts: list[Verdict]
    layers: list[dict[str, Any]] = field(default_factory=list)
    activations: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def verdict(self, code: str) -> Verdict:
        for v in self.verdicts:
            if v.code == code:
                return v
        raise KeyError(f"no verdict {code!r}; codes: {[v.code for v in self.verdicts]}")

    def is_flagged(self, code: str) -> bool:
        return self.verdict(code).flagged

    @property
    def flags(self) -> list[str]:
        """Codes of the warnings and errors, errors first."""
        order = {s: i for i, s in enumerate(SEVERITIES)}
        return [v.code for v in sorted(self.verdicts, key=lambda v: order[v.severity])
                if v.flagged]

    @property
    def empty(self) -> bool:
        """True when the monitor recorded no step: then there is nothing to judge."""
        return self.info.get("records") == 0

    @property
    def ok(self) -> bool:
        """True when steps were recorded and no verdict is a warning or an error."""
        return not self.empty and not self.flags

    def render(self, lang: str = "en") -> str:
        """The report as text; ``lang="zh"`` for Chinese."""
        lang = check(lang)

        def L(key: str, **values: Any) -> str:
            return say(lang, f"report.{key}", **values)

        if self.empty:
            return "\n".join([L("header", **self.info), L("no_records")])
        colon, sep = L("colon"), L("list_sep")
        out = [L("header", **self.info),
               L("flagged", codes=sep.join(say(lang, f"verdict.{c}") for c in self.flags))
               if self.flags else L("none"), ""]
        order = {s: i for i, s in enumerate(SEVERITIES)}
        for v in sorted(self.verdicts, key=lambda v: order[v.severity]):
            out.append(f"[{say(lang, f'severity.{v.severity}')}] {v.text('title', lang)}")
            out.append(f"  {L('evidence')}{colon}{v.text('evidence', lang)}")
            if v.flagged:
                if v.cause:
                    out.append(f"  {L('cause')}{colon}{v.text('cause', lang)}")
                if v.remedies:
                    out.append(f"  {L('remedies')}{colon.rstrip()}")
                    out.extend(f"    - {r}" for r in v.text("remedies", lang))
        if self.layers:
            out += ["", L("table")]
            cols = [L(f"col_{c}") for c in ("layer", "grad_norm", "weight_norm", "update_ratio")]
            width = max(len(cols[0]), *(len(str(r["layer"])) for r in self.layers)) + 2
            out.append(f"  {cols[0]:<{width}}{cols[1]:>12}{cols[2]:>13}{cols[3]:>15}")
            for r in self.layers:
                out.append(f"  {r['layer']:<{width}}{_fmt(r['grad_norm']):>12}"
                           f"{_fmt(r['weight_norm']):>13}{_fmt(r['update_ratio']):>15}")
        if self.activations:
            out += ["", L("acts", window=self.info.get("window", "-"))]
            cols = [L(f"act_col_{c}")
                    for c in ("module", "kind", "dead", "saturated", "mean_derivative")]
            width = max(len(cols[0]), *(len(str(r["module"])) for r in self.activations)) + 2
            out.append(f"  {cols[0]:<{width}}{cols[1]:>8}{cols[2]:>10}{cols[3]:>11}{cols[4]:>17}")
            for r in self.activations:
                dead = r.get("dead_fraction")
                sat = r.get("saturated_fraction")
                der = r.get("mean_derivative")
                out.append(f"  {r['module']:<{width}}{r['kind']:>8}"
                           f"{'-' if dead is None else f'{dead:.0%}':>10}"
                           f"{'-' if sat is None else f'{sat:.0%}':>11}"
                           f"{'-' if der is None else f'{der:.3f}':>17}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """Everything as JSON-ready data; ``notice`` says so when no step was recorded."""
        d = {"info": self.info, "flags": self.flags,
             "verdicts": [v.to_dict(lang) for v in self.verdicts],
             "layers": self.layers, "activations": self.activations}
        if self.empty:
            d["notice"] = say(check(lang), "report.no_records")
        return _jsonable(d)

    def to_json(self, path: str | None = None, lang: str = "en") -> str:
        """JSON text of ``to_dict()``; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(lang), indent=2, ensure_ascii=False)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        return text
