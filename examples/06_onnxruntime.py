"""Serve an exported model with onnxruntime alone: no chainrule needed where it runs.

    chainrule train --dataset mnist --model cnn --out runs/cnn
    chainrule export runs/cnn/model.safetensors --onnx mnist.onnx
    python examples/06_onnxruntime.py mnist.onnx examples/digits/*.png

The model written by ``chainrule export`` takes raw pixels in [0, 1], shaped (batch, 1, H, W),
and returns class probabilities: its input normalization is inside. This script reads PNG
files (with matplotlib's reader, if matplotlib is installed) or ``.npy`` arrays of H x W
pixels, light digits on a dark background as in MNIST, and prints each image's class. It
imports NumPy and onnxruntime only (``pip install onnxruntime``).
"""

from __future__ import annotations

import sys

import numpy as np
import onnxruntime as ort


def load(path: str, height: int, width: int) -> np.ndarray:
    """(N, H, W) float32 pixels in [0, 1] from a PNG or a .npy file."""
    if path.endswith(".npy"):
        a = np.load(path, allow_pickle=False)
        x = a.astype(np.float32) / (255 if a.dtype == np.uint8 else 1)
    else:
        import matplotlib.image  # reads PNG as float32 in [0, 1]

        x = matplotlib.image.imread(path).astype(np.float32)
        if x.ndim == 3:  # color: luminance, composited over black where transparent
            gray = x[..., :3] @ np.float32([0.299, 0.587, 0.114]) if x.shape[2] >= 3 \
                else x[..., 0]
            x = gray * x[..., 3] if x.shape[2] == 4 else gray
    x = x.reshape(-1, height, width)
    return x


def main(model_path: str, paths: list[str], verbose: bool = True) -> list[tuple]:
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    inp, out = session.get_inputs()[0], session.get_outputs()[0]
    _, channels, height, width = inp.shape  # ["batch", 1, 28, 28]
    results = []
    for path in paths:
        images = load(path, height, width)
        batch = np.repeat(images[:, None], channels, axis=1)
        (probs,) = session.run([out.name], {inp.name: batch})
        for i, p in enumerate(probs):
            label = path if len(probs) == 1 else f"{path}[{i}]"
            k = int(p.argmax())
            results.append((label, k, float(p[k])))
            if verbose:
                print(f"{label}: {k} ({p[k]:.1%})")
    return results


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: python 06_onnxruntime.py MODEL.onnx IMAGE.png|IMAGES.npy ...")
    main(sys.argv[1], sys.argv[2:])
