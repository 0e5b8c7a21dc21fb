"""Training in the style of nanoGPT's train.py: config from the command line, AdamW with decay
groups, warmup + cosine learning rate, gradient accumulation, GradScaler and autocast context
(disabled on CPU), gradient clipping, periodic evaluation and checkpoints, resume."""

import argparse
import math
import os
import time
from contextlib import nullcontext

import numpy as np
import torch
from data import train_data, val_data, vocab_size
from model import GPT, GPTConfig

p = argparse.ArgumentParser()
p.add_argument('--out_dir', default='out')
p.add_argument('--eval_interval', type=int, default=5)
p.add_argument('--eval_iters', type=int, default=2)
p.add_argument('--always_save_checkpoint', action='store_true')
p.add_argument('--init_from', default='scratch')
p.add_argument('--gradient_accumulation_steps', type=int, default=2)
p.add_argument('--batch_size', type=int, default=4)
p.add_argument('--block_size', type=int, default=16)
p.add_argument('--n_layer', type=int, default=2)
p.add_argument('--n_head', type=int, default=2)
p.add_argument('--n_embd', type=int, default=16)
p.add_argument('--dropout', type=float, default=0.0)
p.add_argument('--bias', type=int, default=1)
p.add_argument('--flash', type=int, default=1)
p.add_argument('--learning_rate', type=float, default=3e-3)
p.add_argument('--max_iters', type=int, default=10)
p.add_argument('--weight_decay', type=float, default=1e-1)
p.add_argument('--beta1', type=float, default=0.9)
p.add_argument('--beta2', type=float, default=0.99)
p.add_argument('--grad_clip', type=float, default=1.0)
p.add_argument('--decay_lr', type=int, default=1)
p.add_argument('--warmup_iters', type=int, default=3)
p.add_argument('--lr_decay_iters', type=int, default=20)
p.add_argument('--min_lr', type=float, default=3e-4)
p.add_argument('--device', default='cpu')
p.add_argument('--dtype', default='float32')
p.add_argument('--compile', action='store_true')
p.add_argument('--double', action='store_true')
p.add_argument('--record', default=None)
args = p.parse_args()
config = {k: v for k, v in vars(args).items() if k not in ('record', 'double')}
globals().update(config)

tokens_per_iter = gradient_accumulation_steps * batch_size * block_size
print(f"tokens per iteration will be: {tokens_per_iter:,}")
os.makedirs(out_dir, exist_ok=True)
torch.manual_seed(1337)
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
device_type = 'cuda' if 'cuda' in device else 'cpu'
ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}[dtype]
ctx = nullcontext() if device_type == 'cpu' else torch.amp.autocast(device_type=device_type,
                                                                    dtype=ptdtype)
if args.double:
    torch.set_default_dtype(torch.float64)


def get_batch(split, step):
    # the data source: batch number `step` comes from a generator seeded by it, so that a
    # resumed run sees the batches an uninterrupted one would
    data = train_data if split == 'train' else val_data
    rng = np.random.default_rng((step, split == 'train'))
    ix = torch.from_numpy(rng.integers(0, len(data) - block_size, (batch_size,)))
    x = torch.stack([torch.from_numpy((data[i:i+block_size]).astype(np.int64)) for i in ix])
    y = torch.stack([torch.from_numpy((data[i+1:i+1+block_size]).astype(np.int64)) for i in ix])
    x, y = x.to(device), y.to(device)
    return x, y


iter_num = 0
best_val_loss = 1e9
model_args = dict(n_layer=n_layer, n_head=n_head, n_embd=n_embd, block_size=block_size,
                  bias=bool(bias), vocab_size=vocab_size, dropout=dropout, flash=bool(flash))
if init_from == 'scratch':
    print("Initializing a new model from scratch")
    gptconf = GPTConfig(**model_args)
    model = GPT(gptconf)
    init = np.random.default_rng(7)  # the same start in every library
    with torch.no_grad():
        for pn, param in model.named_parameters():
            param.copy_(torch.from_numpy(0.02 * init.standard_normal(tuple(param.shape))))
elif init_from == 'resume':
    print(f"Resuming training from {out_dir}")
    ckpt_path = os.path.join(out_dir, 'ckpt.pt')
    checkpoint = torch.load(ckpt_path, map_location=device)
    checkpoint_model_args = checkpoint['model_args']
    for k in ['n_layer', 'n_head', 'n_embd', 'block_size', 'bias', 'vocab_size']:
        model_args[k] = checkpoint_model_args[k]
    gptconf = GPTConfig(**model_args)
    model = GPT(gptconf)
    state_dict = checkpoint['model']
    unwanted_prefix = '_orig_mod.'
    for k, v in list(state_dict.items()):
        if k.startswith(unwanted_prefix):
            state_dict[k[len(unwanted_prefix):]] = state_dict.pop(k)
    model.load_state_dict(state_dict)
    iter_num = checkpoint['iter_num']
    best_val_loss = checkpoint['best_val_loss']
model.to(device)

scaler = torch.amp.GradScaler(device_type, enabled=(dtype == 'float16'))
optimizer = model.configure_optimizers(weight_decay, learning_rate, (beta1, beta2), device_type)
if init_from == 'resume':
    optimizer.load_state_dict(checkpoint['optimizer'])
checkpoint = None

if compile:
    print("compiling the model... (takes a ~minute)")
    unoptimized_model = model
    model = torch.compile(model)


@torch.no_grad()
def estimate_loss():
    out = {}
    model.eval()
    for split in ['train', 'val']:
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            X, Y = get_batch(split, 10_000 + k)
            with ctx:
                logits, loss = model(X, Y)
            losses[k] = loss.item()
        out[split] = losses.mean()
    model.train()
    return out


def get_lr(it):
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    assert 0 <= decay_ratio <= 1
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (learning_rate - min_lr)


record = []
X, Y = get_batch('train', iter_num * gradient_accumulation_steps)
t0 = time.time()
local_iter_num = 0
raw_model = model
while True:
    lr = get_lr(iter_num) if decay_lr else learning_rate
    for param_group in optimizer.param_groups:
        param_group['lr'] = lr

    if iter_num % eval_interval == 0:
        losses = estimate_loss()
        print(f"step {iter_num}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
        record += [losses['train'].item(), losses['val'].item()]
        if losses['val'] < best_val_loss or always_save_checkpoint:
            best_val_loss = losses['val']
            if iter_num > 0:
                checkpoint = {
                    'model': raw_model.state_dict(),
                    'optimizer': optimizer.state_dict(),
                    'model_args': model_args,
                    'iter_num': iter_num,
                    'best_val_loss': best_val_loss,
                    'config': config,
                }
                print(f"saving checkpoint to {out_dir}")
                torch.save(checkpoint, os.path.join(out_dir, 'ckpt.pt'))
    if iter_num == 0 and args.init_from == 'eval_only':
        break

    for micro_step in range(gradient_accumulation_steps):
        with ctx:
            logits, loss = model(X, Y)
            loss = loss / gradient_accumulation_steps
        X, Y = get_batch('train', iter_num * gradient_accumulation_steps + micro_step + 1)
        scaler.scale(loss).backward()
    if grad_clip != 0.0:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)

    t1 = time.time()
    dt = t1 - t0
    t0 = t1
    lossf = loss.item() * gradient_accumulation_steps
    record.append(lossf)
    print(f"iter {iter_num}: loss {lossf:.4f}, time {dt*1000:.2f}ms")
    iter_num += 1
    local_iter_num += 1

    if iter_num > max_iters:
        break

if args.record:
    np.savez(args.record, losses=np.array(record),
             **{k: v.detach().cpu().numpy() for k, v in raw_model.state_dict().items()})
