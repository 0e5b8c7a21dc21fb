"""What chainrule leaves out of PyTorch's API on purpose, and the error that says so.

Some PyTorch subsystems have no place in a NumPy engine: sparse and quantized tensors, graph
capture (``torch.fx``, ``torch.export``), streams and events, storage objects. Reaching for one
of them (``cr.sparse_coo_tensor``, ``t.to_sparse()``, ``cr.fx``) raises ``NotSupportedError``,
which names the feature, says why chainrule leaves it out and what to use instead, where a
bare ``AttributeError`` would only say the name is unknown.

This table is the one place these decisions live. ``cr``, ``cr.nn`` and ``cr.nn.functional``
look a name up here from their module ``__getattr__``, which Python calls only for names the
module lacks, so existing names cost nothing. On ``Tensor`` each refused method or property is
a descriptor that raises when it is read.

``NotSupportedError`` is both a ``NotImplementedError`` and an ``AttributeError``: code that
probes with ``hasattr(t, "to_sparse")`` or ``getattr(cr, "fx", None)`` learns, correctly,
that chainrule has no such thing.

Example:
    >>> import chainrule as cr
    >>> try:
    ...     cr.tensor([1.0, 0.0]).to_sparse()
    ... except cr.NotSupportedError as e:
    ...     print(str(e)[:60])
    chainrule does not support sparse tensors (Tensor.to_sparse)
    >>> hasattr(cr, "sparse_coo_tensor")
    False
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


class NotSupportedError(NotImplementedError, AttributeError):
    """A PyTorch feature chainrule does not provide, on purpose (see ``chainrule._refused``)."""


@dataclass(frozen=True)
class Family:
    """A feature chainrule leaves out: what it is, why, and what to use instead."""

    feature: str
    why: str
    instead: str


SPARSE = Family(
    "sparse tensors",
    "every chainrule tensor is a dense NumPy array and no op has a sparse kernel",
    "use a dense tensor (for lookups into a large table, nn.Embedding or index_select)")
QUANTIZED = Family(
    "quantized tensors",
    "chainrule computes in NumPy's float and integer types; it has no quantized dtypes, "
    "observers or quantized kernels",
    "train and run in float32 (or float16 to halve the memory)")
GRAPH_CAPTURE = Family(
    "graph capture",
    "chainrule runs eagerly: every op is a NumPy call, recorded on a dynamic graph that exists "
    "only for the backward pass, so there is no program for torch.fx or torch.export to "
    "capture",
    "call the model directly, and save trained weights with cr.save")
STREAMS = Family(
    "streams and events",
    "chainrule computes on the CPU with NumPy and every op finishes before the next starts, so "
    "there is no asynchronous work to order",
    "remove the stream and event code: results are ready when an op returns")
STORAGE = Family(
    "storage objects",
    "a chainrule tensor's memory is a NumPy array, not a PyTorch storage",
    "read the values with t.detach().numpy() and save tensors with cr.save")

# namespace -> name -> family. The namespaces are PyTorch's: "torch" is what ``cr`` answers,
# "Tensor" the Tensor class, "nn" and "nn.functional" those modules.
REFUSED: dict[str, dict[str, Family]] = {
    "torch": {
        **dict.fromkeys([
            "sparse", "sparse_coo_tensor", "sparse_csr_tensor", "sparse_csc_tensor",
            "sparse_bsr_tensor", "sparse_bsc_tensor", "sparse_compressed_tensor",
            "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc",
            "smm", "sspaddmm", "hspmm", "hsmm", "dsmm", "saddmm", "spmm"], SPARSE),
        **dict.fromkeys([
            "quantization", "quantize_per_tensor", "quantize_per_tensor_dynamic",
            "quantize_per_channel", "dequantize", "int_repr", "q_scale", "q_zero_point",
            "q_per_channel_scales", "q_per_channel_zero_points", "q_per_channel_axis",
            "fake_quantize_per_tensor_affine", "fake_quantize_per_channel_affine",
            "fused_moving_avg_obs_fake_quant", "choose_qparams_optimized", "empty_quantized",
            "quantized_batch_norm", "quantized_gru", "quantized_lstm", "quantized_gru_cell",
            "quantized_lstm_cell", "quantized_rnn_relu_cell", "quantized_rnn_tanh_cell",
            "quantized_max_pool1d", "quantized_max_pool2d", "quantized_max_pool3d",
            "qint8", "qint32", "quint8", "quint4x2", "quint2x4", "qscheme",
            "per_tensor_affine", "per_tensor_symmetric", "per_channel_affine",
            "per_channel_symmetric", "per_channel_affine_float_qparams"], QUANTIZED),
        **dict.fromkeys(["fx", "export"], GRAPH_CAPTURE),
        **dict.fromkeys(["Stream", "Event"], STREAMS),
        **dict.fromkeys(["UntypedStorage", "TypedStorage"], STORAGE),
    },
    "Tensor": {
        **dict.fromkeys([
            "to_sparse", "to_sparse_coo", "to_sparse_csr", "to_sparse_csc", "to_sparse_bsr",
            "to_sparse_bsc", "to_dense", "coalesce", "is_coalesced", "indices", "values",
            "crow_indices", "col_indices", "ccol_indices", "row_indices", "sparse_dim",
            "dense_dim", "sparse_mask", "sparse_resize_", "sparse_resize_and_clear_",
            "resize_as_sparse_", "smm", "sspaddmm"], SPARSE),
        **dict.fromkeys([
            "dequantize", "int_repr", "q_scale", "q_zero_point", "q_per_channel_scales",
            "q_per_channel_zero_points", "q_per_channel_axis", "qscheme"], QUANTIZED),
        "record_stream": STREAMS,
        **dict.fromkeys(["storage", "untyped_storage", "storage_type"], STORAGE),
    },
    "nn": dict.fromkeys(["quantized", "quantizable", "qat", "intrinsic"], QUANTIZED),
    "nn.functional": {},
}

# How each namespace is spelled in messages.
_PREFIX = {"torch": "cr.", "Tensor": "Tensor.", "nn": "cr.nn.",
           "nn.functional": "cr.nn.functional."}


def error(namespace: str, name: str) -> NotSupportedError:
    """The error for a refused name: the feature, why, and what to use instead."""
    family = REFUSED[namespace][name]
    return NotSupportedError(
        f"chainrule does not support {family.feature} ({_PREFIX[namespace]}{name}): "
        f"{family.why}; {family.instead}")


def module_getattr(module_name: str, namespace: str) -> Callable[[str], object]:
    """A module ``__getattr__`` that refuses the namespace's refused names, else the usual
    ``AttributeError``. Python calls it only for names the module does not have."""
    refused = REFUSED[namespace]

    def __getattr__(name: str):
        if name in refused:
            raise error(namespace, name)
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__


class _RefusedAttribute:
    """A Tensor attribute that raises ``NotSupportedError`` when read (on a tensor or the
    class), and is not settable through the instance."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None):
        raise error("Tensor", self.name)

    def __set__(self, obj, value) -> None:
        raise error("Tensor", self.name)


def install_on_tensor(cls: type) -> None:
    """Put a refusing descriptor on ``cls`` for every refused Tensor name it does not define
    (a real implementation always wins; ``tests/test_refused.py`` then asks to drop the entry)."""
    for name in REFUSED["Tensor"]:
        if not any(name in vars(c) for c in cls.__mro__):
            setattr(cls, name, _RefusedAttribute(name))
