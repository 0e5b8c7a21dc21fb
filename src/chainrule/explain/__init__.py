"""Backpropagation you can read: traces of every chain-rule step, optimizer updates, and why a
gradient is missing.

Example:
    >>> import chainrule as cr
    >>> w = cr.tensor(0.5, requires_grad=True, name="w")
    >>> trace = cr.explain(cr.sigmoid(w * 2.0))
    >>> round(trace.grad("w"), 4)
    0.3932
"""

from __future__ import annotations

import sys
import types

from .cli import add_parser
from .memory import MemoryReport, explain_memory
from .model import BackwardStep, Event, ForwardStep, LeafGrad, Send
from .step import StepReport, explain_step
from .trace import Trace, explain
from .why import WhyNoGrad, why_no_grad

__all__ = ["explain", "explain_step", "why_no_grad", "explain_memory", "Trace", "StepReport",
           "WhyNoGrad", "MemoryReport",
           "BackwardStep", "Event", "ForwardStep", "LeafGrad", "Send", "add_parser"]


class _CallableModule(types.ModuleType):
    # Importing this package sets ``chainrule.explain`` to the module itself, hiding the lazy
    # ``cr.explain`` function; a callable module keeps ``cr.explain(loss)`` working either way.
    def __call__(self, *args, **kwargs):
        return explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
