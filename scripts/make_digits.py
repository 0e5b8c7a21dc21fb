"""Build src/chainrule/datasets/digits.npz from scikit-learn's bundled copy of the UCI
Optical Recognition of Handwritten Digits test set (1,797 8x8 images, CC BY 4.0).

Run once, from the repository root: python scripts/make_digits.py
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

OUT = Path(__file__).resolve().parent.parent / "src" / "chainrule" / "datasets" / "digits.npz"


def main() -> None:
    d = load_digits()
    images = d.images.astype(np.uint8)  # counts 0..16 of set pixels per 4x4 block
    assert (images == d.images).all() and images.shape == (1797, 8, 8)
    np.savez_compressed(OUT, images=images, labels=d.target.astype(np.uint8))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
