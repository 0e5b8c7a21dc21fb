"""Lazy layers: the input size is read from the first input, as PyTorch's ``Lazy*`` modules.

A lazy layer holds ``UninitializedParameter`` placeholders until its first forward, which
gives them their shapes, initialises them like the ordinary layer, and turns the module into
that layer (a ``LazyLinear`` becomes a ``Linear``). The placeholders are the parameter objects
themselves, so an optimizer built before the first forward trains them. Loading a state dict
into a lazy layer gives the placeholders the saved shapes.

This module holds what the lazy layers share; each lives beside its layer, at PyTorch's path
(``LazyLinear`` in ``linear``, ``LazyConv2d`` in ``conv``, ...).
"""

from __future__ import annotations

from ... import _validate as check
from ...tensor import Tensor
from ..parameter import UninitializedBuffer, UninitializedParameter, _Uninitialized


def _infer_parameters(module, args) -> None:
    module.initialize_parameters(*args)
    if module.has_uninitialized_params():
        raise RuntimeError(f"{type(module).__name__}: the module still has uninitialized "
                           "parameters after its first input")
    handle = module.__dict__.pop("_initialize_hook", None)
    if handle is not None:
        handle.remove()
    if module.cls_to_become is not None:
        object.__setattr__(module, "__class__", module.cls_to_become)


class LazyModuleMixin:
    """What the lazy layers share: the first-forward hook, ``has_uninitialized_params`` and
    the class change (``cls_to_become``).

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.modules.lazy import LazyModuleMixin
        >>> layer = cr.nn.LazyLinear(2)
        >>> isinstance(layer, LazyModuleMixin), layer.has_uninitialized_params()
        (True, True)
    """

    cls_to_become: type | None = None

    def _start_lazy(self) -> None:
        self.__dict__["_initialize_hook"] = self.register_forward_pre_hook(_infer_parameters)

    def has_uninitialized_params(self) -> bool:
        """Whether any parameter or buffer of this module still lacks its shape."""
        own = list(self.parameters(recurse=False)) + list(self.buffers(recurse=False))
        return any(isinstance(t, _Uninitialized) for t in own)

    def initialize_parameters(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define initialize_parameters")


class _LazyConvMixin(LazyModuleMixin):
    def _lazy_conv_init(self, bias: bool, dtype) -> None:
        self.weight = UninitializedParameter(dtype=dtype)
        self.bias = UninitializedParameter(dtype=dtype) if bias else None
        self.in_channels = 0
        self._start_lazy()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor, *args, **kwargs) -> None:  # noqa: A002
        n = self.dims
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        if input.ndim not in (n + 1, n + 2):
            raise ValueError(f"{type(self).__name__}: expected a {n + 2}-D (batched) or "
                             f"{n + 1}-D (unbatched) input, got shape {input.shape}")
        channels = int(input.shape[0] if input.ndim == n + 1 else input.shape[1])
        if channels % self.groups:
            raise ValueError(f"{type(self).__name__}: in_channels ({channels}) must be "
                             f"divisible by groups ({self.groups})")
        self.in_channels = channels
        if self.has_uninitialized_params():
            if self.transposed:
                shape = (channels, self.out_channels // self.groups)
            else:
                shape = (self.out_channels, channels // self.groups)
            self.weight.materialize(shape + self.kernel_size)
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()


def _lazy_conv(base: type, doc: str) -> type:
    if base.transposed:
        def __init__(self, out_channels: int, kernel_size, stride=1, padding=0,
                     output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                     padding_mode: str = "zeros", device=None, dtype=None) -> None:
            base.__init__(self, groups, out_channels, kernel_size, stride, padding,
                          output_padding, groups, bias, dilation, padding_mode, dtype=dtype)
            self._lazy_conv_init(bias, dtype)
    else:
        def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                     groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                     device=None, dtype=None) -> None:
            base.__init__(self, groups, out_channels, kernel_size, stride, padding, dilation,
                          groups, bias, padding_mode, dtype=dtype)
            self._lazy_conv_init(bias, dtype)

    return type(f"Lazy{base.__name__}", (_LazyConvMixin, base),
                {"__init__": __init__, "cls_to_become": base, "__doc__": doc,
                 "__module__": base.__module__})


class _LazyNormMixin(LazyModuleMixin):
    _feature_from_end: int | None = None  # instance norms: the channel dim counted from the end

    def _lazy_norm_init(self, dtype) -> None:
        if self.affine:
            self.weight = UninitializedParameter(dtype=dtype)
            if self.bias is not None:
                self.bias = UninitializedParameter(dtype=dtype)
        if self.track_running_stats:
            self.running_mean = UninitializedBuffer(dtype=dtype)
            self.running_var = UninitializedBuffer(dtype=dtype)
        self.num_features = 0
        self._start_lazy()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        least = 2 if self._feature_from_end is None else self._feature_from_end
        if input.ndim < least:
            raise ValueError(f"{type(self).__name__}: the input of shape {input.shape} has no "
                             "channel dim")
        if self._feature_from_end is None:
            self.num_features = int(input.shape[1])
        else:
            self.num_features = int(input.shape[input.ndim - self._feature_from_end])
        if self.has_uninitialized_params():
            c = (self.num_features,)
            for t in (self.weight, self.bias, self.running_mean, self.running_var):
                if isinstance(t, _Uninitialized):
                    t.materialize(c)
            self.reset_parameters()


def _lazy_norm(base: type, doc: str, feature_from_end: int | None = None) -> type:
    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None) -> None:
        base.__init__(self, 1, eps, momentum, affine, track_running_stats, dtype=dtype)
        self._lazy_norm_init(dtype)

    def __init_instance__(self, eps: float = 1e-5, momentum: float | None = 0.1,
                          affine: bool = False, track_running_stats: bool = False, device=None,
                          dtype=None) -> None:
        base.__init__(self, 1, eps, momentum, affine, track_running_stats, dtype=dtype)
        self._lazy_norm_init(dtype)

    init = __init__ if feature_from_end is None else __init_instance__
    return type(f"Lazy{base.__name__}", (_LazyNormMixin, base),
                {"__init__": init, "cls_to_become": base, "__doc__": doc,
                 "_feature_from_end": feature_from_end, "__module__": base.__module__})


