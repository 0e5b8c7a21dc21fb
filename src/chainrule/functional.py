"""Every differentiable tensor function, by its PyTorch name (also exported as ``cr.<name>``).

The names come from the op registry (``chainrule.ops``): defining an ``Op`` class or a
``@public`` function adds it here, and to ``cr``, with nothing else to edit.

Example:
    >>> import chainrule as cr
    >>> import chainrule.functional as Fn
    >>> Fn.exp(cr.zeros(1)).tolist(), Fn.exp is cr.exp
    ([1.0], True)
"""

from .ops import export_to

export_to(globals())
