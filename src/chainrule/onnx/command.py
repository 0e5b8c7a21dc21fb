"""``chainrule export CHECKPOINT --onnx OUT.onnx``: write a model trained by ``chainrule
train`` as ONNX, its input normalization and softmax included, so raw pixels go in and class
probabilities come out.

Example:
    chainrule export runs/cnn/model.safetensors --onnx mnist.onnx
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._export import DEFAULT_OPSET, OPSETS

INPUT, OUTPUT = "image", "probabilities"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "export", help="write a trained checkpoint as an ONNX model",
        description="Write a model trained by `chainrule train` as an ONNX model (needs the "
                    "onnx extra: pip install chainrule[onnx]). The input normalization and a "
                    "softmax are part of the model: input 'image' takes raw pixels in [0, 1], "
                    "output 'probabilities' gives one probability per class. The batch size "
                    "is dynamic.")
    p.add_argument("checkpoint", help="a model.safetensors written by chainrule train")
    p.add_argument("--onnx", required=True, metavar="OUT.onnx", help="the file to write")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET, choices=list(OPSETS),
                   help=f"ONNX opset (default {DEFAULT_OPSET})")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from .. import no_grad, rand
    from ..train.models import load_classifier
    from . import export

    try:
        model, spec = load_classifier(args.checkpoint)
    except (OSError, ValueError) as e:
        print(f"chainrule export: {e}", file=sys.stderr)
        return 2
    shape = spec["input_shape"]
    example = rand(2, *shape)
    export(model, example, args.onnx, input_names=[INPUT], output_names=[OUTPUT],
           dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}}, opset_version=args.opset)
    dims = ", ".join(["batch"] + [str(s) for s in shape])
    print(f"wrote {args.onnx} (ONNX opset {args.opset}, {spec['kind']} trained on "
          f"{spec['dataset']})")
    print(f"input  '{INPUT}': float32 [{dims}], raw pixels in [0, 1] (light digits on a dark "
          f"background)")
    print(f"output '{OUTPUT}': float32 [batch, {spec['classes']}]")
    try:
        import onnxruntime
    except ImportError:
        return 0
    sess = onnxruntime.InferenceSession(args.onnx, providers=["CPUExecutionProvider"])
    x = rand(8, *shape)
    got = sess.run(None, {INPUT: x.numpy()})[0]
    with no_grad():
        want = model(x).numpy()
    print(f"checked with onnxruntime {onnxruntime.__version__}: largest difference from "
          f"chainrule {float(np.abs(got - want).max()):.1e} on 8 random images")
    return 0
