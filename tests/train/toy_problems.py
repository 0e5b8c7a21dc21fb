"""Small models and data shared by the training tests."""

import numpy as np

import chainrule.nn as nn


def blobs(n=200, seed=0):
    """Two well separated 2-D blobs; labels 0/1 as int64."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.normal(0, 0.5, (n, 2)) + np.where(y[:, None] == 1, 1.5, -1.5)
    return X.astype(np.float32), y.astype(np.int64)


def mlp(n_in=2, hidden=8, n_out=2, dropout=0.0):
    layers = [nn.Linear(n_in, hidden), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(hidden, n_out))
    return nn.Sequential(*layers)


def weights(model):
    return {k: np.array(getattr(v, "data", v), copy=True) for k, v in model.state_dict().items()}
