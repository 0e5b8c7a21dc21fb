"""``chainrule.nn``: modules, layers, losses, initialisers and training utilities.

Example:
    >>> import chainrule as cr
    >>> net = cr.nn.Sequential(cr.nn.Linear(4, 16), cr.nn.ReLU(), cr.nn.Linear(16, 3))
    >>> loss = cr.nn.CrossEntropyLoss()(net(cr.randn(8, 4)), cr.tensor([0, 1, 2, 0, 1, 2, 0, 1]))
    >>> loss.backward()
    >>> net[0].weight.grad.shape
    (16, 4)
"""

from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
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
    CosineSimilarity,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    Flatten,
    GroupNorm,
    GRUCell,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
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
    MaxPool1d,
    MaxPool2d,
    Mish,
    Module,
    ModuleDict,
    ModuleList,
    MSELoss,
    MultiheadAttention,
    NLLLoss,
    PairwiseDistance,
    PReLU,
    ReLU,
    ReLU6,
    RemovableHandle,
    RNNCell,
    Sequential,
    Sigmoid,
    SiLU,
    SmoothL1Loss,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    StateDictError,
    Tanh,
    Tanhshrink,
    TransformerEncoder,
    TransformerEncoderLayer,
    Unflatten,
)
from .parameter import Parameter  # noqa: F401
from .summary import summary  # noqa: F401
