"""``chainrule.utils``: PyTorch's ``torch.utils`` paths.

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

sys.modules[__name__ + ".data"] = data
