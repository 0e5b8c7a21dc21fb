"""``chainrule.nn.functional``: layers and losses as plain functions (``import ... as F``).

Example:
    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> F.relu(cr.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
"""

from ... import _refused
from ...ops.conv import fold, unfold  # noqa: F401
from ...ops.linalg import linear  # noqa: F401
from ...ops.shape import flatten  # noqa: F401
from .activation import (  # noqa: F401
    celu,
    celu_,
    elu,
    elu_,
    gelu,
    glu,
    gumbel_softmax,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    log_softmax,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    relu_,
    rrelu,
    rrelu_,
    selu,
    selu_,
    sigmoid,
    silu,
    softmax,
    softmax2d,
    softmin,
    softplus,
    softshrink,
    softsign,
    tanh,
    tanhshrink,
    threshold,
    threshold_,
)
from .attention import scaled_dot_product_attention  # noqa: F401
from .bilinear import bilinear  # noqa: F401
from .binary import binary_cross_entropy, binary_cross_entropy_with_logits  # noqa: F401
from .conv import (  # noqa: F401
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
)
from .cross_entropy import cross_entropy, nll_loss  # noqa: F401
from .ctc import ctc_loss  # noqa: F401
from .distance import cosine_similarity, normalize, pairwise_distance, pdist  # noqa: F401
from .dropout import (  # noqa: F401
    alpha_dropout,
    dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
)
from .interpolate import (  # noqa: F401
    interpolate,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)
from .kl_div import kl_div  # noqa: F401
from .likelihood import gaussian_nll_loss, poisson_nll_loss  # noqa: F401
from .margin import (  # noqa: F401
    multi_margin_loss,
    multilabel_margin_loss,
    triplet_margin_with_distance_loss,
)
from .multihead import multi_head_attention_forward  # noqa: F401
from .normalization import (  # noqa: F401
    batch_norm,
    group_norm,
    instance_norm,
    layer_norm,
    local_response_norm,
    rms_norm,
)
from .padding import pad  # noqa: F401
from .pixelshuffle import (  # noqa: F401
    channel_shuffle,
    native_channel_shuffle,
    pixel_shuffle,
    pixel_unshuffle,
)
from .pooling import (  # noqa: F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d,
    adaptive_max_pool2d_with_indices,
    adaptive_max_pool3d,
    adaptive_max_pool3d_with_indices,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    lp_pool1d,
    lp_pool2d,
    lp_pool3d,
    max_pool1d,
    max_pool1d_with_indices,
    max_pool2d,
    max_pool2d_with_indices,
    max_pool3d,
    max_pool3d_with_indices,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
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
from .sparse import embedding, embedding_bag, one_hot  # noqa: F401
from .vision import affine_grid, grid_sample  # noqa: F401

# Missing names: refused on purpose (NotSupportedError, chainrule._refused), else AttributeError.
__getattr__ = _refused.module_getattr(__name__, "nn.functional")
