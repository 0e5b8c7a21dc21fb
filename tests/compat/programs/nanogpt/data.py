"""The data set source of the nanoGPT programs: a small character corpus, encoded as nanoGPT's
shakespeare_char prepare.py does (sorted character vocabulary, stoi/itos)."""

import numpy as np

TEXT = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
        "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. "
        "resolved.\n\nFirst Citizen:\nFirst, you know Caius Marcius is chief enemy to the "
        "people.\n") * 6

chars = sorted(set(TEXT))
vocab_size = len(chars)
stoi = {ch: i for i, ch in enumerate(chars)}
itos = {i: ch for i, ch in enumerate(chars)}


def encode(s):
    return [stoi[c] for c in s]


def decode(ids):
    return ''.join(itos[i] for i in ids)


ids = np.array(encode(TEXT), dtype=np.uint16)
n = int(0.9 * len(ids))
train_data, val_data = ids[:n], ids[n:]
