"""Digits (8x8 images) with a sigmoid hidden layer, a softmax output and cross-entropy.

    h = sigmoid(x W1 + b1)         64 -> 32
    p = softmax(h W2 + b2)         32 -> 10 class probabilities
    L = -log p[label]

``nn.CrossEntropyLoss`` takes the logits z = h W2 + b2 and applies softmax inside, fused with
the log for numerical stability; its gradient is dL/dz = p - onehot(label), checked below. The
learning rate decays by 0.95 per epoch with ``ExponentialLR``, and ``cr.train.fit`` runs the
loop.

Run: python examples/03_digits_softmax.py
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
import chainrule.nn as nn


def main(epochs: int = 30, verbose: bool = True) -> dict[str, float]:
    cr.manual_seed(0)
    train = cr.datasets.digits("train", flatten=True)
    test = cr.datasets.digits("test", flatten=True)
    model = nn.Sequential(nn.Linear(64, 32), nn.Sigmoid(), nn.Linear(32, 10))
    optimizer = cr.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    scheduler = cr.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.95)
    history = cr.train.fit(model, train, loss=nn.CrossEntropyLoss(), optimizer=optimizer,
                           epochs=epochs, batch_size=32, val=test, scheduler=scheduler,
                           verbose=2 if verbose else 0, seed=0)
    result = cr.train.evaluate(model, test, loss="cross_entropy")

    # Softmax + cross-entropy: the gradient at the logits is (p - onehot) / batch size.
    x, y = test.tensors[0][:16], test.tensors[1][:16]
    logits = model(x)
    logits.retain_grad()
    nn.CrossEntropyLoss()(logits, y).backward()
    probs = cr.softmax(logits, dim=1).detach().numpy()
    onehot = np.eye(10, dtype=probs.dtype)[y.detach().numpy()]
    max_diff = float(np.abs(logits.grad.detach().numpy() - (probs - onehot) / len(y)).max())

    probs_test = nn.Softmax(dim=1)(cr.train.predict(model, test.tensors[0]))
    if verbose:
        print(f"test loss {result['loss']:.4f}, test accuracy {result['accuracy']:.4f}")
        print(f"learning rate went {history.history['lr'][0]:.3f} -> "
              f"{history.history['lr'][-1]:.3f}")
        print(f"first test image: p = {probs_test.detach().numpy()[0].round(2).tolist()}, "
              f"label {int(test.tensors[1].detach().numpy()[0])}")
        print(f"max |dL/dz - (p - onehot)/N| = {max_diff:.2e}")
    return {"test_accuracy": result["accuracy"], "test_loss": result["loss"],
            "lr_first": history.history["lr"][0], "lr_last": history.history["lr"][-1],
            "max_diff": max_diff}


if __name__ == "__main__":
    main()
