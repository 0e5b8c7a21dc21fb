"""Every differentiable tensor function, by its PyTorch name (also exported as ``cr.<name>``)."""

from .ops.binary import (  # noqa: F401
    add, div, floor_divide, maximum, minimum, mul, remainder, sub, where,
)
from .ops.compose import (  # noqa: F401
    clamp_max, clamp_min, gather, index_select, masked_fill, outer, reciprocal,
)
from .ops.elementwise import (  # noqa: F401
    abs, cast, clamp, clip, clone, cos, elu, erf, exp, gelu, leaky_relu, log, log1p, neg, pow,
    relu, rsqrt, sigmoid, sign, silu, sin, softplus, sqrt, square, tanh,
)
from .ops.linalg import bmm, dot, linear, matmul, mm  # noqa: F401
from .ops.reduce import (  # noqa: F401
    amax, amin, argmax, argmin, cumsum, log_softmax, logsumexp, max, mean, min, prod, softmax,
    std, sum, var,
)
from .ops.shape import (  # noqa: F401
    broadcast_to, cat, chunk, concatenate, expand, expand_as, flatten, flip, pad, permute, reshape,
    split, squeeze, stack, t, transpose, unbind, unsqueeze, view,
)

subtract, multiply, divide, true_divide, negative = sub, mul, div, div, neg
from .ops.conv import avg_pool2d, conv2d, fold, max_pool2d, unfold  # noqa: E402,F401
