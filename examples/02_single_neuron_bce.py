"""One sigmoid neuron learns a 2-D binary problem with binary cross-entropy.

    p = sigmoid(w . x + b)        the probability of class 1
    L = -[t log p + (1 - t) log(1 - p)]

For a sigmoid output with BCE, the chain rule collapses to dL/dz = p - t: the error signal is
simply "prediction minus target". The loop below is the explicit PyTorch loop; the last lines
check that identity against the gradient autograd computed.

Run: python examples/02_single_neuron_bce.py
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
import chainrule.nn as nn


def make_data(n: int = 400, seed: int = 0):
    """Two Gaussian blobs, centred at (-1, -1) (class 0) and (1, 1) (class 1)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.normal(0.0, 0.7, (n, 2)) + np.where(y[:, None] == 1, 1.0, -1.0)
    return cr.tensor(X, dtype=cr.float32), cr.tensor(y[:, None], dtype=cr.float32)


def main(epochs: int = 50, lr: float = 0.5, verbose: bool = True) -> dict[str, float]:
    cr.manual_seed(0)
    X, t = make_data()
    model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    loss_fn = nn.BCELoss()
    optimizer = cr.optim.SGD(model.parameters(), lr=lr)
    loader = cr.data.DataLoader(cr.data.TensorDataset(X, t), batch_size=32, shuffle=True)

    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        if verbose and (epoch + 1) % 10 == 0:
            with cr.no_grad():
                p = model(X)
                acc = ((p > 0.5).float() == t).float().mean().item()
                print(f"epoch {epoch + 1:3d}: loss {loss_fn(p, t).item():.4f}, "
                      f"accuracy {acc:.3f}")

    # The error signal at the pre-activation z is p - t (averaged over the batch by BCELoss).
    linear = model[0]
    z = linear(X)
    z.retain_grad()
    p = cr.sigmoid(z)
    loss = loss_fn(p, t)
    loss.backward()
    expected = (p.detach().numpy() - t.detach().numpy()) / len(X)
    max_diff = float(np.abs(z.grad.numpy() - expected).max())
    with cr.no_grad():
        accuracy = ((model(X) > 0.5).float() == t).float().mean().item()
    w = [round(float(v), 3) for v in linear.weight.detach().numpy().ravel()]
    b = round(float(linear.bias.detach().numpy().item()), 3)
    if verbose:
        print(f"learned w = {w}, b = {b}")
        print(f"final loss {loss.item():.4f}, accuracy {accuracy:.3f}")
        print(f"max |dL/dz - (p - t)/N| = {max_diff:.2e}")
    return {"loss": loss.item(), "accuracy": accuracy, "max_diff": max_diff}


if __name__ == "__main__":
    main()
