"""Sampling in the style of nanoGPT's sample.py: rebuild the model from the checkpoint and
generate with temperature and top-k."""

import argparse
import os
from contextlib import nullcontext

import numpy as np
import torch
from data import decode, encode
from model import GPT, GPTConfig

p = argparse.ArgumentParser()
p.add_argument('--out_dir', default='out')
p.add_argument('--start', default="First")
p.add_argument('--num_samples', type=int, default=2)
p.add_argument('--max_new_tokens', type=int, default=20)
p.add_argument('--temperature', type=float, default=0.8)
p.add_argument('--top_k', type=int, default=200)
p.add_argument('--seed', type=int, default=1337)
p.add_argument('--device', default='cpu')
p.add_argument('--dtype', default='float32')
p.add_argument('--double', action='store_true')
p.add_argument('--record', default=None)
args = p.parse_args()

torch.manual_seed(args.seed)
device = args.device
device_type = 'cuda' if 'cuda' in device else 'cpu'
ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16,
           'float16': torch.float16}[args.dtype]
ctx = nullcontext() if device_type == 'cpu' else torch.amp.autocast(device_type=device_type,
                                                                    dtype=ptdtype)
if args.double:
    torch.set_default_dtype(torch.float64)

ckpt_path = os.path.join(args.out_dir, 'ckpt.pt')
checkpoint = torch.load(ckpt_path, map_location=device)
gptconf = GPTConfig(**checkpoint['model_args'])
model = GPT(gptconf)
state_dict = checkpoint['model']
unwanted_prefix = '_orig_mod.'
for k, v in list(state_dict.items()):
    if k.startswith(unwanted_prefix):
        state_dict[k[len(unwanted_prefix):]] = state_dict.pop(k)
model.load_state_dict(state_dict)
model.eval()
model.to(device)

start_ids = encode(args.start)
x = (torch.tensor(start_ids, dtype=torch.long, device=device)[None, ...])
samples = []
with torch.no_grad():
    with ctx:
        for k in range(args.num_samples):
            y = model.generate(x, args.max_new_tokens, temperature=args.temperature,
                               top_k=args.top_k)
            print(decode(y[0].tolist()))
            print('---------------')
            samples.append(y[0].tolist())
if args.record:
    np.savez(args.record, samples=np.array(samples))
