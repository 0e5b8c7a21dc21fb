"""The table of the bad-input sweep: one good call per public callable, and the exclusions.

Each row is a good call written with the argument specs of ``_bad_input`` (``T`` float
tensors, ``I`` index tensors, ``B`` masks, ``V`` values, ``Ts`` tensor lists); the harness
derives the bad calls from it. ``public_callables()`` lists what the namespaces export, so a
new public function, layer, optimizer or scheduler without a row (or a justified exclusion)
fails ``test_every_public_callable_is_swept``.
"""

from __future__ import annotations

import inspect

import numpy as np

import chainrule as cr
import chainrule.data
import chainrule.linalg
import chainrule.nn
import chainrule.optim  # noqa: F401
from _bad_input import B, I, Lib, Spec, T, Ts, V

X = T(2, 3)
XG = T(2, 3, grad=True)
POS = T(2, 3, dist="pos", grad=True)
IMG = T(1, 2, 4, 4, grad=True)  # a batch of one 2-channel 4x4 image
SEQ = T(1, 2, 5, grad=True)  # a batch of one 2-channel length-5 signal
VOL = T(1, 2, 3, 3, 3, grad=True)
DIM = V(1, "dim")


def fn(name, *args, where="mod", kw=None, **opts) -> Spec:
    return Spec(name, where, tuple(args), dict(kw or {}), **opts)


def F(name, *args, kw=None, **opts) -> Spec:
    return fn(name, *args, where="F", kw=kw, **opts)


def layer(name, *args, call=(), kw=None, **opts) -> Spec:
    return Spec(name, "nn", tuple(args), dict(kw or {}), call=tuple(call), kind="layer", **opts)


UNARY = ["abs", "ceil", "clone", "cos", "erf", "exp", "expm1", "fix", "floor", "frac", "gelu",
         "neg", "negative", "relu", "round", "sigmoid", "sign", "silu", "sin", "softplus",
         "square", "tanh", "trunc", "isfinite", "isinf", "isnan", "logical_not", "nan_to_num",
         "is_complex", "is_floating_point", "numel", "argwhere", "nonzero", "t", "elu",
         "leaky_relu"]
POSITIVE = ["log", "sqrt", "rsqrt", "reciprocal"]
BINARY = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
          "maximum", "minimum", "eq", "ne", "not_equal", "lt", "le", "gt", "ge", "less",
          "less_equal", "greater", "greater_equal", "logical_and", "logical_or", "logical_xor",
          "atan2", "arctan2", "hypot", "isclose", "allclose", "equal"]
REDUCTIONS = ["sum", "mean", "prod", "amax", "amin", "all", "any", "argmax", "argmin",
              "logsumexp", "std", "var", "norm"]

CTC_CRASHES = tuple((a, c) for a in ("targets", "input_lengths", "target_lengths")
                    for c in ("neg_index", "oob_index", "neg", "huge", "zero"))

SPECS: list[Spec] = []
SPECS += [fn(n, XG) for n in UNARY]
SPECS += [fn(n, POS) for n in POSITIVE]
SPECS += [fn(n, XG, T(2, 3, grad=True)) for n in BINARY]
SPECS += [fn(n, POS, T(2, 3, dist="pos", grad=True)) for n in ("remainder", "fmod", "pow",
                                                                "floor_divide")]
SPECS += [fn(n, XG, DIM) for n in REDUCTIONS]
SPECS += [fn(n, XG) for n in ("max", "min")]
SPECS += [
    fn("max", XG, DIM, torch_name="max", names=("max",)),
    fn("log1p", T(2, 3, dist="unit", grad=True)),
    fn("erfinv", T(2, 3, dist="unit", grad=True)),
    fn("addcdiv", XG, XG, T(2, 3, dist="pos")),
    fn("addcmul", XG, XG, XG),
    fn("addmm", T(2, 4, grad=True), T(2, 3, grad=True), T(3, 4, grad=True)),
    fn("addmv", T(2, grad=True), T(2, 3, grad=True), T(3, grad=True)),
    fn("baddbmm", T(2, 2, 4, grad=True), T(2, 2, 3, grad=True), T(2, 3, 4, grad=True)),
    fn("bmm", T(2, 2, 3, grad=True), T(2, 3, 4, grad=True)),
    fn("mm", XG, T(3, 4, grad=True)),
    fn("matmul", XG, T(3, 4, grad=True)),
    fn("dot", T(3, grad=True), T(3, grad=True)),
    fn("outer", T(3, grad=True), T(2, grad=True)),
    fn("kron", T(2, 2, grad=True), T(2, 2, grad=True)),
    fn("linear", XG, T(4, 3, grad=True), T(4, grad=True)),
    fn("einsum", V("ij,jk->ik"), XG, T(3, 4, grad=True)),
    fn("argsort", XG, DIM),
    fn("sort", XG, DIM),
    fn("topk", XG, V(2, "size")),
    fn("unique", X),
    fn("cumsum", XG, DIM),
    fn("cumprod", XG, DIM),
    fn("softmax", XG, DIM),
    fn("log_softmax", XG, DIM),
    fn("clamp", XG, V(-0.5), V(0.5)),
    fn("clip", XG, V(-0.5), V(0.5)),
    fn("clamp_min", XG, V(-0.5)),
    fn("clamp_max", XG, V(0.5)),
    fn("lerp", XG, XG, V(0.3)),
    fn("where", B([[True, False, True], [False, True, False]]), XG, XG),
    fn("masked_fill", XG, B([[True, False, True], [False, True, False]]), V(0.5)),
    fn("gather", XG, DIM, I([[0, 1], [2, 0]], 3)),
    fn("index_select", XG, DIM, I([0, 2], 3)),
    fn("scatter", XG, DIM, I([[0, 1], [2, 0]], 3), T(2, 2, grad=True)),
    fn("scatter_add", XG, DIM, I([[0, 1], [2, 0]], 3), T(2, 2, grad=True)),
    fn("scatter_reduce", XG, DIM, I([[0, 1], [2, 0]], 3), T(2, 2, grad=True), V("sum")),
    fn("multinomial", T(2, 3, dist="pos"), V(2, "size"), random=True),
    fn("narrow", T(3, 4, grad=True), DIM, V(1), V(2, "size")),
    fn("diag", T(3, 3, grad=True)),
    fn("diagonal", T(3, 3, grad=True)),
    fn("trace", T(3, 3, grad=True)),
    fn("tril", T(3, 3, grad=True)),
    fn("triu", T(3, 3, grad=True)),
    fn("roll", XG, V(1), DIM),
    fn("repeat_interleave", XG, V(2, "size"), DIM),
    fn("flip", XG, V((0,))),
    fn("flatten", T(2, 3, 4, grad=True)),
    fn("squeeze", T(2, 1, 3, grad=True), DIM),
    fn("unsqueeze", XG, DIM),
    fn("transpose", XG, V(0, "dim"), DIM),
    fn("permute", T(2, 3, 4, grad=True), V((2, 0, 1))),
    fn("reshape", XG, V((3, 2))),
    fn("view", XG, V((3, 2)), torch_name=None),  # torch.view does not exist: Tensor.view
    fn("broadcast_to", T(1, 3, grad=True), V((2, 3))),
    fn("expand", T(1, 3, grad=True), V(2, "size"), V(3, "size"), torch_name=None),
    fn("expand_as", T(1, 3, grad=True), X, torch_name=None),
    fn("chunk", T(4, 3, grad=True), V(2, "size")),
    fn("split", T(4, 3, grad=True), V(2, "size")),
    fn("unbind", XG),
    fn("cat", Ts(XG, XG)),
    fn("concatenate", Ts(XG, XG)),
    fn("stack", Ts(XG, XG)),
    fn("pad", T(1, 2, 3, grad=True), V((1, 1))),
    fn("conv2d", IMG, T(3, 2, 3, 3, grad=True), T(3, grad=True)),
    fn("avg_pool2d", IMG, V(2, "size")),
    fn("max_pool2d", IMG, V(2, "size")),
    fn("unfold", IMG, V((2, 2))),
    fn("fold", T(1, 8, 9, grad=True), V((4, 4)), V((2, 2))),
    fn("is_tensor", X),
    # ---- creation -------------------------------------------------------------------------
    fn("tensor", V([[1.0, 2.0], [3.0, 4.0]], "data")),
    fn("as_tensor", V([[1.0, 2.0], [3.0, 4.0]], "data")),
    fn("from_numpy", V(np.ones((2, 3), dtype=np.float32), "ndarray")),
    fn("zeros", V(2, "size"), V(3, "size")),
    fn("ones", V(2, "size"), V(3, "size")),
    fn("empty", V(2, "size"), V(3, "size"), random=True),
    fn("rand", V(2, "size"), V(3, "size"), random=True),
    fn("randn", V(2, "size"), V(3, "size"), random=True),
    fn("full", V((2, 2)), V(1.5)),
    fn("zeros_like", X),
    fn("ones_like", X),
    fn("empty_like", X, random=True),
    fn("rand_like", X, random=True),
    fn("randn_like", X, random=True),
    fn("full_like", X, V(1.5)),
    fn("randint_like", T(2, 3, dtype="int64"), kw={"high": V(5, "size")}, random=True),
    fn("randint", V(0), V(5, "size"), V((2, 3)), random=True),
    fn("randperm", V(5, "size"), random=True),
    fn("arange", V(0), V(5), V(1)),
    fn("linspace", V(0.0), V(1.0), V(5, "size")),
    fn("logspace", V(0.0), V(1.0), V(5, "size")),
    fn("eye", V(3, "size")),
    fn("manual_seed", V(0)),
    fn("finfo", Lib(lambda s: s.mod.float32), fixed=(0,)),
    fn("iinfo", Lib(lambda s: s.mod.int32), fixed=(0,)),
    # ---- linalg -----------------------------------------------------------------------------
    fn("norm", XG, where="linalg"),
    fn("vector_norm", XG, V(2.0), DIM, where="linalg"),
    fn("matrix_norm", T(2, 3, 3, grad=True), where="linalg"),
]

# ---- nn.functional ------------------------------------------------------------------------
F_UNARY = ["celu", "hardsigmoid", "hardswish", "hardtanh", "logsigmoid", "mish", "relu6", "selu",
           "softsign", "tanhshrink", "hardshrink", "softshrink", "glu", "softmin", "rrelu"]
SPECS += [F(n, T(2, 4, grad=True)) for n in F_UNARY]
SPECS += [
    F("softmax2d", T(1, 2, 3, 3, grad=True), torch_name=None),  # torch has nn.Softmax2d only
    F("threshold", XG, V(0.1), V(2.0)),
    F("normalize", XG),
    F("cosine_similarity", XG, XG),
    F("pairwise_distance", XG, XG),
    F("pdist", T(3, 2, grad=True)),
    F("one_hot", I([0, 2, 1], 3), V(3, "size")),
    F("prelu", XG, T(1, grad=True)),
    F("dropout", XG, V(0.5, "prob"), random=True),
    F("dropout1d", T(2, 3, 4), V(0.5, "prob"), random=True),
    F("dropout2d", IMG, V(0.5, "prob"), random=True),
    F("dropout3d", VOL, V(0.5, "prob"), random=True),
    F("alpha_dropout", XG, V(0.5, "prob"), V(True), random=True),
    F("feature_alpha_dropout", IMG, V(0.5, "prob"), V(True), random=True),
    F("gumbel_softmax", XG, random=True),
    F("embedding", I([[0, 2], [1, 3]], 4), T(4, 3, grad=True)),
    # PyTorch 2.13's backward of embedding_bag with empty offsets is a segmentation fault
    F("embedding_bag", I([0, 2, 1, 3], 4), T(4, 3, grad=True), I([0, 2], 4),
      torch_crashes=(("offsets", "empty"),)),
    F("layer_norm", XG, V((3,))),
    F("rms_norm", XG, V((3,))),
    F("group_norm", T(2, 4, 3, grad=True), V(2, "size")),
    F("instance_norm", T(2, 3, 4, grad=True)),
    F("batch_norm", T(4, 3, grad=True), T(3, dist="normal"), T(3, dist="pos")),
    F("local_response_norm", T(1, 3, 4, grad=True), V(2, "size")),
    F("bilinear", XG, T(2, 4, grad=True), T(5, 3, 4, grad=True), T(5, grad=True)),
    F("conv1d", SEQ, T(3, 2, 3, grad=True)),
    F("conv3d", VOL, T(3, 2, 2, 2, 2, grad=True)),
    F("conv_transpose1d", SEQ, T(2, 3, 3, grad=True)),
    F("conv_transpose2d", IMG, T(2, 3, 3, 3, grad=True)),
    F("conv_transpose3d", VOL, T(2, 3, 2, 2, 2, grad=True)),
    F("avg_pool1d", SEQ, V(2, "size")),
    F("avg_pool3d", VOL, V(2, "size")),
    F("max_pool1d", SEQ, V(2, "size")),
    F("max_pool3d", VOL, V(2, "size")),
    F("max_pool1d_with_indices", SEQ, V(2, "size")),
    F("max_pool2d_with_indices", IMG, V(2, "size")),
    F("max_pool3d_with_indices", VOL, V(2, "size")),
    F("lp_pool1d", T(1, 2, 4, dist="pos", grad=True), V(2.0), V(2, "size")),
    F("lp_pool2d", T(1, 2, 4, 4, dist="pos", grad=True), V(2.0), V(2, "size")),
    F("lp_pool3d", T(1, 2, 2, 2, 2, dist="pos", grad=True), V(2.0), V(2, "size")),
    F("adaptive_avg_pool1d", SEQ, V(2, "size")),
    F("adaptive_avg_pool2d", IMG, V(2, "size")),
    F("adaptive_avg_pool3d", VOL, V(2, "size")),
    F("adaptive_max_pool1d", SEQ, V(2, "size")),
    F("adaptive_max_pool2d", IMG, V(2, "size")),
    F("adaptive_max_pool3d", VOL, V(2, "size")),
    F("adaptive_max_pool1d_with_indices", SEQ, V(2, "size")),
    F("adaptive_max_pool2d_with_indices", IMG, V(2, "size")),
    F("adaptive_max_pool3d_with_indices", VOL, V(2, "size")),
    F("max_unpool1d", T(1, 1, 2, grad=True), I([[[1, 2]]], 4), V(2, "size")),
    F("max_unpool2d", T(1, 1, 1, 2, grad=True), I([[[[1, 2]]]], 4), V(2, "size")),
    F("max_unpool3d", T(1, 1, 1, 1, 2, grad=True), I([[[[[1, 2]]]]], 8), V(2, "size")),
    F("pixel_shuffle", T(1, 4, 2, 2, grad=True), V(2, "size")),
    F("pixel_unshuffle", T(1, 1, 4, 4, grad=True), V(2, "size")),
    F("channel_shuffle", T(1, 4, 2, 2), V(2, "size")),
    F("native_channel_shuffle", T(1, 4, 2, 2), V(2, "size"), names=("channel_shuffle",)),
    F("interpolate", IMG, kw={"scale_factor": V(2.0), "mode": V("nearest")}),
    # the deprecated names of interpolate: their errors say interpolate
    F("upsample", IMG, kw={"scale_factor": V(2.0)}, names=("interpolate",)),
    F("upsample_nearest", IMG, kw={"scale_factor": V(2.0)}, names=("interpolate",)),
    F("upsample_bilinear", IMG, kw={"scale_factor": V(2.0)}, names=("interpolate",)),
    F("grid_sample", IMG, T(1, 3, 3, 2, dist="unit", grad=True), kw={"align_corners": V(False)}),
    F("affine_grid", T(1, 2, 3, grad=True), V((1, 2, 4, 4)), kw={"align_corners": V(False)}),
    F("scaled_dot_product_attention", T(1, 3, 4, grad=True), T(1, 3, 4, grad=True),
      T(1, 3, 4, grad=True)),
    # ---- losses -------------------------------------------------------------------------------
    F("mse_loss", XG, T(2, 3)),
    F("l1_loss", XG, T(2, 3)),
    F("smooth_l1_loss", XG, T(2, 3)),
    F("huber_loss", XG, T(2, 3)),
    F("soft_margin_loss", XG, T(2, 3, dist="sign")),
    F("binary_cross_entropy", T(2, 3, dist="prob", grad=True), T(2, 3, dist="bin"),
      kw={"weight": T(2, 3, dist="pos")}),
    F("binary_cross_entropy_with_logits", XG, T(2, 3, dist="bin"),
      kw={"weight": T(2, 3, dist="pos"), "pos_weight": T(3, dist="pos")}),
    F("cross_entropy", XG, I([0, 2], 3)),
    F("nll_loss", XG, I([0, 2], 3)),
    F("kl_div", XG, T(2, 3, dist="prob"), kw={"reduction": V("batchmean")}),
    F("poisson_nll_loss", XG, T(2, 3, dist="pos")),
    F("gaussian_nll_loss", XG, T(2, 3), T(2, 3, dist="pos", grad=True)),
    F("hinge_embedding_loss", XG, T(2, 3, dist="sign")),
    F("multilabel_soft_margin_loss", XG, T(2, 3, dist="bin")),
    F("multilabel_margin_loss", XG, I([[0, 2, -1], [1, -1, 0]], 3)),
    F("multi_margin_loss", XG, I([0, 2], 3)),
    F("cosine_embedding_loss", XG, XG, T(2, dist="sign")),
    F("margin_ranking_loss", T(3, grad=True), T(3, grad=True), T(3, dist="sign")),
    F("triplet_margin_loss", XG, XG, XG),
    F("triplet_margin_with_distance_loss", XG, XG, XG),
    # PyTorch 2.13's ctc_loss reads out of bounds on labels outside [0, C) (heap corruption)
    # log_probs without grad: the gradient differs from PyTorch's on purpose (docs/nn.md)
    F("ctc_loss", T(5, 1, 3), I([[1, 2]], 3), V((5,)), V((2,)), torch_crashes=CTC_CRASHES),
    F("multi_head_attention_forward", T(2, 1, 4, grad=True), T(2, 1, 4), T(2, 1, 4), V(4, "fixed"),
      V(2, "size"), T(12, 4), T(12), V(None), V(None), V(False), V(0.0), T(4, 4), T(4),
      kw={"training": V(False)}),
]
# nn.functional's forms of registry functions (inplace=, PyTorch's functional signatures)
SPECS += [
    F("relu", XG, V(False)),
    F("elu", XG, V(1.0), V(False)),
    F("leaky_relu", XG, V(0.1), V(False)),
    F("silu", XG, V(False)),
    F("softmax", XG, DIM),
    F("log_softmax", XG, DIM),
    F("pad", T(1, 2, 3, grad=True), V((1, 2)), kw={"mode": V("constant"), "value": V(0.5)}),
    F("conv2d", IMG, T(3, 2, 3, 3, grad=True), T(3, grad=True), kw={"stride": V(1, "size"),
                                                                       "padding": V(1)}),
    F("avg_pool2d", IMG, V(2, "size"), kw={"stride": V(1, "size")}),
    F("max_pool2d", IMG, V(2, "size"), kw={"stride": V(1, "size")}),
]
# The in-place activations: relu_(x) and friends
SPECS += [F(n, T(2, 3)) for n in ("relu_", "elu_", "selu_", "celu_", "leaky_relu_",
                                  "hardtanh_", "rrelu_")]
SPECS += [F("threshold_", T(2, 3), V(0.1), V(2.0))]


# ---- layers -------------------------------------------------------------------------------
def act(name, *args, shape=(2, 4), **opts):
    return layer(name, *args, call=(T(*shape, grad=True),), **opts)


SPECS += [act(n) for n in ("ReLU", "ReLU6", "SELU", "SiLU", "Sigmoid", "Tanh", "Tanhshrink",
                           "Softsign", "LogSigmoid", "Mish", "Hardsigmoid", "Hardswish",
                           "Identity", "GELU", "ELU", "CELU", "Hardtanh", "Hardshrink",
                           "Softshrink", "Softplus", "GLU")]
SPECS += [act("RReLU", random=True)]  # random slopes while training
SPECS += [
    act("LeakyReLU", V(0.1)),
    act("Threshold", V(0.1), V(2.0)),
    act("Softmax", DIM),
    act("LogSoftmax", DIM),
    act("Softmin", DIM),
    act("PReLU", V(1, "size")),
    layer("Softmax2d", call=(T(1, 2, 3, 3, grad=True),)),
    act("Flatten"),
    layer("Unflatten", DIM, V((2, 2)), call=(T(2, 4, grad=True),)),
    act("Linear", V(4, "size"), V(3, "size")),
    layer("Bilinear", V(3, "size"), V(4, "size"), V(5, "size"), call=(XG, T(2, 4, grad=True))),
    act("LazyLinear", V(3, "size"), random=True),
    act("Dropout", V(0.5, "prob"), random=True),
    layer("Dropout1d", V(0.5, "prob"), call=(T(2, 3, 4),), random=True),
    layer("Dropout2d", V(0.5, "prob"), call=(IMG,), random=True),
    layer("Dropout3d", V(0.5, "prob"), call=(VOL,), random=True),
    act("AlphaDropout", V(0.5, "prob"), random=True),
    layer("FeatureAlphaDropout", V(0.5, "prob"), call=(IMG,), random=True),
    layer("Embedding", V(4, "size"), V(3, "size"), call=(I([[0, 2], [1, 3]], 4),)),
    layer("EmbeddingBag", V(4, "size"), V(3, "size"), call=(I([[0, 2], [1, 3]], 4),)),
    layer("LayerNorm", V(3, "size"), call=(XG,)),
    layer("RMSNorm", V(3, "size"), call=(XG,)),
    layer("GroupNorm", V(2, "size"), V(4, "size"), call=(T(2, 4, 3, grad=True),)),
    layer("LocalResponseNorm", V(2, "size"), call=(T(1, 3, 4, grad=True),)),
    layer("BatchNorm1d", V(3, "size"), call=(T(4, 3, grad=True),)),
    layer("BatchNorm2d", V(2, "size"), call=(IMG,)),
    layer("BatchNorm3d", V(2, "size"), call=(VOL,)),
    layer("LazyBatchNorm1d", call=(T(4, 3, grad=True),)),
    layer("LazyBatchNorm2d", call=(IMG,)),
    layer("LazyBatchNorm3d", call=(VOL,)),
    layer("InstanceNorm1d", V(2, "size"), call=(SEQ,)),
    layer("InstanceNorm2d", V(2, "size"), call=(IMG,)),
    layer("InstanceNorm3d", V(2, "size"), call=(VOL,)),
    layer("LazyInstanceNorm1d", call=(SEQ,)),
    layer("LazyInstanceNorm2d", call=(IMG,)),
    layer("LazyInstanceNorm3d", call=(VOL,)),
    layer("Conv1d", V(2, "size"), V(3, "size"), V(3, "size"), call=(SEQ,)),
    layer("Conv2d", V(2, "size"), V(3, "size"), V(3, "size"), call=(IMG,)),
    layer("Conv3d", V(2, "size"), V(3, "size"), V(2, "size"), call=(VOL,)),
    layer("ConvTranspose1d", V(2, "size"), V(3, "size"), V(3, "size"), call=(SEQ,)),
    layer("ConvTranspose2d", V(2, "size"), V(3, "size"), V(3, "size"), call=(IMG,)),
    layer("ConvTranspose3d", V(2, "size"), V(3, "size"), V(2, "size"), call=(VOL,)),
    layer("LazyConv1d", V(3, "size"), V(3, "size"), call=(SEQ,), random=True),
    layer("LazyConv2d", V(3, "size"), V(3, "size"), call=(IMG,), random=True),
    layer("LazyConv3d", V(3, "size"), V(2, "size"), call=(VOL,), random=True),
    layer("LazyConvTranspose1d", V(3, "size"), V(3, "size"), call=(SEQ,), random=True),
    layer("LazyConvTranspose2d", V(3, "size"), V(3, "size"), call=(IMG,), random=True),
    layer("LazyConvTranspose3d", V(3, "size"), V(2, "size"), call=(VOL,), random=True),
    layer("MaxPool1d", V(2, "size"), call=(SEQ,)),
    layer("MaxPool2d", V(2, "size"), call=(IMG,)),
    layer("MaxPool3d", V(2, "size"), call=(VOL,)),
    layer("AvgPool1d", V(2, "size"), call=(SEQ,)),
    layer("AvgPool2d", V(2, "size"), call=(IMG,)),
    layer("AvgPool3d", V(2, "size"), call=(VOL,)),
    layer("LPPool1d", V(2.0), V(2, "size"), call=(T(1, 2, 4, dist="pos", grad=True),)),
    layer("LPPool2d", V(2.0), V(2, "size"), call=(T(1, 2, 4, 4, dist="pos", grad=True),)),
    layer("LPPool3d", V(2.0), V(2, "size"), call=(T(1, 2, 2, 2, 2, dist="pos", grad=True),)),
    layer("AdaptiveAvgPool1d", V(2, "size"), call=(SEQ,)),
    layer("AdaptiveAvgPool2d", V(2, "size"), call=(IMG,)),
    layer("AdaptiveAvgPool3d", V(2, "size"), call=(VOL,)),
    layer("AdaptiveMaxPool1d", V(2, "size"), call=(SEQ,)),
    layer("AdaptiveMaxPool2d", V(2, "size"), call=(IMG,)),
    layer("AdaptiveMaxPool3d", V(2, "size"), call=(VOL,)),
    layer("MaxUnpool1d", V(2, "size"), call=(T(1, 1, 2, grad=True), I([[[1, 2]]], 4))),
    layer("MaxUnpool2d", V(2, "size"), call=(T(1, 1, 1, 2, grad=True), I([[[[1, 2]]]], 4))),
    layer("MaxUnpool3d", V(2, "size"),
          call=(T(1, 1, 1, 1, 2, grad=True), I([[[[[1, 2]]]]], 8))),
    layer("Fold", V((4, 4)), V((2, 2)), call=(T(1, 8, 9, grad=True),)),
    layer("Unfold", V((2, 2)), call=(IMG,)),
    layer("PixelShuffle", V(2, "size"), call=(T(1, 4, 2, 2, grad=True),)),
    layer("PixelUnshuffle", V(2, "size"), call=(T(1, 1, 4, 4, grad=True),)),
    layer("ChannelShuffle", V(2, "size"), call=(T(1, 4, 2, 2),)),
    layer("Upsample", kw={"scale_factor": V(2.0)}, call=(IMG,)),
    layer("UpsamplingNearest2d", kw={"scale_factor": V(2.0)}, call=(IMG,)),
    layer("UpsamplingBilinear2d", kw={"scale_factor": V(2.0)}, call=(IMG,)),
    layer("CosineSimilarity", call=(XG, XG)),
    layer("PairwiseDistance", call=(XG, XG)),
    layer("RNN", V(3, "size"), V(4, "size"), call=(T(5, 2, 3, grad=True),)),
    layer("LSTM", V(3, "size"), V(4, "size"), call=(T(5, 2, 3, grad=True),)),
    layer("GRU", V(3, "size"), V(4, "size"), call=(T(5, 2, 3, grad=True),)),
    layer("RNNCell", V(3, "size"), V(4, "size"), call=(T(2, 3, grad=True),)),
    layer("LSTMCell", V(3, "size"), V(4, "size"), call=(T(2, 3, grad=True),)),
    layer("GRUCell", V(3, "size"), V(4, "size"), call=(T(2, 3, grad=True),)),
    layer("MultiheadAttention", V(4, "size"), V(2, "size"),
          call=(T(3, 1, 4, grad=True), T(3, 1, 4), T(3, 1, 4))),
    layer("TransformerEncoderLayer", V(4, "size"), V(2, "size"), kw={"dim_feedforward": V(8),
          "dropout": V(0.0, "prob")}, call=(T(3, 1, 4, grad=True),)),
    layer("TransformerDecoderLayer", V(4, "size"), V(2, "size"), kw={"dim_feedforward": V(8),
          "dropout": V(0.0, "prob")}, call=(T(3, 1, 4, grad=True), T(2, 1, 4))),
    layer("Transformer", kw={"d_model": V(4), "nhead": V(2), "num_encoder_layers": V(1),
                             "num_decoder_layers": V(1), "dim_feedforward": V(8),
                             "dropout": V(0.0, "prob")},
          call=(T(3, 1, 4, grad=True), T(2, 1, 4))),
    layer("TransformerEncoder", Lib(lambda s: s.nn.TransformerEncoderLayer(4, 2, 8, 0.0)),
          V(1, "size"), call=(T(3, 1, 4, grad=True),)),
    layer("TransformerDecoder", Lib(lambda s: s.nn.TransformerDecoderLayer(4, 2, 8, 0.0)),
          V(1, "size"), call=(T(3, 1, 4, grad=True), T(2, 1, 4))),
]
for pad_kind in ("Zero", "Constant", "Reflection", "Replication", "Circular"):
    extra = (V(0.5),) if pad_kind == "Constant" else ()
    SPECS += [
        layer(f"{pad_kind}Pad1d", V(1, "size"), *extra, call=(T(1, 2, 3, grad=True),),
              names=("pad",)),
        layer(f"{pad_kind}Pad2d", V(1, "size"), *extra, call=(T(1, 2, 3, 3, grad=True),),
              names=("pad",)),
        layer(f"{pad_kind}Pad3d", V(1, "size"), *extra, call=(T(1, 2, 3, 3, 3, grad=True),),
              names=("pad",)),
    ]

# ---- loss layers --------------------------------------------------------------------------
RED = {"reduction": V("mean")}
SPECS += [
    layer("MSELoss", kw=RED, call=(XG, X)),
    layer("L1Loss", kw=RED, call=(XG, X)),
    layer("SmoothL1Loss", kw=RED, call=(XG, X)),
    layer("HuberLoss", kw={**RED, "delta": V(1.0)}, call=(XG, X)),
    layer("SoftMarginLoss", kw=RED, call=(XG, T(2, 3, dist="sign"))),
    layer("BCELoss", kw=RED, call=(T(2, 3, dist="prob", grad=True), T(2, 3, dist="bin"))),
    layer("BCEWithLogitsLoss", kw=RED, call=(XG, T(2, 3, dist="bin"))),
    layer("CrossEntropyLoss", kw={**RED, "label_smoothing": V(0.1, "prob")},
          call=(XG, I([0, 2], 3))),
    layer("NLLLoss", kw={**RED, "ignore_index": V(-100)}, call=(XG, I([0, 2], 3))),
    layer("NLLLoss2d", kw=RED, call=(T(1, 3, 2, 2, grad=True), I([[[0, 2], [1, 0]]], 3)),
          torch_name="NLLLoss"),
    layer("KLDivLoss", kw={"reduction": V("batchmean")}, call=(XG, T(2, 3, dist="prob"))),
    layer("PoissonNLLLoss", kw=RED, call=(XG, T(2, 3, dist="pos"))),
    layer("GaussianNLLLoss", kw=RED, call=(XG, X, T(2, 3, dist="pos"))),
    layer("HingeEmbeddingLoss", kw={**RED, "margin": V(1.0)}, call=(XG, T(2, 3, dist="sign"))),
    layer("MultiLabelSoftMarginLoss", kw=RED, call=(XG, T(2, 3, dist="bin"))),
    layer("MultiLabelMarginLoss", kw=RED, call=(XG, I([[0, 2, -1], [1, -1, 0]], 3))),
    layer("MultiMarginLoss", kw={**RED, "p": V(1)}, call=(XG, I([0, 2], 3))),
    layer("CosineEmbeddingLoss", kw={**RED, "margin": V(0.0)},
          call=(XG, XG, T(2, dist="sign"))),
    layer("MarginRankingLoss", kw={**RED, "margin": V(0.0)},
          call=(T(3, grad=True), T(3, grad=True), T(3, dist="sign"))),
    layer("TripletMarginLoss", kw={**RED, "margin": V(1.0)}, call=(XG, XG, XG)),
    layer("TripletMarginWithDistanceLoss", kw=RED, call=(XG, XG, XG)),
    layer("CTCLoss", kw=RED, call=(T(5, 1, 3), I([[1, 2]], 3), V((5,)), V((2,))),
          torch_crashes=tuple((a.replace("targets", "forward[1]"), c) for a, c in CTC_CRASHES)),
]


# ---- optimizers, schedulers, data: drivers ---------------------------------------------------
def run_optimizer(side, cls, args, kwargs, call, leaves, ctx):
    """Two steps of the optimizer on one parameter from fixed gradients; the parameter after."""
    p = side.nn.Parameter(side.tensor(np.array([1.0, -2.0, 3.0], dtype=np.float32)))
    params = args[0] if args and args[0] != "__param__" else [p]
    opt = cls(params, *args[1:], **kwargs)
    for g in call or ((0.5, -1.0, 2.0), (0.25, 0.5, -1.0)):
        p.grad = build_grad(side, g)
        if isinstance(opt, side.optim.LBFGS):
            def closure():
                opt.zero_grad()
                loss = (p * p).sum()
                loss.backward()
                return loss

            opt.step(closure)
        else:
            opt.step()
    return p


def build_grad(side, g):
    """A tuple: a float32 tensor; a 1-element list holding an array: a tensor of that array
    (its dtype and shape kept); anything else (None, a string, a bare array) as it is."""
    if isinstance(g, tuple):
        return side.tensor(np.asarray(g, dtype=np.float32))
    if isinstance(g, list):
        return side.tensor(g[0])
    return g


OPTIMIZERS = {
    "SGD": {"lr": V(0.1), "momentum": V(0.9)},
    "Adam": {"lr": V(0.1), "betas": V((0.9, 0.999), "fixed"), "eps": V(1e-8),
             "weight_decay": V(0.0)},
    "AdamW": {"lr": V(0.1), "weight_decay": V(0.01)},
    "Adamax": {"lr": V(0.1)},
    "NAdam": {"lr": V(0.1), "momentum_decay": V(0.004)},
    "RAdam": {"lr": V(0.1)},
    "Adagrad": {"lr": V(0.1), "lr_decay": V(0.0)},
    "Adadelta": {"lr": V(1.0), "rho": V(0.9)},
    "RMSprop": {"lr": V(0.1), "alpha": V(0.99), "momentum": V(0.0)},
    "ASGD": {"lr": V(0.1), "lambd": V(1e-4), "t0": V(1e6)},
    "LBFGS": {"lr": V(0.5), "max_iter": V(3, "size"), "history_size": V(2, "size")},
}
# a bad .grad is refused where it is assigned, by Tensor.grad, before the optimizer sees it
SPECS += [Spec(name, "optim", (V("__param__", "fixed"),), kw, kind="optim",
               runner=run_optimizer, names=("Tensor.grad",)) for name, kw in OPTIMIZERS.items()]


def run_scheduler(side, cls, args, kwargs, call, leaves, ctx):
    """Four epochs of the scheduler over SGD(lr=0.1, momentum=0.9); the learning rates."""
    p = side.nn.Parameter(side.tensor(np.ones(2, dtype=np.float32)))
    opt = side.optim.SGD([p], lr=0.1, momentum=0.9)
    args = [a(opt, side) if callable(a) and getattr(a, "_needs_opt", False) else a for a in args]
    if cls.__name__ == "ChainedScheduler":  # (schedulers, optimizer=None): no optimizer first
        sched = cls(*args, **kwargs)
    else:
        sched = cls(opt, *args, **kwargs)
    lrs = []
    for _ in range(4):
        opt.step()
        sched.step(1.0) if isinstance(sched, side.sched.ReduceLROnPlateau) else sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


def _inner(make):
    make._needs_opt = True
    return make


def _two_scheds(opt, side):
    return [side.sched.ConstantLR(opt, factor=0.5, total_iters=2),
            side.sched.ExponentialLR(opt, gamma=0.9)]


SCHEDULERS = {
    "StepLR": ((V(2, "size"),), {"gamma": V(0.5)}),
    "MultiStepLR": ((V((1, 3)),), {"gamma": V(0.5)}),
    "ExponentialLR": ((V(0.9),), {}),
    "ConstantLR": ((), {"factor": V(0.5), "total_iters": V(2, "size")}),
    "LinearLR": ((), {"start_factor": V(0.5), "end_factor": V(1.0), "total_iters": V(3)}),
    "CosineAnnealingLR": ((V(3, "size"),), {"eta_min": V(0.0)}),
    "CosineAnnealingWarmRestarts": ((V(2, "size"),), {"T_mult": V(1, "size")}),
    "PolynomialLR": ((), {"total_iters": V(3, "size"), "power": V(1.0)}),
    "CyclicLR": ((V(0.01), V(0.1)), {"step_size_up": V(2, "size")}),
    "OneCycleLR": ((V(0.1),), {"total_steps": V(10, "size")}),
    "ReduceLROnPlateau": ((), {"factor": V(0.5), "patience": V(1)}),
    "LambdaLR": ((V(lambda e: 0.9 ** e, "fixed"),), {}),
    "MultiplicativeLR": ((V(lambda e: 0.9, "fixed"),), {}),
    "ChainedScheduler": ((Lib(_inner(_two_scheds)),), {}),
    "SequentialLR": ((Lib(_inner(_two_scheds)),), {"milestones": V([2], "fixed")}),
}


def _sched_spec(name, args, kw):
    # an inner-scheduler maker goes through unbuilt: the driver calls it with the optimizer
    args = tuple(V(a.make, "fixed") if isinstance(a, Lib) else a for a in args)
    return Spec(name, "sched", args, kw, kind="sched", runner=run_scheduler)


SPECS += [_sched_spec(n, a, k) for n, (a, k) in SCHEDULERS.items()]


def run_data(side, cls, args, kwargs, call, leaves, ctx):
    """Build the object and read it whole: items, batches or indices."""
    obj = cls(*args, **kwargs)
    if isinstance(obj, (list, tuple)):  # random_split
        return [list(part) for part in obj]
    if hasattr(obj, "__getitem__") and hasattr(obj, "__len__"):
        return [obj[i] for i in range(len(obj))]
    return list(obj)


def tensor_dataset(side):
    return side.data.TensorDataset(side.tensor(np.arange(10, dtype=np.float32).reshape(5, 2)),
                                   side.tensor(np.arange(5)))


DS = Lib(tensor_dataset, "TensorDataset(5 rows)")
SPECS += [
    Spec("TensorDataset", "data", (T(5, 2), T(5)), kind="data", runner=run_data),
    Spec("DataLoader", "data", (DS,), {"batch_size": V(2, "size"), "drop_last": V(False)},
         kind="data", runner=run_data),
    Spec("SequentialSampler", "data", (V([0, 1, 2, 3], "fixed"),), kind="data",
         runner=run_data),
    Spec("RandomSampler", "data", (V([0, 1, 2, 3], "fixed"),), {"num_samples": V(3, "size")},
         kind="data", runner=run_data, random=True),
    Spec("SubsetRandomSampler", "data", (V([0, 2, 3]),), kind="data", runner=run_data,
         random=True),
    Spec("WeightedRandomSampler", "data", (V((1, 2, 3)), V(4, "size")), kind="data",
         runner=run_data, random=True),
    Spec("BatchSampler", "data", (V([0, 1, 2, 3, 4], "fixed"), V(2, "size"), V(False)),
         kind="data", runner=run_data),
    Spec("Subset", "data", (DS, V([0, 2])), kind="data", runner=run_data),
    Spec("ConcatDataset", "data", (Lib(lambda s: [tensor_dataset(s), tensor_dataset(s)]),),
         kind="data", runner=run_data),
    Spec("random_split", "data", (DS, V([3, 2])), kind="data", runner=run_data, random=True),
    Spec("default_collate", "data", (Lib(lambda s: [s.tensor(np.ones(2, np.float32)),
                                                     s.tensor(np.zeros(2, np.float32))]),),
         kind="data"),
]

# Functional names a layer's errors may use besides its own (``BCELoss`` reports
# ``binary_cross_entropy``)
LAYER_NAMES = {
    "BCELoss": ("binary_cross_entropy",),
    "BCEWithLogitsLoss": ("binary_cross_entropy_with_logits",),
    "KLDivLoss": ("kl_div",),
    "MultiLabelSoftMarginLoss": ("multilabel_soft_margin_loss",),
    "MultiLabelMarginLoss": ("multilabel_margin_loss",),
    "NLLLoss2d": ("nll_loss",),
    "ReLU6": ("relu6",),
    "PReLU": ("prelu",),
    "RReLU": ("rrelu",),
    "LeakyReLU": ("leaky_relu",),
    "LogSigmoid": ("logsigmoid",),
    "LogSoftmax": ("log_softmax",),
    "SiLU": ("silu",),
    "SELU": ("selu",),
    "CELU": ("celu",),
    "GELU": ("gelu",),
    "GLU": ("glu",),
    "Softmax2d": ("softmax2d", "softmax"),
    "UpsamplingNearest2d": ("upsample", "interpolate"),
    "UpsamplingBilinear2d": ("upsample", "interpolate"),
    "Upsample": ("interpolate",),
}
for _s in SPECS:
    if _s.kind == "layer" and _s.name in LAYER_NAMES:
        _s.names = tuple(_s.names) + LAYER_NAMES[_s.name]

SPEC_IDS = {s.id for s in SPECS}

# ---- what the sweep leaves out, and why ---------------------------------------------------------
EXCLUDED = {
    # state of the process, not computations on inputs: swept by their own tests
    "mod.set_default_dtype": "changes the process's default dtype (tests/test_dtypes.py)",
    "mod.set_default_device": "changes the process's default device (tests/test_devices.py)",
    "mod.set_printoptions": "printing options (tests/test_tensor.py)",
    "mod.set_rng_state": "global RNG state (tests/test_random.py)",
    "mod.set_float32_matmul_precision": "a process setting (tests/test_runtime_settings.py)",
    "mod.use_deterministic_algorithms": "a process setting (tests/test_runtime_settings.py)",
    "mod.gradcheck": "a testing tool taking a function (tests/test_function.py)",
    "mod.gradgradcheck": "a testing tool taking a function (tests/test_function.py)",
    "mod.Tensor": "the legacy constructor; cr.tensor is swept",
    "mod.Generator": "an RNG object (tests/test_random.py)",
    "mod.device": "device names (tests/test_devices.py)",
    "mod.layout": "a constant's type",
    "mod.GradcheckError": "an exception class",
    "mod.NotSupportedError": "an exception class",
    "nn.Module": "the base class; every layer is swept",
    "nn.Sequential": "a container: its items are swept",
    "nn.ModuleList": "a container (tests/nn/test_containers.py)",
    "nn.ModuleDict": "a container (tests/nn/test_containers.py)",
    "nn.ParameterList": "a container (tests/nn/test_parameter_containers.py)",
    "nn.ParameterDict": "a container (tests/nn/test_parameter_containers.py)",
    "nn.Parameter": "a tensor subclass: cr.tensor is swept",
    "nn.Buffer": "a tensor subclass: cr.tensor is swept",
    "nn.UninitializedParameter": "a placeholder of lazy layers (the Lazy layers are swept)",
    "nn.UninitializedBuffer": "a placeholder of lazy layers (the Lazy layers are swept)",
    "nn.RemovableHandle": "a hook handle, made by register_*_hook",
    "nn.StateDictError": "an exception class",
    "nn.RNNBase": "the base class of RNN, LSTM and GRU (swept)",
    "nn.RNNCellBase": "the base class of the cells (swept)",
    "nn.DataParallel": "a stub that refuses every use (tests/test_unavailable.py)",
    "nn.SyncBatchNorm": "a stub that refuses every use (tests/test_unavailable.py)",
    "optim.Optimizer": "the base class; every optimizer is swept",
    "optim.SparseAdam": "needs sparse gradients, refused on purpose (tests/test_refused.py)",
    "sched.LRScheduler": "the base class; every scheduler is swept",
    "data.Dataset": "an abstract base class",
    "data.IterableDataset": "an abstract base class",
    "data.Sampler": "an abstract base class",
    "data.DistributedSampler": "needs a process group (tests/data)",
}


def public_callables() -> list[str]:
    """Every public callable the sweep must cover, as ``where.name`` ids."""
    import chainrule.optim.lr_scheduler as sched

    out = set()

    def add(where, module, pred):
        for name in dir(module):
            if name.startswith("_"):
                continue
            obj = getattr(module, name)
            if inspect.ismodule(obj) or not callable(obj) or not pred(name, obj):
                continue
            out.add(f"{where}.{name}")

    def takes_args(name, obj):
        if inspect.isclass(obj):
            return True
        try:
            return bool(inspect.signature(obj).parameters)
        except (TypeError, ValueError):
            return True

    add("mod", cr, lambda n, o: takes_args(n, o) and not inspect.isclass(o) or n in (
        "Tensor", "Generator", "device", "layout", "GradcheckError", "NotSupportedError"))
    add("linalg", cr.linalg, lambda n, o: getattr(o, "__module__", "").startswith("chainrule"))
    # nn.functional's own functions (F.relu has inplace=, cr.relu has not); the registry's
    # functions it re-exports are swept as cr.<name>
    add("F", cr.nn.functional, lambda n, o: getattr(cr, n, None) is not o and takes_args(n, o)
        and getattr(o, "__module__", "").startswith("chainrule"))
    add("nn", cr.nn, lambda n, o: inspect.isclass(o))
    add("optim", cr.optim, lambda n, o: inspect.isclass(o))
    add("sched", sched, lambda n, o: inspect.isclass(o) and o.__module__ == sched.__name__)
    add("data", cr.data, lambda n, o: True)
    return sorted(out)


# ---- deliberate differences from PyTorch ------------------------------------------------------
# Losses whose input and target must have one shape (PyTorch broadcasts them with a warning)
_SAME_SHAPE = {"F": ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss",
                     "kl_div", "poisson_nll_loss", "gaussian_nll_loss", "hinge_embedding_loss",
                     "multilabel_soft_margin_loss"),
               "nn": ("MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "SoftMarginLoss",
                      "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss", "HingeEmbeddingLoss",
                      "MultiLabelSoftMarginLoss")}
_SHAPE_ARGS = {"F": ("input", "target"), "nn": ("forward[0]", "forward[1]")}

_SCHEDULERS_CHECKED = "schedulers check their ranges (docs/training.md): PyTorch 2.13 accepts " \
    "a step_size, milestone, patience or total_iters that is negative, fractional or 0, and " \
    "NaN factors, and then runs an undefined schedule"

# (spec id or "*", argument or "*", category or "*", verdict) -> the reason. Each is listed in
# docs/tensor-ops.md, "Deliberate differences from PyTorch".
_MIXED = "promotes mixed dtypes (documented; PyTorch refuses them)"
DELIBERATE: dict[tuple, str] = {
    **{(f"mod.{f}", arg, cat, "accepts"): _MIXED
       for f in ("isclose", "allclose") for arg in ("input", "other")
       for cat in ("bool", "uint8", "int64", "float64", "complex")},
    **{("mod.einsum", arg, cat, "accepts"): _MIXED for arg in ("operands", "arg2")
       for cat in ("uint8", "int64", "float64")},
    # dim=None means "no dim" in every reduction's signature; PyTorch's bindings of these
    # three refuse an explicit None
    # PyTorch's uint8 bilinear kernel uses fixed-point weights: results differ by 1 from the
    # rounded exact value chainrule gives
    ("F.upsample_bilinear", "input", "uint8", "wrong"): "uint8 rounding",
    ("nn.UpsamplingBilinear2d", "forward[0]", "uint8", "wrong"): "uint8 rounding",
    # PyTorch 2.13 returns an empty input of pixel_unshuffle unchanged (the wrong shape)
    ("F.pixel_unshuffle", "input", "empty", "wrong"): "PyTorch keeps the input's shape",
    ("nn.PixelUnshuffle", "forward[0]", "empty", "wrong"): "PyTorch keeps the input's shape",
    # a huge stride takes the first window only; PyTorch's int arithmetic overflows
    ("*", "stride", "huge", "accepts"): "a huge stride is one window",
    # kernel_size 0: PyTorch returns an empty result and drops the values
    ("F.max_unpool1d", "kernel_size", "zero", "refuses"): "kernel_size 0 refused",
    ("F.max_unpool2d", "kernel_size", "zero", "refuses"): "kernel_size 0 refused",
    ("F.max_unpool3d", "kernel_size", "zero", "refuses"): "kernel_size 0 refused",
    ("nn.MaxUnpool1d", "kernel_size", "zero", "refuses"): "kernel_size 0 refused",
    ("nn.MaxUnpool2d", "kernel_size", "zero", "refuses"): "kernel_size 0 refused",
    ("nn.MaxUnpool3d", "kernel_size", "zero", "refuses"): "kernel_size 0 refused",
    # a NaN margin is refused (PyTorch's margin > 0 test lets NaN through)
    ("nn.TripletMarginLoss", "margin", "nan", "refuses"): "NaN margin refused",
    # bias_k, bias_v and add_zero_attn are refused with a ValueError (docs/nn.md)
    ("F.multi_head_attention_forward", "add_zero_attn", "str", "refuses"): "not supported",
    # PyTorch's fused kernel returns a batch that an empty value does not have
    ("F.scaled_dot_product_attention", "value", "empty", "wrong"): "PyTorch ignores the batch",
    # a NaN or infinite sample position: NaN gradients here, zeros in PyTorch's kernel
    ("F.grid_sample", "grid", "nonfinite", "wrong"): "non-finite sample positions",
    # ctc: labels out of range for one class (PyTorch reads out of bounds); float labels
    ("F.ctc_loss", "log_probs", "rank_less", "refuses"): "labels out of range",
    ("F.ctc_loss", "targets", "float_index", "refuses"): "float labels refused",
    ("nn.CTCLoss", "forward[0]", "rank_less", "refuses"): "labels out of range",
    ("nn.CTCLoss", "forward[1]", "float_index", "refuses"): "float labels refused",
    **{(f"{w}.{f}", arg, cat, "refuses"): "input and target shapes must match (docs/nn.md)"
       for w, fs in _SAME_SHAPE.items() for f in fs for arg in _SHAPE_ARGS[w]
       for cat in ("rank0", "rank_more", "rank_less", "mismatch", "empty")},
    # PyTorch 2.13's embedding_bag kernel fails on embedding_dim 0 (an internal check)
    ("nn.EmbeddingBag", "embedding_dim", "zero", "accepts"): "PyTorch's internal error",
    # num_features is checked even when no parameter or statistic uses it (PyTorch skips it)
    **{(f"nn.{c}{n}d", "num_features", cat, "refuses"): "num_features checked"
       for c in ("InstanceNorm",) for n in "123"
       for cat in ("none", "str", "float", "neg", "zero")},
    # LazyInstanceNorm reads the channel dim of an unbatched input (docs/nn.md); without
    # parameters it takes any float dtype and empty batches
    **{(f"nn.LazyInstanceNorm{n}d", "forward[0]", cat, "accepts"): "docs/nn.md"
       for n in "123" for cat in ("float64", "empty", "rank_less")},
    # label_smoothing must lie in [0, 1]: PyTorch 2.13 accepts negative values and NaN
    ("nn.CrossEntropyLoss", "label_smoothing", "neg", "refuses"): "label_smoothing checked",
    ("nn.CrossEntropyLoss", "label_smoothing", "nan", "refuses"): "label_smoothing checked",
    **{(f"sched.{name}", "*", "*", "refuses"): _SCHEDULERS_CHECKED for name in SCHEDULERS},
    # a NaN or infinite hyper-parameter is refused when the optimizer is made (docs/training.md);
    # PyTorch's range tests let some through (NaN compares false) and the step gives NaN
    **{(f"optim.{name}", "*", cat, "refuses"): "non-finite hyper-parameters refused"
       for name in OPTIMIZERS for cat in ("nan", "inf", "nonfinite")},
    # LBFGS wants max_iter an integer >= 1; PyTorch runs no iteration or a fractional count
    **{("optim.LBFGS", "max_iter", cat, "refuses"): "max_iter checked"
       for cat in ("float", "neg", "zero")},
    # the history is kept in lists that grow; PyTorch allocates history_size slots up front
    ("optim.LBFGS", "history_size", "huge", "accepts"): "no allocation up front",
    # inplace=True on a tensor that requires grad computes out of place (docs/nn.md)
    ("*", "inplace", "str", "accepts"): "inplace on a graph's tensor computes out of place",
    ("mod.max", "dim", "none", "accepts"): "dim=None: over all dims",
    # class labels of any integer dtype (PyTorch wants int64 for these)
    **{(f"{w}.{f}", arg, "int32_index", "accepts"): "labels of any integer dtype"
       for w, f, arg in (("F", "cross_entropy", "target"), ("F", "nll_loss", "target"),
                         ("F", "multi_margin_loss", "target"),
                         ("F", "multilabel_margin_loss", "target"),
                         ("F", "one_hot", "tensor"), ("F", "max_unpool1d", "indices"),
                         ("F", "max_unpool2d", "indices"), ("F", "max_unpool3d", "indices"),
                         ("nn", "MaxUnpool1d", "forward[1]"), ("nn", "MaxUnpool2d", "forward[1]"),
                         ("nn", "MaxUnpool3d", "forward[1]"),
                         ("nn", "CrossEntropyLoss", "forward[1]"),
                         ("nn", "NLLLoss", "forward[1]"), ("nn", "NLLLoss2d", "forward[1]"),
                         ("nn", "MultiMarginLoss", "forward[1]"),
                         ("nn", "MultiLabelMarginLoss", "forward[1]"))},
    # PyTorch computes these uint8 targets in uint8: 1 - t and -t wrap around to 255 - t
    ("F.multilabel_soft_margin_loss", "target", "uint8", "wrong"): "PyTorch wraps in uint8",
    ("F.margin_ranking_loss", "target", "uint8", "wrong"): "PyTorch wraps in uint8",
    ("F.soft_margin_loss", "target", "uint8", "wrong"): "PyTorch wraps in uint8",
    ("nn.MultiLabelSoftMarginLoss", "forward[1]", "uint8", "wrong"): "PyTorch wraps in uint8",
    ("nn.MarginRankingLoss", "forward[2]", "uint8", "wrong"): "PyTorch wraps in uint8",
    ("nn.SoftMarginLoss", "forward[1]", "uint8", "wrong"): "PyTorch wraps in uint8",
    # log(1 + e^(-y x)) in PyTorch, -logsigmoid(y x) here: infinite targets give NaN gradients
    # in different entries
    ("F.soft_margin_loss", "target", "nonfinite", "wrong"): "infinite targets",
    ("nn.SoftMarginLoss", "forward[1]", "nonfinite", "wrong"): "infinite targets",
    ("mod.prod", "dim", "none", "accepts"): "dim=None: over all dims",
    ("mod.squeeze", "dim", "none", "accepts"): "dim=None: every dim of size 1",
    ("mod.arange", "end", "none", "accepts"): "arange(start, None) is arange(start)",
    ("mod.manual_seed", "seed", "float", "refuses"):
        "a float seed is refused rather than truncated",
    # PyTorch squares the uint8 input in uint8 in atan2's gradient (it overflows)
    ("mod.atan2", "input", "uint8", "wrong"): "PyTorch's gradient overflows in uint8",
    ("mod.arctan2", "input", "uint8", "wrong"): "PyTorch's gradient overflows in uint8",
}


def allowed(spec_id: str, arg: str, category: str, verdict: str) -> str | None:
    for key in ((spec_id, arg, category, verdict), (spec_id, "*", category, verdict),
                (spec_id, arg, "*", verdict), ("*", arg, category, verdict),
                ("*", "*", category, verdict), (spec_id, "*", "*", verdict)):
        if key in DELIBERATE:
            return DELIBERATE[key]
    return None
