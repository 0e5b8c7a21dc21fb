"""``chainrule.nn.functional``: layers and losses as plain functions (``import ... as F``).

Example:
    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> F.relu(cr.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
"""

from ... import _refused
from ...ops.conv import avg_pool2d, conv2d, fold, max_pool2d, unfold  # noqa: F401
from ...ops.linalg import linear  # noqa: F401
from ...ops.shape import flatten, pad  # noqa: F401
from .activation import (  # noqa: F401
    celu,
    elu,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softmin,
    softplus,
    softsign,
    tanh,
    tanhshrink,
)
from .attention import scaled_dot_product_attention  # noqa: F401
from .binary import binary_cross_entropy, binary_cross_entropy_with_logits  # noqa: F401
from .conv import conv_transpose2d  # noqa: F401
from .cross_entropy import cross_entropy, nll_loss  # noqa: F401
from .distance import cosine_similarity, normalize, pairwise_distance  # noqa: F401
from .dropout import dropout, dropout1d, dropout2d  # noqa: F401
from .interpolate import interpolate  # noqa: F401
from .kl_div import kl_div  # noqa: F401
from .likelihood import gaussian_nll_loss, poisson_nll_loss  # noqa: F401
from .normalization import batch_norm, group_norm, layer_norm  # noqa: F401
from .pooling import (  # noqa: F401
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool1d,
    max_pool1d,
)
from .ranking import (  # noqa: F401
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from .regression import huber_loss, l1_loss, mse_loss, smooth_l1_loss  # noqa: F401
from .sparse import embedding, one_hot  # noqa: F401

# Missing names: refused on purpose (NotSupportedError, chainrule._refused), else AttributeError.
__getattr__ = _refused.module_getattr(__name__, "nn.functional")
