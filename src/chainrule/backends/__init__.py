"""``cr.backends``: PyTorch's backend switches and queries, answered for chainrule's one backend.

chainrule computes with NumPy on the CPU. The CUDA, cuDNN and MPS queries say so
(``is_available()`` False), and their switches (``cudnn.benchmark``,
``cuda.matmul.allow_tf32``...) are kept so programs that set them run unchanged, but change
nothing. ``import chainrule.backends.cudnn as cudnn`` works as PyTorch's import does.

Example:
    >>> import chainrule as cr
    >>> cr.backends.mps.is_available(), cr.backends.cudnn.is_available()
    (False, False)
"""

from . import cuda, cudnn, mkl, mkldnn, mps, openmp  # noqa: F401

__all__ = ["cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp"]
