"""``chainrule predict CHECKPOINT IMAGES...``: classify PNG or ``.npy`` images with a model
trained by ``chainrule train``; prints each image's class and the probabilities.

Example:
    chainrule predict runs/cnn/model.safetensors digit.png batch.npy
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "predict", help="classify images with a trained checkpoint",
        description="Classify PNG images or .npy arrays of pixels with a model trained by "
                    "`chainrule train`; print each image's class and the class probabilities. "
                    "Images are light digits on a dark background (as MNIST); pass --invert "
                    "for dark on light.")
    p.add_argument("checkpoint", help="a model.safetensors written by chainrule train")
    p.add_argument("images", nargs="+", metavar="IMAGE",
                   help="PNG files (gray or color, sized as the training images) or .npy "
                        "arrays of one image or a batch")
    p.add_argument("--invert", action="store_true",
                   help="use 1 - pixel (dark digits on a light background)")
    p.add_argument("--json", action="store_true", help="print one JSON object per image")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from .. import no_grad
    from ..tensor import Tensor
    from .images import load_images
    from .models import load_classifier

    try:
        model, spec = load_classifier(args.checkpoint)
        x, labels = load_images(args.images, spec["input_shape"], args.invert)
    except (OSError, ValueError) as e:
        print(f"chainrule predict: {e}", file=sys.stderr)
        return 2
    with no_grad():
        probs = model(Tensor(x)).numpy() if len(x) else np.zeros((0, spec["classes"]))
    for i, (label, p) in enumerate(zip(labels, probs)):
        k = int(p.argmax())
        if args.json:
            print(json.dumps({"image": label, "class": k,
                              "probabilities": [round(float(v), 6) for v in p]}))
            continue
        print(f"{label}: {k} ({p[k]:.1%})  probabilities: " + " ".join(
            f"{j}:{v:.4f}" for j, v in enumerate(p)))
        if not args.invert and float(x[i].mean()) > 0.5:
            print(f"  note: {label} is mostly light; the model was trained on light digits on "
                  f"a dark background (pass --invert for dark on light)")
    return 0
