"""``chainrule.utils``: PyTorch's ``torch.utils`` paths.

``chainrule.utils.checkpoint`` trades compute for memory (activation checkpointing).
``chainrule.utils.data`` is ``chainrule.data`` itself (datasets, samplers, ``DataLoader``), so
``from torch.utils.data import DataLoader`` reads the same under ``import chainrule as torch``.

Example:
    >>> from chainrule.utils.data import DataLoader, TensorDataset
    >>> import chainrule as cr
    >>> len(DataLoader(TensorDataset(cr.arange(10)), batch_size=4))
    3
"""

import sys

from .. import data
from . import checkpoint  # noqa: F401  (cr.utils.checkpoint, as torch.utils.checkpoint)

sys.modules[__name__ + ".data"] = data
