"""Gradient-health diagnosis: record per-layer statistics while training, get verdicts.

``GradientMonitor`` records (by hand or as a ``fit`` callback), ``monitor.report()`` judges
(vanishing/exploding gradients, dead ReLUs, saturation, learning rate) with causes and
remedies, in English or Chinese, and ``monitor.plot_*`` draws (needs ``chainrule[plot]``).

Example:
    >>> import chainrule as cr
    >>> model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.Tanh(), cr.nn.Linear(8, 2))
    >>> monitor = cr.diagnose.GradientMonitor(model)
    >>> model(cr.randn(16, 4)).pow(2).mean().backward(); monitor.record()
    >>> monitor.report().is_flagged("vanishing_gradients")
    False
"""

from .monitor import GradientMonitor
from .report import DiagnosisReport, Verdict
from .verdicts import Thresholds, diagnose

__all__ = ["DiagnosisReport", "GradientMonitor", "Thresholds", "Verdict", "diagnose"]
