"""``chainrule predict``'s image reading: the zlib PNG reader against an encoder written here
(every filter, color type and bit depth) and against matplotlib's reader; ``.npy`` layouts."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from chainrule.train.images import ImageError, load_images, read_png, write_png


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _filter(row: bytes, prev: bytes, kind: int, bpp: int) -> bytes:
    out = bytearray()
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        pred = [0, a, b, (a + b) // 2, _paeth(a, b, c)][kind]
        out.append((x - pred) % 256)
    return bytes([kind]) + bytes(out)


def _encode(path, rows: np.ndarray, width: int, depth: int, color: int, palette=None,
            interlace: int = 0):
    """A PNG of packed ``rows`` (height, bytes per row), filter type = row index % 5."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]
    bpp = max(1, depth * channels // 8)
    prev = bytes(rows.shape[1])
    raw = b""
    for y, row in enumerate(rows):
        raw += _filter(bytes(row), prev, y % 5, bpp)
        prev = bytes(row)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(
        ">IIBBBBB", width, rows.shape[0], depth, color, 0, 0, interlace))
    if palette is not None:
        data += chunk(b"PLTE", palette.astype(np.uint8).tobytes())
    data += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    path.write_bytes(data)


rng = np.random.default_rng(0)


@pytest.mark.parametrize("color,channels", [(0, 1), (2, 3), (4, 2), (6, 4)])
def test_eight_and_sixteen_bit_images_every_filter(tmp_path, color, channels):
    pixels = rng.integers(0, 256, (7, 5, channels), dtype=np.uint8)
    _encode(tmp_path / "a.png", pixels.reshape(7, -1), 5, 8, color)
    want = pixels[..., 0] if channels == 1 else pixels
    np.testing.assert_array_equal(read_png(tmp_path / "a.png"), want)
    wide = rng.integers(0, 65536, (6, 3, channels), dtype=np.uint16)
    _encode(tmp_path / "b.png", wide.astype(">u2").view(np.uint8).reshape(6, -1), 3, 16, color)
    got = read_png(tmp_path / "b.png")
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, wide[..., 0] if channels == 1 else wide)


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_low_bit_depth_gray_and_palette(tmp_path, depth):
    levels = rng.integers(0, 1 << depth, (5, 11), dtype=np.uint8)
    packed = np.packbits(np.unpackbits(levels[..., None], axis=-1)[..., 8 - depth:]
                         .reshape(5, -1), axis=1)
    _encode(tmp_path / "g.png", packed, 11, depth, 0)
    np.testing.assert_array_equal(read_png(tmp_path / "g.png"),
                                  levels.astype(int) * 255 // ((1 << depth) - 1))
    palette = rng.integers(0, 256, (1 << depth, 3))
    _encode(tmp_path / "p.png", packed, 11, depth, 3, palette)
    np.testing.assert_array_equal(read_png(tmp_path / "p.png"), palette[levels])


def test_agrees_with_matplotlib(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.image
    import matplotlib.pyplot as plt

    gray = rng.random((28, 28))
    plt.imsave(tmp_path / "m.png", gray, cmap="gray", vmin=0, vmax=1)  # RGBA, libpng's filters
    ours = read_png(tmp_path / "m.png") / np.float32(255)
    np.testing.assert_allclose(ours, matplotlib.image.imread(tmp_path / "m.png"), atol=1e-6)
    x, _ = load_images([tmp_path / "m.png"], (1, 28, 28))
    np.testing.assert_allclose(x[0, 0], gray, atol=2.5 / 255)  # the colormap quantizes


def test_write_png_round_trips(tmp_path):
    for shape in [(4, 6), (4, 6, 3), (4, 6, 4)]:
        a = rng.integers(0, 256, shape, dtype=np.uint8)
        write_png(tmp_path / "w.png", a)
        np.testing.assert_array_equal(read_png(tmp_path / "w.png"), a)
    with pytest.raises(ValueError, match="write_png: needs uint8"):
        write_png(tmp_path / "w.png", np.zeros((2, 2)))


def test_bad_files_are_named(tmp_path):
    (tmp_path / "x.png").write_bytes(b"GIF89a")
    with pytest.raises(ImageError, match="x.png: not a PNG file"):
        read_png(tmp_path / "x.png")
    write_png(tmp_path / "t.png", np.zeros((3, 3), np.uint8))
    (tmp_path / "t.png").write_bytes((tmp_path / "t.png").read_bytes()[:30])
    with pytest.raises(ImageError, match="truncated"):
        read_png(tmp_path / "t.png")
    _encode(tmp_path / "i.png", np.zeros((2, 2), np.uint8), 2, 8, 0, interlace=1)
    with pytest.raises(ImageError, match="interlaced"):
        read_png(tmp_path / "i.png")


def test_npy_layouts_and_scaling(tmp_path):
    img = rng.random((8, 8)).astype(np.float32)
    cases = {"hw": img, "chw": img[None], "nhw": np.stack([img, img]),
             "nchw": np.stack([img, img])[:, None], "flat": img.reshape(-1),
             "nflat": np.stack([img.reshape(-1)] * 3)}
    for name, a in cases.items():
        np.save(tmp_path / f"{name}.npy", a)
        x, labels = load_images([tmp_path / f"{name}.npy"], (1, 8, 8))
        assert x.shape[1:] == (1, 8, 8) and np.allclose(x[0, 0], img)
        assert len(labels) == len(x)
    np.save(tmp_path / "u8.npy", np.full((8, 8), 255, np.uint8))
    x, _ = load_images([tmp_path / "u8.npy"], (1, 8, 8), invert=True)
    assert np.all(x == 0)
    np.save(tmp_path / "bad.npy", np.zeros((5, 5)))
    with pytest.raises(ImageError, match=r"array of shape \(5, 5\); the model takes 8x8"):
        load_images([tmp_path / "bad.npy"], (1, 8, 8))
