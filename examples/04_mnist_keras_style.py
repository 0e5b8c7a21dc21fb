"""The Keras tutorial classifier on MNIST: 784 -> 10 (ReLU) -> 10 (softmax), Adam 1e-3.

The Keras version reads::

    model = Sequential([Dense(10, activation="relu", input_shape=(784,)),
                        Dense(10, activation="softmax")])
    model.compile(optimizer=Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5, validation_data=(x_test, y_test))

In chainrule the last layer returns logits and the loss applies the softmax (fused with the
log, which is numerically safer); ``nn.Softmax`` turns predictions into probabilities.

Run: python examples/04_mnist_keras_style.py
"""

from __future__ import annotations

import chainrule as cr
import chainrule.nn as nn


def main(epochs: int = 5, verbose: bool = True) -> dict[str, float]:
    cr.manual_seed(0)
    train = cr.datasets.mnist("train", flatten=True)
    test = cr.datasets.mnist("test", flatten=True)
    model = nn.Sequential(nn.Linear(784, 10), nn.ReLU(), nn.Linear(10, 10))
    history = cr.train.fit(model, train, loss="sparse_categorical_crossentropy",
                           optimizer="adam", lr=1e-3, epochs=epochs, batch_size=32, val=test,
                           metrics=["accuracy"], verbose=1 if verbose else 0, seed=0)
    probs = nn.Softmax(dim=1)(cr.train.predict(model, test.tensors[0][:5]))
    if verbose:
        print(f"test accuracy {history.history['val_accuracy'][-1]:.4f}")
        print("predicted digits of the first 5 test images:", probs.argmax(1).tolist(),
              "labels:", test.tensors[1][:5].tolist())
    return {"test_accuracy": history.history["val_accuracy"][-1],
            "train_loss_first": history.history["loss"][0],
            "train_loss_last": history.history["loss"][-1]}


if __name__ == "__main__":
    main()
