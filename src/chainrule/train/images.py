"""Images for ``chainrule predict``: PNG files (read here with ``zlib``, no image library) and
``.npy`` arrays, as (N, C, H, W) float32 pixels in [0, 1].

``read_png`` reads non-interlaced PNGs of every color type (gray, RGB, palette, with or without
alpha) at bit depths 1 to 16. That covers what drawing programs, ``matplotlib.pyplot.imsave``
and PIL write.

Example:
    >>> import numpy as np, tempfile, os
    >>> from chainrule.train.images import read_png, write_png
    >>> path = os.path.join(tempfile.mkdtemp(), "x.png")
    >>> write_png(path, np.array([[0, 128], [255, 7]], np.uint8))
    >>> read_png(path).tolist()
    [[0, 128], [255, 7]]
"""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # color type -> samples per pixel


class ImageError(ValueError):
    """A file that is not an image ``predict`` can read (the message says why)."""


def _chunks(data: bytes, path: str):
    pos = len(_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise ImageError(f"{path}: the PNG file is truncated")
        yield kind, body
        pos += 12 + length
        if kind == b"IEND":
            return
    raise ImageError(f"{path}: the PNG file is truncated (no IEND chunk)")


def _unfilter(raw: bytes, height: int, stride: int, bpp: int, path: str) -> np.ndarray:
    """Undo PNG's per-row filters (None, Sub, Up, Average, Paeth) -> (height, stride) bytes."""
    rows = np.frombuffer(raw, np.uint8)
    if rows.size != height * (stride + 1):
        raise ImageError(f"{path}: the image data has {rows.size} bytes, expected "
                         f"{height * (stride + 1)}")
    rows = rows.reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    prev = np.zeros(stride, np.int32)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if kind == 0:
            cur = line
        elif kind == 1:  # Sub: a running sum per byte of the pixel
            cur = np.cumsum(np.pad(line, (0, -stride % bpp)).reshape(-1, bpp), axis=0)
            cur = cur.reshape(-1)[:stride] & 255
        elif kind == 2:  # Up
            cur = (line + prev) & 255
        elif kind in (3, 4):  # Average, Paeth: each byte depends on the one to its left
            cur = np.empty(stride, np.int32)
            for i in range(stride):
                a = int(cur[i - bpp]) if i >= bpp else 0
                b = int(prev[i])
                if kind == 3:
                    cur[i] = (int(line[i]) + (a + b) // 2) & 255
                    continue
                c = int(prev[i - bpp]) if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                cur[i] = (int(line[i]) + pred) & 255
        else:
            raise ImageError(f"{path}: unknown PNG filter type {kind} in row {y}")
        out[y] = cur
        prev = cur
    return out


def read_png(path: str | os.PathLike) -> np.ndarray:
    """The pixels of a PNG file: (H, W) for gray, (H, W, C) with C = 2, 3 or 4 otherwise
    (palette images come back as RGB); uint8, or uint16 for 16-bit files."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(_SIGNATURE):
        raise ImageError(f"{path}: not a PNG file")
    header, idat, palette = None, [], None
    for kind, body in _chunks(data, path):
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"PLTE":
            palette = np.frombuffer(body, np.uint8).reshape(-1, 3)
    if header is None or not idat:
        raise ImageError(f"{path}: the PNG file has no header or no image data")
    width, height, depth, color, _, _, interlace = header
    if color not in _CHANNELS or depth not in (1, 2, 4, 8, 16):
        raise ImageError(f"{path}: unsupported PNG color type {color} / bit depth {depth}")
    if interlace:
        raise ImageError(f"{path}: interlaced PNGs are not supported; save it without "
                         f"interlacing")
    channels = _CHANNELS[color]
    bits = depth * channels
    stride = (width * bits + 7) // 8
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as e:
        raise ImageError(f"{path}: corrupt PNG image data ({e})") from None
    rows = _unfilter(raw, height, stride, max(1, bits // 8), path)
    if depth == 16:
        pixels = rows.view(">u2").astype(np.uint16).reshape(height, width, channels)
    elif depth == 8:
        pixels = rows.reshape(height, width, channels)
    else:  # 1, 2 or 4 bits per sample: gray or palette, several pixels per byte
        bits_per_row = np.unpackbits(rows, axis=1)[:, :width * depth]
        weights = (1 << np.arange(depth - 1, -1, -1)).astype(np.uint8)
        pixels = (bits_per_row.reshape(height, width, depth) * weights).sum(-1).astype(np.uint8)
        if color == 0:  # scale gray levels to 0..255
            pixels = (pixels.astype(np.uint16) * 255 // ((1 << depth) - 1)).astype(np.uint8)
        pixels = pixels[..., None]
    if color == 3:
        if palette is None:
            raise ImageError(f"{path}: a palette PNG without a palette")
        return palette[pixels[..., 0]]
    return pixels[..., 0] if channels == 1 else pixels


def write_png(path: str | os.PathLike, pixels: np.ndarray) -> None:
    """Write an 8-bit gray (H, W) or RGB / RGBA (H, W, 3 or 4) image as PNG."""
    a = np.asarray(pixels)
    if a.dtype != np.uint8 or a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ValueError(f"write_png: needs uint8 pixels shaped (H, W), (H, W, 3) or (H, W, 4), "
                         f"got {a.dtype} {a.shape}")
    color = 0 if a.ndim == 2 else 2 if a.shape[2] == 3 else 6
    rows = a.reshape(a.shape[0], -1)
    raw = np.concatenate([np.zeros((rows.shape[0], 1), np.uint8), rows], axis=1).tobytes()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", a.shape[1], a.shape[0], 8, color, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) +
                chunk(b"IEND", b""))


def _gray(pixels: np.ndarray) -> np.ndarray:
    """Float gray levels in [0, 1]; alpha composited over black (MNIST's background)."""
    scale = 65535.0 if pixels.dtype == np.uint16 else 255.0
    x = pixels.astype(np.float32) / np.float32(scale)
    if x.ndim == 2:
        return x
    alpha = x[..., -1] if x.shape[-1] in (2, 4) else None
    color = x[..., :3] if x.shape[-1] >= 3 else x[..., :1]
    gray = color @ np.array([0.299, 0.587, 0.114], np.float32) if color.shape[-1] == 3 else \
        color[..., 0]
    return gray * alpha if alpha is not None else gray


def load_images(paths, input_shape, invert: bool = False) -> tuple[np.ndarray, list[str]]:
    """(N, C, H, W) float32 pixels in [0, 1] from PNG and ``.npy`` files, and a label for
    each image. A ``.npy`` array may hold one image or a batch: (H, W), (C, H, W), (N, H, W),
    (N, C, H, W) or flattened (H*W,) / (N, H*W); uint8 values are divided by 255, floats are
    taken as [0, 1]. ``invert``: 1 - pixel, for dark digits on a light background."""
    c, h, w = input_shape
    batches, labels = [], []
    for path in paths:
        path = os.fspath(path)
        if path.lower().endswith(".npy"):
            try:
                a = np.load(path, allow_pickle=False)
            except (OSError, ValueError) as e:
                raise ImageError(f"{path}: not a readable .npy array ({e})") from None
            if a.dtype.kind not in "uif" or a.dtype.kind == "c":
                raise ImageError(f"{path}: holds {a.dtype} values, not pixels")
            x = a.astype(np.float32) / (np.float32(255) if a.dtype == np.uint8 else 1)
            size = c * h * w
            if x.shape[-1] == size and x.ndim in (1, 2) and (h, w) != (1, size):
                x = x.reshape(-1, c, h, w)
            elif x.shape[-2:] == (h, w) and x.ndim in (2, 3, 4):
                x = x.reshape((-1, c, h, w))
            else:
                raise ImageError(f"{path}: array of shape {a.shape}; the model takes "
                                 f"{h}x{w} images ({c} channel): (H, W), (N, H, W), "
                                 f"(N, {c}, H, W) or flattened ({size},) / (N, {size})")
            batches.append(x)
            labels += [path] if x.shape[0] == 1 else [f"{path}[{i}]" for i in range(len(x))]
        else:
            gray = _gray(read_png(path))
            if gray.shape != (h, w):
                raise ImageError(f"{path}: the image is {gray.shape[1]}x{gray.shape[0]} pixels; "
                                 f"the model takes {w}x{h} images (resize it first)")
            batches.append(gray.reshape(1, 1, h, w).repeat(c, axis=1))
            labels.append(path)
    x = np.concatenate(batches) if batches else np.zeros((0, c, h, w), np.float32)
    return (1 - x if invert else x), labels
