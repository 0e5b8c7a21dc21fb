"""Reader for the IDX format of the MNIST distribution files (optionally gzipped).

Layout: two zero bytes, a type code, the number of dimensions, one big-endian uint32 per
dimension, then the values in big-endian C order.
"""

from __future__ import annotations

import gzip
import os

import numpy as np

_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
          0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def parse_idx(data: bytes) -> np.ndarray:
    """Decode IDX bytes (gzip-compressed or not) into an array in native byte order.

    Example:
        >>> parse_idx(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9])).tolist()
        [7, 8, 9]
    """
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise ValueError(f"IDX: corrupt gzip stream: {e}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError("IDX: bad magic number (expected two zero bytes, a type code and ndim)")
    code, ndim = data[2], data[3]
    if code not in _TYPES:
        raise ValueError(f"IDX: unknown type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError("IDX: file ends inside its header")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, 4))
    dtype = _TYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"IDX: header announces shape {shape} ({expected} bytes) but the file "
                         f"has {len(data)} bytes; it is truncated or corrupt")
    array = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # native order, writable copy


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file such as ``train-images-idx3-ubyte.gz``; see ``parse_idx``.

    Example:
        >>> import chainrule as cr
        >>> images = cr.datasets.read_idx("train-images-idx3-ubyte.gz")  # doctest: +SKIP
        >>> images.shape, images.dtype  # doctest: +SKIP
        ((60000, 28, 28), dtype('uint8'))
    """
    with open(path, "rb") as f:
        data = f.read()
    try:
        return parse_idx(data)
    except ValueError as e:
        raise ValueError(f"{os.fspath(path)}: {e}") from None
