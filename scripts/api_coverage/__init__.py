"""chainrule's API against PyTorch 2.13: the rules behind ``scripts/pytorch_coverage.py``."""
