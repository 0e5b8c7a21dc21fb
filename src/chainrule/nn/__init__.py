"""``chainrule.nn``: modules, layers, losses, initialisers and training utilities.

Example:
    >>> import chainrule as cr
    >>> net = cr.nn.Sequential(cr.nn.Linear(4, 16), cr.nn.ReLU(), cr.nn.Linear(16, 3))
    >>> loss = cr.nn.CrossEntropyLoss()(net(cr.randn(8, 4)), cr.tensor([0, 1, 2, 0, 1, 2, 0, 1]))
    >>> loss.backward()
    >>> net[0].weight.grad.shape
    (16, 4)
"""

from .. import _refused
from . import functional, init, utils  # noqa: F401
from .modules import (  # noqa: F401
    CELU,
    ELU,
    GELU,
    GRU,
    LSTM,
    RNN,
    SELU,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    BCELoss,
    BCEWithLogitsLoss,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    CosineEmbeddingLoss,
    CosineSimilarity,
    CrossEntropyLoss,
    Dropout,
    Dropout1d,
    Dropout2d,
    Embedding,
    Flatten,
    GaussianNLLLoss,
    GroupNorm,
    GRUCell,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    HingeEmbeddingLoss,
    HuberLoss,
    Identity,
    KLDivLoss,
    L1Loss,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSigmoid,
    LogSoftmax,
    LSTMCell,
    MarginRankingLoss,
    MaxPool1d,
    MaxPool2d,
    Mish,
    Module,
    ModuleDict,
    ModuleList,
    MSELoss,
    MultiheadAttention,
    MultiLabelSoftMarginLoss,
    NLLLoss,
    PairwiseDistance,
    PoissonNLLLoss,
    PReLU,
    ReLU,
    ReLU6,
    RemovableHandle,
    RNNCell,
    Sequential,
    Sigmoid,
    SiLU,
    SmoothL1Loss,
    SoftMarginLoss,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    StateDictError,
    Tanh,
    Tanhshrink,
    TransformerEncoder,
    TransformerEncoderLayer,
    TripletMarginLoss,
    Unflatten,
    Upsample,
)
from .parameter import Parameter  # noqa: F401
from .summary import summary  # noqa: F401

# Missing names: refused on purpose (cr.nn.quantized...: NotSupportedError), else AttributeError.
__getattr__ = _refused.module_getattr(__name__, "nn")
