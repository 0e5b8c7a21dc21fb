"""The sentences of chainrule's argument errors: one template per kind of bad input.

Every public function checks its arguments through ``chainrule._validate``, which fills these
templates, so an error always starts with the function (``op``) and names the argument at
fault (``arg``), in PyTorch's style: ``gather(): argument 'index' holds -1, out of range for
dimension 1 of size 3``. English only: PyTorch's errors are English, and code matches on them.
"""

from __future__ import annotations

EN: dict[str, str] = {
    # what an argument is
    "not_tensor": "{op}(): argument '{arg}' must be a Tensor, got {got}",
    "not_values": "{op}(): argument '{arg}' must be a Tensor or numbers, got {got}",
    "not_int": "{op}(): argument '{arg}' must be an int, got {got}",
    "not_ints": "{op}(): argument '{arg}' must be an int or a sequence of {n} ints, got {got}",
    "not_int_seq": "{op}(): argument '{arg}' must be an int or a tuple of ints, got {got}",
    "not_number": "{op}(): argument '{arg}' must be a number, got {got}",
    "not_bool": "{op}(): argument '{arg}' must be a bool, got {got}",
    "not_choice": "{op}(): argument '{arg}' must be one of {choices}, got {got}",
    "not_callable": "{op}(): argument '{arg}' must be callable, got {got}",
    # the dtype of a tensor argument
    "dtype_float": "{op}(): argument '{arg}' must be a floating-point tensor, got {dtype} "
                   "(convert it with .float(), as PyTorch also requires)",
    "dtype_index": "{op}(): argument '{arg}' must be an integer (int64) tensor of indices, got "
                   "{dtype}",
    "dtype_mask": "{op}(): argument '{arg}' must be a bool tensor, got {dtype}",
    "dtype_bool": "{op}(): argument '{arg}' is a bool tensor, which {op} does not compute "
                  "with (PyTorch refuses it too); convert it with .float() or .long()",
    "dtype_same": "{op}(): arguments '{arg}' ({dtype}) and '{other}' ({other_dtype}) must have "
                  "the same dtype",
    "complex": "{op}(): argument '{arg}' is a {dtype} tensor; chainrule computes with real "
               "dtypes only (complex tensors can be made, converted and compared, not computed "
               "with)",
    # values and ranges
    "range": "{op}(): argument '{arg}' must be {want}, got {got}",
    "index_range": "{op}(): argument '{arg}' holds {index}, out of range for dimension {dim} of "
                   "size {size} (valid: 0 to {last}; negative indices are refused, as in "
                   "PyTorch)",
    "dim_range": "{op}(): argument '{arg}' is {dim}, out of range for a tensor with {ndim} dims "
                 "(valid: -{ndim} to {last})",
    # shapes
    "rank": "{op}(): argument '{arg}' must be {want}, got a tensor of shape {shape}",
    "shape": "{op}(): argument '{arg}' must have shape {want}, got {shape}",
    "broadcast": "{op}(): the shapes of {names} ({shapes}) cannot be broadcast together",
    "empty": "{op}(): argument '{arg}' is empty (shape {shape}); {why}",
    # sizes that cannot be made
    "too_big": "{op}(): {what} would hold {count:,} elements ({gib:.3g} GiB), more than the "
               "memory this machine has free ({mem:.3g} GiB)",
    "out_of_memory": "{op}(): out of memory: {why}",
    "div_zero": "{op}(): integer division by zero (the divisor holds a 0); PyTorch raises the "
                "same error (divide floats to get inf or nan instead)",
}


def say(key: str, **values: object) -> str:
    """The message ``key`` with ``values`` filled in.

    Example:
        >>> say("not_int", op="arange", arg="step", got="str")
        "arange(): argument 'step' must be an int, got str"
    """
    return EN[key].format(**values)
