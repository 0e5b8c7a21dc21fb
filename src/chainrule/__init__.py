"""chainrule: a deep-learning framework built around a readable, fast backpropagation engine.

Example:
    >>> import chainrule as cr
    >>> w = cr.tensor(0.5, requires_grad=True)
    >>> loss = (w * 2.0 - 3.0) ** 2
    >>> loss.backward()
    >>> w.grad
    tensor(-8.)
"""

from . import _refused, autograd, func, functional, methods, ops  # noqa: F401  (see methods)
from ._alloc import tune_allocator  # applies nothing unless CHAINRULE_MALLOPT=1
from ._refused import NotSupportedError
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    zeros,
    zeros_like,
)
from .devices import device, get_default_device, layout, set_default_device, strided
from .dtypes import (
    bfloat16,
    bool_,
    cdouble,
    cfloat,
    complex64,
    complex128,
    double,
    finfo,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .printing import set_printoptions
from .random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from .settings import (
    are_deterministic_algorithms_enabled,
    get_float32_matmul_precision,
    is_deterministic_algorithms_warn_only_enabled,
    set_float32_matmul_precision,
    use_deterministic_algorithms,
)
from .tensor import Tensor, tensor

_refused.install_on_tensor(Tensor)  # t.to_sparse() and the like say why chainrule has none

# PyTorch's dtype names that are also Python builtins: defined last, so nothing above sees them
bool, float, int = bool_, float32, int32  # noqa: A001
__version__ = "0.1.0"

# Every public op function (cr.exp, cr.matmul, ...) comes from the op registry, including ops
# defined after this import.
ops.export_to(globals())

# Subsystems load on first use, so `import chainrule` stays fast.
_SUBMODULES = {"nn", "optim", "data", "datasets", "train", "viz", "diagnose", "io", "explain",
               "serialization", "cli", "linalg", "cuda", "cpu", "amp", "accelerator",
               "backends", "jit", "compiler", "utils", "distributed", "onnx"}
_LAZY = {
    "save": ("io", "save"), "load": ("io", "load"),
    "CheckpointError": ("serialization.errors", "CheckpointError"),
    "explain": ("explain", "explain"), "explain_step": ("explain", "explain_step"),
    "why_no_grad": ("explain", "why_no_grad"),
    "explain_memory": ("explain.memory", "explain_memory"),
    "gradcheck_graph": ("graph_gradcheck", "gradcheck_graph"),
    # PyTorch's device-facing API (see devices.py): cheap, but loaded only when a program asks
    "autocast": ("amp", "autocast"), "is_autocast_enabled": ("amp", "is_autocast_enabled"),
    "get_autocast_dtype": ("amp", "get_autocast_dtype"),
    "compile": ("compiler", "compile"),
    "set_num_threads": ("threads", "set_num_threads"),
    "get_num_threads": ("threads", "get_num_threads"),
    "set_num_interop_threads": ("threads", "set_num_interop_threads"),
    "get_num_interop_threads": ("threads", "get_num_interop_threads"),
}


def __getattr__(name):
    import importlib

    if name in _LAZY:
        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(f"{__name__}.{mod}"), attr)
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    return _missing(name)  # refused on purpose (NotSupportedError), else AttributeError


_missing = _refused.module_getattr(__name__, "torch")
