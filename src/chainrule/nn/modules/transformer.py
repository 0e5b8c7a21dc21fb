"""The transformer of "Attention Is All You Need", laid out as in PyTorch: encoder and decoder
layers, their stacks and the full encoder-decoder ``Transformer``.

Parameter names and their order match PyTorch's, so a PyTorch ``state_dict`` loads as it is.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from ... import _validate as check
from ... import dtypes
from ...tensor import Tensor, _wrap
from .. import functional as F
from .. import init
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def _activation(activation, layer: str) -> Callable:
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"{layer}: activation must be 'relu', 'gelu' or a callable, got "
                             f"{activation!r}")
        return _ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError(f"{layer}: activation must be 'relu', 'gelu' or a callable, got "
                        f"{type(activation).__name__}")
    return activation


def _layer_args(layer: str, d_model, nhead, dim_feedforward, dropout, layer_norm_eps) -> tuple:
    """A transformer layer's sizes and rates, checked before any sublayer is built (so an
    error names this layer, not its attention or feed-forward parts)."""
    d_model = check.integer(d_model, layer, "d_model", low=1)
    nhead = check.integer(nhead, layer, "nhead", low=1)
    if d_model % nhead:
        raise ValueError(f"{layer}: d_model ({d_model}) must be divisible by nhead ({nhead})")
    dim_feedforward = check.integer(dim_feedforward, layer, "dim_feedforward", low=0)
    dropout = check.number(dropout, layer, "dropout", low=0.0, high=1.0)
    layer_norm_eps = check.number(layer_norm_eps, layer, "layer_norm_eps")
    check.alloc((dim_feedforward, d_model), np.float64, layer, "its feed-forward weight")
    return d_model, nhead, dim_feedforward, dropout, layer_norm_eps


def _layer_input(x, name: str, layer, arg: str) -> Tensor:
    """A transformer layer's input: a real tensor of its parameters' dtype, (L, N, E) or
    (L, E) with E = d_model."""
    x = check.tensor(x, name, arg)
    weight = layer.linear1.weight
    if x._data.dtype != weight._data.dtype:
        check.same_dtype_operands(name, (arg, "weight"), x, weight)
    e = weight.shape[1]
    if x.ndim not in (2, 3) or x.shape[-1] != e:
        raise ValueError(f"{name}(d_model={e}): {arg} must be (L, N, {e}), (N, L, {e}) with "
                         f"batch_first, or (L, {e}); got {x.shape}")
    return x


def _clones(layer: Module, num_layers, where: str) -> ModuleList:
    if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers < 1:
        raise ValueError(f"{where}: num_layers must be a positive int, got {num_layers!r}")
    if not isinstance(layer, Module):
        raise TypeError(f"{where}: the layer to repeat must be a Module, got "
                        f"{type(layer).__name__}")
    # the copies' parameters must fit in memory: checked before copying (2**62 copies would
    # never finish)
    per_layer = sum(p._data.size for p in layer.parameters()) or 1
    check.alloc((num_layers, per_layer), np.float32, where, "its copies of the layer")
    return ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])


def _square_subsequent_mask(sz: int, dtype=None) -> Tensor:
    """(sz, sz) float mask: 0 on and below the diagonal, -inf above (future positions)."""
    if not isinstance(sz, (int, np.integer)) or isinstance(sz, bool) or sz < 0:
        raise ValueError(f"generate_square_subsequent_mask: sz must be a non-negative int, got "
                         f"{sz!r}")
    dt = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"generate_square_subsequent_mask: dtype must be floating, got {dt}")
    mask = np.zeros((sz, sz), dtype=dt)
    mask[np.triu_indices(sz, 1)] = -np.inf
    return _wrap(mask)


def _mask_data(mask) -> np.ndarray:
    return mask._data if isinstance(mask, Tensor) else np.asarray(mask)


def _detect_is_causal(mask, is_causal, size) -> bool:
    """PyTorch's rule: an explicit ``is_causal`` wins; with None, a mask equal to the square
    subsequent mask counts as causal."""
    if is_causal is not None:
        return bool(is_causal)
    if mask is None:
        return False
    m = _mask_data(mask)
    sz = m.shape[-2] if size is None else size
    if m.shape != (sz, sz):
        return False
    upper = np.triu(np.ones((sz, sz), dtype=bool), 1)
    if m.dtype == np.bool_:
        return bool((m == upper).all())
    return bool((np.where(upper, -np.inf, 0.0) == m).all())


def _seq_len(x: Tensor, batch_first: bool) -> int:
    return x.shape[0] if x.ndim == 2 else x.shape[1 if batch_first else 0]


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with a residual connection, dropout and
    layer norm (after the residual, or before with ``norm_first``).

    Example:
        >>> import chainrule as cr
        >>> layer = cr.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16,
        ...                                       batch_first=True)
        >>> layer(cr.randn(3, 5, 8)).shape
        (3, 5, 8)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = "relu",
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        d_model, nhead, dim_feedforward, dropout, layer_norm_eps = _layer_args(
            "TransformerEncoderLayer", d_model, nhead, dim_feedforward, dropout, layer_norm_eps)
        activation = _activation(activation, "TransformerEncoderLayer")
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = activation

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src: Tensor, src_mask=None, src_key_padding_mask=None,
                is_causal: bool = False) -> Tensor:
        x = _layer_input(src, "TransformerEncoderLayer", self, "src")
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` applied in turn, then an optional ``norm``.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
        >>> enc = cr.nn.TransformerEncoder(layer, num_layers=2)
        >>> enc(cr.randn(5, 3, 8)).shape, len(enc.layers)
        ((5, 3, 8), 2)
    """

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int,
                 norm: Module | None = None, enable_nested_tensor: bool = True,
                 mask_check: bool = True) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers, "TransformerEncoder")
        self.num_layers = num_layers
        self.norm = norm
        # PyTorch's nested-tensor fast path does not exist here; the flags are kept for code
        # that reads them.
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False
        self.mask_check = mask_check

    def forward(self, src: Tensor, mask=None, src_key_padding_mask=None,
                is_causal: bool | None = None) -> Tensor:
        first = self.layers[0]
        if isinstance(first, TransformerEncoderLayer):
            src = _layer_input(src, "TransformerEncoder", first, "src")
        batch_first = getattr(getattr(first, "self_attn", None), "batch_first", False)
        is_causal = _detect_is_causal(mask, is_causal, _seq_len(src, batch_first))
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=is_causal)
        return x if self.norm is None else self.norm(x)


class TransformerDecoderLayer(Module):
    """Self-attention over the target, attention over the encoder's output (``memory``), then a
    feed-forward block; each with a residual connection, dropout and layer norm (after the
    residual, or before with ``norm_first``).

    Example:
        >>> import chainrule as cr
        >>> layer = cr.nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16,
        ...                                       batch_first=True)
        >>> layer(cr.randn(3, 4, 8), cr.randn(3, 6, 8)).shape
        (3, 4, 8)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = "relu",
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        d_model, nhead, dim_feedforward, dropout, layer_norm_eps = _layer_args(
            "TransformerDecoderLayer", d_model, nhead, dim_feedforward, dropout, layer_norm_eps)
        activation = _activation(activation, "TransformerDecoderLayer")
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                            batch_first=batch_first, bias=bias, dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                                 batch_first=batch_first, bias=bias, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = activation

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask=None, memory_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        x = _layer_input(tgt, "TransformerDecoderLayer", self, "tgt")
        memory = _layer_input(memory, "TransformerDecoderLayer", self, "memory")
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask,
                                    memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                           memory_is_causal))
        return self.norm3(x + self._ff_block(x))


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` applied in turn, then an optional ``norm``.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.nn.TransformerDecoderLayer(8, 2, dim_feedforward=16)
        >>> dec = cr.nn.TransformerDecoder(layer, num_layers=2)
        >>> dec(cr.randn(4, 3, 8), cr.randn(6, 3, 8)).shape
        (4, 3, 8)
    """

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int,
                 norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers, "TransformerDecoder")
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask=None, memory_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        first = self.layers[0]
        if isinstance(first, TransformerDecoderLayer):
            tgt = _layer_input(tgt, "TransformerDecoder", first, "tgt")
            memory = _layer_input(memory, "TransformerDecoder", first, "memory")
        batch_first = getattr(getattr(first, "self_attn", None), "batch_first", False)
        tgt_is_causal = _detect_is_causal(tgt_mask, tgt_is_causal,
                                          _seq_len(tgt, batch_first))
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return x if self.norm is None else self.norm(x)


class Transformer(Module):
    """The encoder-decoder transformer: ``num_encoder_layers`` encoder layers and
    ``num_decoder_layers`` decoder layers, each stack followed by a layer norm.

    Every weight matrix starts Xavier-uniform, as in PyTorch. ``forward(src, tgt, ...)`` takes
    (S, N, E) and (T, N, E) tensors ((N, S, E) and (N, T, E) with ``batch_first``, or unbatched
    (S, E) and (T, E)) and returns the decoder's output, shaped like ``tgt``. Boolean masks mark
    the positions that may NOT be attended; float masks are added to the attention scores.

    Example:
        >>> import chainrule as cr
        >>> model = cr.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1,
        ...                           num_decoder_layers=1, dim_feedforward=16, batch_first=True)
        >>> src, tgt = cr.randn(2, 5, 8), cr.randn(2, 4, 8)
        >>> mask = cr.nn.Transformer.generate_square_subsequent_mask(4)
        >>> model(src, tgt, tgt_mask=mask).shape
        (2, 4, 8)
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable = "relu", custom_encoder: Module | None = None,
                 custom_decoder: Module | None = None, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                      batch_first, norm_first, bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(*layer_args, dtype=dtype), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(*layer_args, dtype=dtype), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        self._reset_parameters()
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src: Tensor, tgt: Tensor, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        src, tgt = check.tensor(src, "Transformer", "src"), check.tensor(tgt, "Transformer", "tgt")
        if src.ndim not in (2, 3) or tgt.ndim != src.ndim:
            raise ValueError(f"Transformer: src {src.shape} and tgt {tgt.shape} must both be "
                             "3-D (batched) or 2-D (unbatched)")
        batched = src.ndim == 3
        b = 0 if self.batch_first else 1
        if batched and (tgt.ndim != 3 or src.shape[b] != tgt.shape[b]):
            raise ValueError(f"Transformer: src {src.shape} and tgt {tgt.shape} must have the "
                             f"same batch size (dim {b})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError(f"Transformer(d_model={self.d_model}): the last dim of src "
                             f"{src.shape} and tgt {tgt.shape} must be d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """A causal mask: 0 where position i may attend j (j <= i), -inf above the diagonal.

        Example:
            >>> import chainrule as cr
            >>> cr.nn.Transformer.generate_square_subsequent_mask(3).tolist()
            [[0.0, -inf, -inf], [0.0, 0.0, -inf], [0.0, 0.0, 0.0]]
        """
        return _square_subsequent_mask(sz, dtype)
