"""The 1-1-1 network worked by hand in backprop tutorials, computed by chainrule step by step.

    h = sigmoid(w1 * x + b1)      hidden unit, sigmoid
    y = w2 * h + b2               output unit, linear
    L = 0.5 * (y - t)^2           squared error

x = 1, target t = 0.5, w1 = 0.5, b1 = 0.2, w2 = 0.3, b2 = 0.1, one gradient-descent step with
learning rate 0.1. Every number below comes from chainrule's autograd (``loss.backward()``);
the chain-rule products printed next to them show where each one comes from.

Run: python examples/01_worked_example.py
"""

from __future__ import annotations

import chainrule as cr


def main() -> dict[str, float]:
    f64 = cr.float64  # exact decimal inputs, so the printed values carry no float32 noise
    x, t, lr = cr.tensor(1.0, dtype=f64), cr.tensor(0.5, dtype=f64), 0.1
    w1 = cr.tensor(0.5, dtype=f64, requires_grad=True)
    b1 = cr.tensor(0.2, dtype=f64, requires_grad=True)
    w2 = cr.tensor(0.3, dtype=f64, requires_grad=True)
    b2 = cr.tensor(0.1, dtype=f64, requires_grad=True)

    # Forward pass. retain_grad() keeps the gradients of intermediate values for printing.
    z1 = w1 * x + b1
    h = cr.sigmoid(z1)
    y = w2 * h + b2
    loss = 0.5 * (y - t) ** 2
    for v in (z1, h, y):
        v.retain_grad()

    print("Forward pass")
    print(f"  z1 = w1*x + b1        = {w1.item()}*{x.item()} + {b1.item()} = {z1.item():.4f}")
    print(f"  h  = sigmoid(z1)      = {h.item():.4f}")
    print(f"  y  = w2*h + b2        = {w2.item()}*{h.item():.4f} + {b2.item()} = {y.item():.4f}")
    print(f"  L  = 0.5*(y - t)^2    = 0.5*({y.item():.4f} - {t.item()})^2 = {loss.item():.4f}")

    loss.backward()
    hv = h.item()
    print("Backward pass (chain rule)")
    print(f"  dL/dy  = y - t                 = {y.grad.item():.4f}")
    print(f"  dL/dw2 = dL/dy * h             = {y.grad.item():.4f} * {hv:.4f} = "
          f"{w2.grad.item():.4f}")
    print(f"  dL/db2 = dL/dy * 1             = {b2.grad.item():.4f}")
    print(f"  dL/dh  = dL/dy * w2            = {h.grad.item():.4f}")
    print(f"  dh/dz1 = h*(1-h)               = {hv * (1 - hv):.4f}")
    print(f"  dL/dz1 = dL/dh * h*(1-h)       = {z1.grad.item():.4f}")
    print(f"  dL/dw1 = dL/dz1 * x            = {w1.grad.item():.4f}")
    print(f"  dL/db1 = dL/dz1 * 1            = {b1.grad.item():.4f}")

    # One step of gradient descent: p <- p - lr * dL/dp (in place, outside the graph).
    with cr.no_grad():
        for p in (w1, b1, w2, b2):
            p -= lr * p.grad
    print(f"Update (learning rate {lr})")
    for name, p in (("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2)):
        print(f"  {name} <- {name} - {lr} * dL/d{name} = {p.item():.4f}")

    with cr.no_grad():
        new_loss = 0.5 * (w2 * cr.sigmoid(w1 * x + b1) + b2 - t) ** 2
    print(f"Loss after the step: {new_loss.item():.4f} (was {loss.item():.4f})")
    return {"h": hv, "y": y.item(), "loss": loss.item(), "dw2": w2.grad.item(),
            "dw1": w1.grad.item(), "w1": w1.item(), "b1": b1.item(), "w2": w2.item(),
            "b2": b2.item(), "new_loss": new_loss.item()}


if __name__ == "__main__":
    main()
