"""Why deep sigmoid networks stall: vanishing gradients, and the ReLU + He-init fix.

Two 8-layer networks on the digits, same data, optimizer and epochs:

- sigmoid activations with small-variance init: sigmoid'(z) <= 0.25, so every layer the error
  signal passes back through shrinks it; the first layers barely receive a gradient;
- ReLU activations with He (Kaiming) init: ReLU' is 0 or 1 and the init keeps the signal's
  variance constant from layer to layer, so every layer learns.

The script prints the gradient norm of each layer's weights at the first step and the test
accuracy after training.

Run: python examples/05_deep_sigmoid_vs_relu.py
"""

from __future__ import annotations

import chainrule as cr
import chainrule.nn as nn

DEPTH, WIDTH = 8, 64


def make_net(activation: str) -> nn.Sequential:
    layers: list[nn.Module] = []
    n_in = 64
    for _ in range(DEPTH):
        linear = nn.Linear(n_in, WIDTH)
        if activation == "relu":
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        else:
            nn.init.normal_(linear.weight, std=0.1)  # a classic textbook init
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.ReLU() if activation == "relu" else nn.Sigmoid()]
        n_in = WIDTH
    layers.append(nn.Linear(n_in, 10))
    return nn.Sequential(*layers)


def first_step_grad_norms(model: nn.Sequential, x, y) -> list[float]:
    model.zero_grad()
    nn.CrossEntropyLoss()(model(x), y).backward()
    return [float((m.weight.grad ** 2).sum().sqrt()) for m in model
            if isinstance(m, nn.Linear)]


def main(epochs: int = 10, verbose: bool = True) -> dict[str, float]:
    train = cr.datasets.digits("train", flatten=True)
    test = cr.datasets.digits("test", flatten=True)
    out: dict[str, float] = {}
    for activation in ("sigmoid", "relu"):
        cr.manual_seed(0)
        model = make_net(activation)
        norms = first_step_grad_norms(model, *train.tensors)
        history = cr.train.fit(model, train, loss="cross_entropy", optimizer="sgd", lr=0.05,
                               epochs=epochs, batch_size=32, val=test, verbose=0, seed=0)
        acc = history.history["val_accuracy"][-1]
        out[f"{activation}_accuracy"] = acc
        out[f"{activation}_first_layer_grad"] = norms[0]
        out[f"{activation}_last_layer_grad"] = norms[-1]
        if verbose:
            print(f"{activation:>7} net, |dL/dW| per layer (input -> output): "
                  + " ".join(f"{n:.1e}" for n in norms))
            print(f"{activation:>7} net, test accuracy after {epochs} epochs: {acc:.3f}")
    return out


if __name__ == "__main__":
    main()
