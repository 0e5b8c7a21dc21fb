"""``Tensor``: a NumPy array plus what backpropagation needs (``grad``, ``requires_grad``, node).

This module holds what a tensor *is*: its array (a ``numpy.ndarray`` in the private slot
``_data``; users reach it with ``.numpy()``), its gradient bookkeeping and its in-place
writes. Every method that runs an op (``x.exp()``, ``x + y``, ``x.to(...)``) is bound in
``chainrule.methods``.
"""

from __future__ import annotations

import numbers
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from . import devices as _devices
from . import dtypes
from . import printing as _printing
from ._fpstate import quietly
from .autograd import engine as _engine  # resolved at call time; breaks the import cycle
from .autograd.detached import source_of as _detach_source
from .autograd.grad_mode import DEBUG, GRAD


def _check_grad(t: Tensor, g: object) -> None:
    """PyTorch's checks on ``t.grad = g``: a Tensor of ``t``'s dtype and shape."""
    if not isinstance(g, Tensor):
        raise TypeError("Tensor.grad: assigned grad expected to be a Tensor or None but got "
                        f"grad of type {type(g).__name__}")
    a, b = t._data, g._data
    if b.dtype != a.dtype:
        raise RuntimeError(f"Tensor.grad: attempting to assign a gradient with dtype {b.dtype} "
                           f"to a tensor with dtype {a.dtype}; the gradient must have the "
                           "tensor's dtype (as in PyTorch)")
    if np.shape(b) != np.shape(a):
        raise RuntimeError(f"Tensor.grad: attempting to assign a gradient of size "
                           f"{np.shape(b)} to a tensor of size {np.shape(a)}; the gradient "
                           "must have the tensor's shape (as in PyTorch)")


def _wrap(array, requires_grad=False):
    """Fast internal constructor: no conversion, no checks."""
    t = Tensor.__new__(Tensor)
    t._data = array
    t._grad = None
    t.requires_grad = requires_grad
    t._node = None
    t.name = None
    t._hooks = None
    t._version = 0
    t._detached_from = None
    return t


def _to_array(data, dtype=None, where: str = "tensor") -> np.ndarray:
    """Convert user data to an array with chainrule's dtype rules (errors name ``where``)."""
    dtype = dtypes.as_dtype(dtype)
    if isinstance(data, Tensor):
        arr = data._data
        return arr.astype(dtype) if dtype is not None and arr.dtype != dtype else arr.copy()
    if isinstance(data, np.ndarray):
        if data.dtype.kind not in "biufc":
            raise TypeError(f"{where}(): cannot make a tensor from a NumPy array of {data.dtype}")
        return np.array(data, dtype=dtype, copy=True)
    if isinstance(data, np.generic):
        return np.asarray(data, dtype=dtype)
    try:
        arr = np.asarray(data, dtype=dtype)
    except (ValueError, TypeError, OverflowError) as e:
        raise TypeError(
            f"{where}(): cannot make a tensor from {type(data).__name__}: {e}") from None
    if arr.dtype.kind not in "biufc":  # strings, bytes, objects: not numbers
        raise TypeError(f"{where}(): cannot make a tensor from {type(data).__name__} "
                        f"holding {arr.dtype} values; only numbers and booleans")
    if dtype is None:
        if arr.dtype.kind == "f":
            arr = arr.astype(dtypes.get_default_dtype(), copy=False)
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64, copy=False)
    return arr


class Tensor:
    """A multi-dimensional array that records operations for backpropagation.

    Create tensors with ``cr.tensor``. ``.numpy()`` is the underlying ``numpy.ndarray``;
    ``.data`` is PyTorch's: a tensor sharing this one's storage, outside autograd; ``.grad``
    holds the accumulated gradient (a Tensor) after ``backward()``.

    Deliberate differences from PyTorch's autograd:

    - ``y += 1`` on a tensor in a graph binds ``y`` to a new recorded result (out of place);
      ``y[i] = v`` is recorded, but an op that read ``y`` before it can no longer backpropagate
      (see ``ops.shape.setitem``).
    - Writing into a graph output under ``no_grad`` keeps the gradient of the recorded function
      (PyTorch raises at backward instead).
    - Version counters are per tensor: writing through a view or a ``detach()``-ed alias is not
      seen by ops that recorded the other tensor.

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> (w * w).sum().backward()
        >>> w.grad
        tensor([2., 4.])
    """

    # _detached_from: set by detach() on its result (see autograd/detached.py), else None
    __slots__ = ("_data", "_grad", "requires_grad", "_node", "name", "_hooks", "_version",
                 "_detached_from", "__weakref__")
    __array_ufunc__ = None  # make NumPy defer to Tensor's reflected operators

    def __init__(self, data: Any, requires_grad: bool = False, dtype=None,
                 name: str | None = None) -> None:
        self._data = _to_array(data, dtype)
        self._grad = None
        self.requires_grad = False
        self._node = None
        self.name = name
        self._hooks = None
        self._version = 0
        self._detached_from = None
        if requires_grad:
            self.requires_grad_(True)

    # ---- properties -------------------------------------------------------------------------
    @property
    def grad(self) -> Tensor | None:
        """The gradient that ``backward()`` accumulated here (None until then).

        Assigning checks the value as PyTorch does: a Tensor of this tensor's shape and dtype,
        or None; anything else is refused at once rather than in a later ``step()``.

        Example:
            >>> import chainrule as cr
            >>> w = cr.zeros(2, requires_grad=True)
            >>> w.grad = cr.ones(3)
            Traceback (most recent call last):
            ...
            RuntimeError: Tensor.grad: attempting to assign a gradient of size (3,) to a tensor \
of size (2,); the gradient must have the tensor's shape (as in PyTorch)
        """
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            _check_grad(self, value)
        self._grad = value

    @property
    def data(self) -> Tensor:
        """This tensor's values as a new tensor sharing its storage, outside autograd.

        PyTorch's ``.data``: writes through it (``p.data.add_(g, alpha=-lr)``, ``.copy_``,
        ``.normal_``) change this tensor and are never recorded. Assigning ``t.data = other``
        makes ``t`` use ``other``'s storage. For the NumPy array, use ``.numpy()``.

        Example:
            >>> import chainrule as cr
            >>> w = cr.ones(2, requires_grad=True)
            >>> _ = w.data.mul_(3)
            >>> w
            tensor([3., 3.], requires_grad=True)
        """
        a = self._data
        if type(a) is not np.ndarray:  # a NumPy scalar has no storage that writes could share
            a = self._data = np.array(a)
        return _wrap(a)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(
                f"Tensor.data: expected a Tensor, got {type(value).__name__}; wrap an array "
                "with cr.from_numpy(a), or write values in place with t.data.copy_(...)")
        self._data = value._data

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not the output of a recorded op)."""
        return self._node is None

    @property
    def grad_fn(self):
        """The node that produced this tensor (None for leaves)."""
        return self._node

    # ---- where it lives: always the CPU (see devices.py) ------------------------------------
    @property
    def device(self) -> _devices.device:
        """``device(type='cpu')``: chainrule tensors live in NumPy arrays on the CPU."""
        return _devices.CPU

    is_cuda = False
    is_cpu = True
    is_meta = False
    layout = _devices.strided

    def get_device(self) -> int:
        """-1, PyTorch's answer for a CPU tensor."""
        return -1

    def is_pinned(self, device=None) -> bool:
        """False: there is no pinned (page-locked) memory without an accelerator."""
        return False

    def dim(self) -> int:
        return self._data.ndim

    def size(self, dim: int | None = None):
        """The shape, or its ``dim``-th entry."""
        return self._data.shape if dim is None else self._data.shape[dim]

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # ---- conversion -------------------------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as a NumPy array sharing memory with the tensor.

        Like PyTorch, a tensor that requires grad refuses (the array would escape autograd):
        call ``t.detach().numpy()``, or ``numpy(force=True)``, which does just that.

        Example:
            >>> import chainrule as cr
            >>> cr.tensor([1.0, 2.0]).numpy()
            array([1., 2.], dtype=float32)
        """
        if self.requires_grad and not force:
            raise RuntimeError(
                "numpy(): this tensor requires grad, so its array would escape autograd; "
                "use t.detach().numpy() instead")
        return self._data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(
                f"item(): only one-element tensors convert, this has shape {self.shape}")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous; "
                "use .any() or .all()")
        return bool(self._data)

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of one element can be used as an index")
        return int(self._data)

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        if copy:
            return np.array(a, dtype=dtype, copy=True)
        return a if dtype is None else a.astype(dtype, copy=False)

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` works for 0-d tensors, like PyTorch."""
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        return object.__format__(self, spec)

    # Identity hashing done in C: tensors key dicts on the hot path (optimizer state, grads).
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = _printing.array_str(self._data, "tensor(")
        extra = []
        if self._data.dtype not in (dtypes.get_default_dtype(), np.int64, np.bool_) or (
                self._data.size == 0):
            extra.append(f"dtype={self._data.dtype}")
        if self._node is not None:
            extra.append(f"grad_fn=<{self._node.name()}>")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extra) + ")"

    # ---- autograd ---------------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mark a leaf tensor as needing a gradient (in place); returns ``self``."""
        if requires_grad and self._data.dtype.kind not in "fc":
            raise TypeError(
                f"only floating-point tensors can require gradients; this one is "
                f"{self._data.dtype}. Convert it first, e.g. t.float().requires_grad_()")
        if not requires_grad and self._node is not None:
            raise RuntimeError(
                "requires_grad_(False) only works on leaf tensors; use .detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """A new tensor sharing the data, cut from the graph (no gradient flows through it)."""
        t = _wrap(self._data)
        t._version = self._version
        t._detached_from = _detach_source(self)  # lets why_no_grad name the cut, weakly
        return t

    def detach_(self) -> Tensor:
        self._node = None
        self.requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it).

        Like PyTorch, ``.grad`` is the gradient after this tensor's other hooks, whenever they
        were registered; calling it twice is the same as once.

        Example:
            >>> import chainrule as cr
            >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
            >>> h = x * 3
            >>> h.retain_grad()
            >>> (h * h).sum().backward(); h.grad
            tensor([ 6., 12.])
        """
        if self._node is not None and self._node.retains is None:
            self._node.retains = weakref.ref(self)

    def register_hook(self, fn: Callable[[Tensor], Tensor | None]):
        """Call ``fn(grad)`` when this tensor's gradient is computed; a returned tensor replaces it.

        ``grad`` is the hook's to keep: nothing the engine does later changes it.

        Example:
            >>> import chainrule as cr
            >>> x = cr.tensor(2.0, requires_grad=True)
            >>> h = x.register_hook(lambda g: g * 10)
            >>> (x * 3).backward(); x.grad
            tensor(30.)
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook(): this tensor does not require grad")
        if self._node is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if self._node.hooks is None:
                self._node.hooks = []
            hooks = self._node.hooks
        hooks.append(fn)
        return _HookHandle(hooks, fn)

    def register_post_accumulate_grad_hook(self, fn: Callable[[Tensor], None]):
        """Call ``fn(self)`` during backward once this leaf's gradient is in ``.grad``.

        The hook runs as soon as no rule left in the pass can add to the gradient (not at the
        end of the pass), so work it starts overlaps the rest of the backward pass:
        ``DistributedDataParallel`` starts its all-reduce from it. Leaves only, as in PyTorch.

        Example:
            >>> import chainrule as cr
            >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
            >>> h = w.register_post_accumulate_grad_hook(lambda p: print("ready:", p.grad))
            >>> (w * 3).sum().backward()
            ready: tensor([3., 3.])
        """
        if self._node is not None:
            raise RuntimeError("register_post_accumulate_grad_hook(): post accumulate grad "
                               "hooks cannot be registered on non-leaf tensors")
        if not self.requires_grad:
            raise RuntimeError("register_post_accumulate_grad_hook(): cannot register a hook "
                               "on a tensor that doesn't require gradient")
        if not callable(fn):
            raise TypeError(f"register_post_accumulate_grad_hook(): the hook must be "
                            f"callable, got {type(fn).__name__}")
        return _engine.register_post_accumulate_grad_hook(self, fn)

    def backward(self, gradient=None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:
        """Backpropagate from this tensor: add d(self)/d(leaf) into every leaf's ``.grad``.

        ``gradient`` is dLoss/d(self) when self is not a scalar. Gradients accumulate across
        calls until you zero them (``optimizer.zero_grad()`` or ``t.grad = None``).

        Example:
            >>> import chainrule as cr
            >>> x = cr.tensor(3.0, requires_grad=True)
            >>> (x ** 2).backward(); x.grad
            tensor(6.)
        """
        _engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def zero_grad_(self) -> None:
        self.grad = None

    # ---- in-place (never recorded; bump the version so stale graphs are detected) ----------
    def _inplace_check(self, op: str) -> None:
        if GRAD.enabled and self.requires_grad:
            kind = ("a leaf tensor that requires grad" if self._node is None
                    else "a tensor in a graph")
            raise RuntimeError(
                f"{op}: in-place change of {kind}. Wrap it in `with cr.no_grad():` (as optimizers "
                "do) or use the out-of-place version.")

    def _keep_node_output(self) -> None:
        """Before writing into a graph output in place: its node keeps the old values.

        Rules such as exp's and tanh's read the forward output; overwriting it (allowed under
        no_grad) would otherwise change this tensor's gradient silently.
        """
        node = self._node
        if node is not None:
            if node.out is self._data:
                node.out = self._data.copy()
            elif node.out is None and node.saved is not None:
                # Recorded under saved-tensor hooks: the packed output keeps its old values.
                written = getattr(node.saved, "output_written", None)
                if written is not None:
                    written(self._data)

    def _set(self, array, op) -> Tensor:
        self._inplace_check(op)
        self._keep_node_output()
        np.copyto(self._data, array, casting="same_kind")
        self._version += 1
        return self

    def copy_(self, src) -> Tensor:
        src = src._data if isinstance(src, Tensor) else np.asarray(src)
        try:
            fits = np.broadcast_shapes(src.shape, self.shape) == self.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"copy_(): cannot copy shape {src.shape} into shape {self.shape}")
        return self._set(src, "copy_()")

    def fill_(self, value) -> Tensor:
        return self._set(np.asarray(value, dtype=self.dtype), "fill_()")

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def _update(self, ufunc, other, op) -> Tensor:
        """``self._data = ufunc(self._data, other)`` written in place: no temporary, one pass."""
        if type(self._data) is not np.ndarray:  # a NumPy scalar has no memory to write into
            return self._set(ufunc(self._data, other), op)
        self._inplace_check(op)
        self._keep_node_output()
        try:
            ufunc(self._data, other, out=self._data, casting="same_kind")
        except (ValueError, TypeError) as e:
            kind = ValueError if isinstance(e, ValueError) else TypeError
            raise kind(f"{op}: {e} (tensor shape {self.shape}, {self.dtype}; operand "
                       f"{type(other).__name__} of shape {np.shape(other)})") from None
        self._version += 1
        return self

    def add_(self, other, alpha=1) -> Tensor:
        o = other._data if isinstance(other, Tensor) else other
        return self._update(np.add, alpha * o if alpha != 1 else o, "add_()")

    def sub_(self, other, alpha=1) -> Tensor:
        o = other._data if isinstance(other, Tensor) else other
        return self._update(np.subtract, alpha * o if alpha != 1 else o, "sub_()")

    def mul_(self, other) -> Tensor:
        o = other._data if isinstance(other, Tensor) else other
        return self._update(np.multiply, o, "mul_()")

    def div_(self, other) -> Tensor:
        o = other._data if isinstance(other, Tensor) else other
        return self._update(_quiet_divide, o, "div_()")  # x / 0: inf or NaN, silently

    def clamp_(self, min=None, max=None) -> Tensor:  # noqa: A002
        return self._set(np.clip(self._data, min, max), "clamp_()")

    def addcmul_(self, tensor1, tensor2, *, value=1) -> Tensor:
        """``self += value * tensor1 * tensor2`` in place (the optimizers' second moments).

        Example:
            >>> import chainrule as cr
            >>> v = cr.ones(2)
            >>> v.addcmul_(cr.tensor([2.0, 3.0]), cr.tensor([2.0, 3.0]), value=0.5).tolist()
            [3.0, 5.5]
        """
        t = np.multiply(_array_of(tensor1), _array_of(tensor2))
        if value != 1:
            t = np.multiply(t, value, out=t) if t.dtype.kind == "f" else t * value
        return self._update(np.add, t, "addcmul_()")

    def addcdiv_(self, tensor1, tensor2, *, value=1) -> Tensor:
        """``self += value * tensor1 / tensor2`` in place (Adam's step); a zero denominator
        gives inf or NaN silently, as in PyTorch.

        Example:
            >>> import chainrule as cr
            >>> p = cr.zeros(2)
            >>> p.addcdiv_(cr.tensor([1.0, 2.0]), cr.tensor([2.0, 4.0]), value=-1).tolist()
            [-0.5, -0.5]
        """
        a1, a2 = _array_of(tensor1), _array_of(tensor2)
        if np.asarray(a1).dtype.kind in "biu" and np.asarray(a2).dtype.kind in "biu":
            raise TypeError("addcdiv_(): integer tensors would divide as integers; convert them "
                            "with .float() (PyTorch refuses them as well)")
        t = _quiet_divide(a1, a2)
        if value != 1:
            np.multiply(t, value, out=t)
        return self._update(np.add, t, "addcdiv_()")

    def lerp_(self, end, weight) -> Tensor:
        """``self += weight * (end - self)`` in place (an exponential moving average).

        Example:
            >>> import chainrule as cr
            >>> m = cr.zeros(2)
            >>> m.lerp_(cr.tensor([1.0, 2.0]), 0.25).tolist()
            [0.25, 0.5]
        """
        e, w = _array_of(end), _array_of(weight)
        diff = np.subtract(e, self._data)
        if np.ndim(w) == 0 and not isinstance(w, np.ndarray):
            # PyTorch's formula: from the nearer end, so that weight 1 gives exactly ``end``
            new = self._data + w * diff if abs(w) < 0.5 else e - diff * (1 - w)
        else:
            new = np.where(np.abs(w) < 0.5, self._data + w * diff, e - diff * (1 - w))
        return self._set(new, "lerp_()")

    def sqrt_(self) -> Tensor:
        """The square root in place (NaN for negative entries, silently)."""
        return self._set(_quiet_sqrt(self._data), "sqrt_()")

    def sign_(self) -> Tensor:
        """-1, 0 or 1 in place."""
        return self._set(np.sign(self._data), "sign_()")

    def masked_fill_(self, mask, value) -> Tensor:
        """``value`` written where ``mask`` (a bool tensor broadcasting to this one) is true.

        Example:
            >>> import chainrule as cr
            >>> x = cr.tensor([1.0, 2.0, 3.0])
            >>> x.masked_fill_(x > 1.5, 0.0).tolist()
            [1.0, 0.0, 0.0]
        """
        m = _array_of(mask)
        if not isinstance(m, np.ndarray) or m.dtype != np.bool_:
            raise TypeError(f"masked_fill_(): mask must be a bool tensor, got "
                            f"{getattr(m, 'dtype', type(m).__name__)}")
        try:
            fits = np.broadcast_shapes(m.shape, self.shape) == self.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"masked_fill_(): mask of shape {m.shape} does not broadcast to "
                             f"the tensor's shape {self.shape}")
        v = _array_of(value)
        if np.ndim(v):
            raise ValueError(f"masked_fill_(): value must be a number or a 0-d tensor, got "
                             f"shape {np.shape(v)}")
        self._inplace_check("masked_fill_()")
        self._keep_node_output()
        np.copyto(self._data, np.asarray(v).astype(self._data.dtype), where=m)
        self._version += 1
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
        from .random import _gen

        return self._set(_gen(generator).uniform(a, b, self.shape), "uniform_()")

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
        from .random import _gen

        return self._set(_gen(generator).normal(mean, std, self.shape), "normal_()")

    # Augmented assignment: in place when no graph is involved; with a graph, the name is bound
    # to a new recorded result (out of place). A leaf that requires grad is never rebound
    # silently: `w -= lr * w.grad` outside no_grad raises, as in PyTorch, instead of turning the
    # parameter into a graph node that the optimizer no longer updates.
    def _augmented(self, other, out_of_place, in_place, op):
        if GRAD.enabled and (self.requires_grad or getattr(other, "requires_grad", False)):
            if self.requires_grad and self._node is None:
                self._inplace_check(op)
            return out_of_place(self, other)
        return in_place(other)

    def __iadd__(self, other):
        return self._augmented(other, Tensor.__add__, self.add_, "+=")

    def __isub__(self, other):
        return self._augmented(other, Tensor.__sub__, self.sub_, "-=")

    def __imul__(self, other):
        return self._augmented(other, Tensor.__mul__, self.mul_, "*=")

    def __itruediv__(self, other):
        return self._augmented(other, Tensor.__truediv__, self.div_, "/=")

    def is_contiguous(self) -> bool:
        """Whether the array is stored in row-major (C) order."""
        return bool(self._data.flags.c_contiguous)

    # ---- bitwise operators (never differentiable; the comparisons are in ops/compare.py) -----
    def _cmp(self, other, fn):
        o = other._data if isinstance(other, Tensor) else other
        if not isinstance(other, (Tensor, numbers.Number, np.ndarray, np.generic, bool)):
            raise TypeError(
                f"cannot compare Tensor with {type(other).__name__}")
        try:
            out = _wrap(fn(self._data, o))
        except ValueError as e:
            raise ValueError(f"comparison: shapes {self.shape} and {np.shape(o)}: {e}") from None
        if DEBUG.trace is not None:  # a tool watching every op (ONNX export)
            DEBUG.trace(fn.__name__, (self, other), out, None)
        return out

    def __invert__(self):
        out = _wrap(np.invert(self._data))
        if DEBUG.trace is not None:
            DEBUG.trace("logical_not" if self.dtype == np.bool_ else "bitwise_not", (self,), out,
                        None)
        return out

    def __and__(self, other):
        return self._cmp(other, np.logical_and if self.dtype == np.bool_ else np.bitwise_and)

    def __or__(self, other):
        return self._cmp(other, np.logical_or if self.dtype == np.bool_ else np.bitwise_or)

    def __xor__(self, other):
        return self._cmp(other, np.logical_xor if self.dtype == np.bool_ else np.bitwise_xor)


_quiet_divide, _quiet_sqrt = quietly(np.true_divide), quietly(np.sqrt)


def _array_of(x):
    """A Tensor's array; anything else as given (numbers, arrays)."""
    return x._data if isinstance(x, Tensor) else x


class _HookHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    __slots__ = ("hooks", "fn")

    def __init__(self, hooks, fn) -> None:
        self.hooks, self.fn = hooks, fn

    def remove(self) -> None:
        if self.fn in self.hooks:
            self.hooks.remove(self.fn)


def tensor(data: Any, dtype=None, requires_grad: bool = False, name: str | None = None, *,
           device=None, pin_memory: bool = False) -> Tensor:
    """Make a tensor from data (nested lists, numbers, NumPy arrays, tensors); copies the data.

    Python floats become float32 (the default dtype), Python ints int64; NumPy arrays keep their
    dtype. Only floating-point tensors can require gradients. ``device`` must name the CPU (the
    default device when None), as for every factory.

    Example:
        >>> import chainrule as cr
        >>> cr.tensor([[1.0, 2.0]], requires_grad=True, name="w").shape
        (1, 2)
    """
    if device is not None or pin_memory or _devices._STATE.current is not None:
        _devices.check_factory(device, None, pin_memory, "tensor()")
    t = Tensor(data, requires_grad=requires_grad, dtype=dtype)
    t.name = name
    return t
