"""PyTorch 2.13's public names, namespace by namespace, with the noise filtered out.

Each namespace lists the names a user of PyTorch reaches for. What is left out, and why, is
decided by the rules below, applied in order; the page reports every rule with the names it
dropped, so nothing disappears silently:

- ``private``: a leading underscore.
- ``dunder``: on ``Tensor``, every ``__x__`` name except the operators users write (``a + b``,
  ``x[i]``, ``len(x)``, ``f"{x:.3f}"``...: ``OPERATORS``).
- ``submodule``: modules (``torch.linalg``, ``torch.nn.init``...) are namespaces of their own,
  compared below where chainrule has a counterpart, or not compared at all.
- ``not an API object``: what a namespace re-exports from ``typing``, the standard library or
  its own helpers (``torch.nn.functional.Optional``, ``boolean_dispatch``), docs fragments, and
  build flags (``torch.has_mkl``).
- ``deprecated``: names PyTorch 2.13's own documentation calls deprecated or removed, with a
  replacement (``DEPRECATED``).
- ``in-place function``: ``torch.abs_`` and the like, undocumented top-level twins of the
  ``Tensor.abs_`` methods (listed under ``Tensor``).
- ``backend kernel``: cuDNN, MIOpen, oneDNN, FBGEMM and ``native_`` kernels, backward kernels,
  SyncBatchNorm's ``batch_norm_*`` kernels, and device-specific names for devices other than
  the CPU and CUDA (``is_mps``, ``Tensor.xpu``).
- ``view-copy variant``: functionalization's ``X_copy`` twins of view functions, whose docs
  say their outputs are "freshly created instead of aliasing the input" (``torch.t_copy``).
- ``compiler internals``: symbolic-shape helpers (``torch.sym_int``), TorchScript IR helpers
  (``torch.parse_ir``), control-flow operators for graph capture (``torch.cond``), autocast's
  state functions (``torch.autocast`` itself is listed), and ``Tensor`` internals
  (``output_nr``, ``unsafe_split``).
- ``C-extension class``: ``torch.__all__`` exports about 130 classes from the C extension, most
  of them TorchScript and dispatcher types (``torch.AliasDb``, ``torch.FileCheck``); only the
  user-facing ones in ``TORCH_CLASSES`` are listed, and the legacy typed classes
  (``torch.FloatTensor``, ``torch.FloatStorage``) are dropped as deprecated.
- ``shell dtype``: dtypes with no operators at all (``torch.bit``, ``torch.bits8``,
  ``torch.int3``, ``torch.uint5``).

Names chainrule refuses on purpose (``chainrule._refused``) are always listed, whatever the
rules say.
"""

from __future__ import annotations

import importlib
import re
import types
from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class Namespace:
    """A PyTorch namespace and where chainrule keeps its counterpart."""

    key: str  # PyTorch's path below ``torch`` ("" for torch itself), "Tensor" for the class
    chainrule: tuple[str, ...]  # chainrule paths below ``chainrule``, first existing wins

    @property
    def torch_label(self) -> str:
        return "torch" if not self.key else f"torch.{self.key}"


NAMESPACES = [
    Namespace("", ("",)),
    Namespace("Tensor", ("Tensor",)),
    Namespace("nn", ("nn",)),
    Namespace("nn.functional", ("nn.functional",)),
    Namespace("nn.init", ("nn.init",)),
    Namespace("nn.utils", ("nn.utils",)),
    Namespace("nn.utils.rnn", ("nn.utils.rnn",)),
    Namespace("optim", ("optim",)),
    Namespace("optim.lr_scheduler", ("optim.lr_scheduler",)),
    Namespace("utils.data", ("utils.data", "data")),  # chainrule's name is cr.data
    Namespace("utils.checkpoint", ("utils.checkpoint",)),
    Namespace("autograd", ("autograd",)),
    Namespace("autograd.functional", ("autograd.functional",)),
    Namespace("autograd.graph", ("autograd.graph",)),
    Namespace("func", ("func",)),
]
BY_KEY = {ns.key: ns for ns in NAMESPACES}

# The operators users write, as Tensor dunders.
OPERATORS = frozenset(
    [f"__{op}__" for op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul",
                            "and", "or", "xor", "lshift", "rshift")]
    + [f"__r{op}__" for op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow",
                               "matmul", "and", "or", "xor", "lshift", "rshift")]
    + [f"__i{op}__" for op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow",
                               "matmul", "and", "or", "xor", "lshift", "rshift")]
    + ["__neg__", "__pos__", "__abs__", "__invert__", "__eq__", "__ne__", "__lt__", "__le__",
       "__gt__", "__ge__", "__getitem__", "__setitem__", "__len__", "__iter__", "__reversed__",
       "__contains__", "__bool__", "__int__", "__float__", "__complex__", "__index__",
       "__format__"])

# Deprecated or removed in PyTorch 2.13 (its docs name the replacement). torch.norm is left
# in on purpose: its docs call it deprecated, but x.norm() is in most public models.
DEPRECATED = {
    "": {"chain_matmul", "cholesky", "ger", "lu", "lu_solve", "qr", "svd", "triangular_solve",
         "range", "set_default_tensor_type", "matrix_power"},
    "Tensor": {"cholesky", "ger", "lu", "lu_solve", "qr", "svd", "triangular_solve",
               "matrix_power", "eig", "lstsq", "solve", "symeig", "reinforce", "volatile",
               "resize", "resize_as"},
    "nn": {"Container", "NLLLoss2d", "UpsamplingBilinear2d", "UpsamplingNearest2d"},
    "nn.functional": {"upsample", "upsample_bilinear", "upsample_nearest"},
    "nn.utils": {"clip_grad_norm", "weight_norm"},
    "autograd": {"Variable"},
    # DataPipes moved to the torchdata project and are deprecated here.
    "utils.data": {"DFIterDataPipe", "DataChunk", "IterDataPipe", "MapDataPipe",
                   "functional_datapipe", "guaranteed_datapipes_determinism",
                   "non_deterministic", "runtime_validation", "runtime_validation_disabled",
                   "argument_validation"},
}

# torch's user-facing classes; the other ~120 classes in torch.__all__ are C-extension types.
TORCH_CLASSES = {"Tensor", "Generator", "device", "dtype", "Size", "finfo", "iinfo", "layout",
                 "memory_format", "no_grad", "enable_grad", "set_grad_enabled",
                 "inference_mode", "autocast", "GradScaler", "OutOfMemoryError"}
# Documented torch names that torch.__all__ leaves out.
TORCH_EXTRA = {"broadcast_shapes", "set_default_dtype", "set_grad_enabled", "unique",
               "from_dlpack", "pca_lowrank", "svd_lowrank"}
# Plain values worth listing.
TORCH_CONSTANTS = {"e", "inf", "nan", "pi", "newaxis", "default_generator"}
BUILD_FLAGS = {"has_lapack", "has_mkl", "has_openmp", "has_spectral",
               "compiled_with_cxx11_abi"}
COMPILER_INTERNALS = {
    "": {"cond", "while_loop", "fork", "wait", "parse_ir", "parse_schema", "parse_type_comment",
         "merge_type_from_type_comment", "import_ir_module", "import_ir_module_from_buffer",
         "unify_type_list", "unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes",
         "slice_inverse", "legacy_contiguous_format"},
    "Tensor": {"output_nr", "is_set_to", "module_load", "unsafe_chunk", "unsafe_split",
               "unsafe_split_with_sizes", "slice_inverse"},
}
NOT_API = {
    "nn.functional": {"boolean_dispatch", "handle_torch_function", "has_torch_function",
                      "has_torch_function_unary", "has_torch_function_variadic",
                      "assert_int_or_pair"},
    "nn": {"factory_kwargs"},
}
_BACKEND = re.compile(r"^(cudnn|miopen|mkldnn|fbgemm|native)_|_backward|^batch_norm_"
                      r"|(^|_)(mkldnn|vulkan|xpu|ipu|mps|mtia|maia|xla|hpu)(_|$)")
_SHELL_DTYPE = re.compile(r"^(bit|bits\w+|u?int[1-7])$")
_LEGACY_TYPED = re.compile(r"^[A-Z]\w*(Tensor|Storage)$")


@dataclass
class Listing:
    """One namespace's names: name -> kind, and the names each rule left out."""

    names: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, list[str]] = field(default_factory=dict)


def torch_object(key: str):
    """``torch`` itself, ``torch.Tensor``, or the submodule ``torch.<key>``."""
    if key == "Tensor":
        return torch.Tensor
    return importlib.import_module("torch" + (f".{key}" if key else ""))


def _candidates(key: str, obj) -> set[str]:
    public = {n for n in dir(obj) if not n.startswith("__")}
    if key == "":
        kept = set(torch.__all__) | TORCH_EXTRA
        for n in public:
            v = getattr(torch, n, None)
            if isinstance(v, (torch.dtype, torch.layout, torch.memory_format, torch.qscheme)):
                kept.add(n)
        return kept
    if key == "Tensor":
        return set(dir(obj))
    declared = getattr(obj, "__all__", None)
    return set(declared) if declared is not None else public


def _kind(key: str, obj) -> str:
    if isinstance(obj, torch.dtype):
        return "dtype"
    if isinstance(obj, types.ModuleType):
        return "submodule"  # only refused ones are listed
    if key == "Tensor":
        return "method" if callable(obj) else "property"
    if isinstance(obj, type):
        return "class"
    return "function" if callable(obj) else "constant"


def _rule(key: str, name: str, obj) -> str | None:
    """The first rule that leaves ``name`` out, or None to keep it."""
    if name.startswith("__") and name.endswith("__"):
        return None if key == "Tensor" and name in OPERATORS else "dunder"
    if name.startswith("_"):
        return "private"
    if isinstance(obj, types.ModuleType):
        return "submodule"
    if name in NOT_API.get(key, ()) or name in BUILD_FLAGS:
        return "not an API object"
    if key == "nn.functional" and (isinstance(obj, type) or not callable(obj)):
        return "not an API object"
    if key == "nn" and not isinstance(obj, type):
        return "not an API object"
    if name in DEPRECATED.get(key, ()):
        return "deprecated"
    if key == "" and name.endswith("_") and not name.endswith("__"):
        return "in-place function"
    if key in ("", "Tensor", "nn.functional") and _BACKEND.search(name):
        return "backend kernel"
    if key == "" and name.endswith("_copy") and "freshly created" in (obj.__doc__ or ""):
        return "view-copy variant"
    if name in COMPILER_INTERNALS.get(key, ()) or (key == "" and (
            name.startswith("sym_") or name.startswith("Sym")
            or ("autocast" in name and name != "autocast"))):
        return "compiler internals"
    if key == "":
        if isinstance(obj, torch.dtype):
            return "shell dtype" if _SHELL_DTYPE.match(name) else None
        if isinstance(obj, type):
            if _LEGACY_TYPED.match(name) and name not in TORCH_CLASSES:
                return "deprecated"
            return None if name in TORCH_CLASSES else "C-extension class"
        if not callable(obj) and not isinstance(
                obj, (torch.layout, torch.memory_format, torch.qscheme)) and (
                name not in TORCH_CONSTANTS):
            return "not an API object"
    return None


def listing(key: str, refused: set[str]) -> Listing:
    """The names of ``torch.<key>`` to compare, each with its kind, and what was dropped."""
    owner = torch_object(key)
    out = Listing()
    for name in sorted(_candidates(key, owner) | {n for n in refused if hasattr(owner, n)}):
        if not hasattr(owner, name):
            continue
        obj = getattr(owner, name)
        rule = None if name in refused else _rule(key, name, obj)
        if rule is not None:
            out.dropped.setdefault(rule, []).append(name)
            continue
        if key == "Tensor" and name in OPERATORS:
            out.names[name] = "operator"
        else:
            out.names[name] = _kind(key, obj)
    return out
