"""The PyTorch names that well-known public programs use, listed by hand from their sources.

Each entry is a torch path, with the keyword arguments the program passes in parentheses when
they matter (``torch.load(map_location)``). Methods are listed on their class
(``torch.nn.Module.register_buffer``, ``torch.Tensor.view``); attributes set on instances
(``optimizer.param_groups``, ``model.training``) and names from other packages (torchvision,
tiktoken, numpy) are left out.
"""

from __future__ import annotations

PROGRAMS: dict[str, list[str]] = {
    "nanoGPT model.py": [
        "torch.nn.Module", "torch.nn.Parameter", "torch.ones", "torch.zeros",
        "torch.nn.functional.layer_norm", "torch.nn.Linear(bias)", "torch.nn.Dropout",
        "torch.nn.functional.scaled_dot_product_attention(attn_mask, dropout_p, is_causal)",
        "torch.tril", "torch.nn.Module.register_buffer", "torch.Tensor.view",
        "torch.Tensor.size", "torch.Tensor.split(dim)", "torch.Tensor.transpose",
        "torch.Tensor.masked_fill", "torch.Tensor.__matmul__", "torch.Tensor.__eq__",
        "torch.nn.functional.softmax(dim)", "torch.Tensor.contiguous", "torch.nn.GELU",
        "torch.nn.ModuleDict", "torch.nn.Embedding", "torch.nn.ModuleList",
        "torch.nn.Module.apply", "torch.nn.Module.named_parameters",
        "torch.nn.Module.parameters", "torch.nn.init.normal_(mean, std)",
        "torch.nn.init.zeros_", "torch.Tensor.numel", "torch.Tensor.dim",
        "torch.Tensor.device", "torch.Tensor.requires_grad", "torch.arange(dtype, device)",
        "torch.long", "torch.nn.functional.cross_entropy(ignore_index)",
        "torch.Tensor.__getitem__", "torch.Tensor.__setitem__", "torch.Tensor.__lt__",
        "torch.Tensor.__truediv__", "torch.nn.Module.state_dict", "torch.no_grad",
        "torch.Tensor.copy_", "torch.Tensor.t", "torch.optim.AdamW(lr, betas)",
        "torch.topk", "torch.multinomial(num_samples)", "torch.cat(dim)",
    ],
    "nanoGPT train.py": [
        "torch.cuda.is_available", "torch.cuda.is_bf16_supported",
        "torch.distributed.init_process_group", "torch.distributed.destroy_process_group",
        "torch.nn.parallel.DistributedDataParallel", "torch.cuda.set_device",
        "torch.manual_seed", "torch.backends.cuda.matmul.allow_tf32",
        "torch.backends.cudnn.allow_tf32", "torch.float32", "torch.bfloat16", "torch.float16",
        "torch.amp.autocast(device_type, dtype)", "torch.randint", "torch.stack",
        "torch.from_numpy", "torch.Tensor.pin_memory", "torch.Tensor.to(non_blocking)",
        "torch.load(map_location)", "torch.nn.Module.load_state_dict", "torch.nn.Module.to",
        "torch.cuda.amp.GradScaler(enabled)", "torch.compile", "torch.nn.Module.eval",
        "torch.nn.Module.train", "torch.zeros", "torch.Tensor.item", "torch.Tensor.mean",
        "torch.Tensor.backward", "torch.nn.utils.clip_grad_norm_",
        "torch.optim.Optimizer.zero_grad(set_to_none)", "torch.optim.Optimizer.state_dict",
        "torch.optim.Optimizer.load_state_dict", "torch.save",
    ],
    "nanoGPT sample.py": [
        "torch.manual_seed", "torch.cuda.manual_seed", "torch.backends.cuda.matmul.allow_tf32",
        "torch.amp.autocast(device_type, dtype)", "torch.load(map_location)",
        "torch.nn.Module.load_state_dict", "torch.nn.Module.eval", "torch.nn.Module.to",
        "torch.compile", "torch.tensor(dtype, device)", "torch.long", "torch.no_grad",
        "torch.Tensor.__getitem__", "torch.Tensor.tolist",
    ],
    "PyTorch examples: mnist/main.py": [
        "torch.nn.Module", "torch.nn.Conv2d", "torch.nn.Dropout", "torch.nn.Linear",
        "torch.nn.functional.relu", "torch.nn.functional.max_pool2d", "torch.flatten",
        "torch.nn.functional.log_softmax(dim)", "torch.nn.functional.nll_loss(reduction)",
        "torch.nn.Module.train", "torch.nn.Module.eval", "torch.nn.Module.to",
        "torch.nn.Module.parameters", "torch.nn.Module.state_dict", "torch.Tensor.to",
        "torch.optim.Optimizer.zero_grad", "torch.optim.Optimizer.step",
        "torch.Tensor.backward", "torch.Tensor.item", "torch.no_grad",
        "torch.Tensor.argmax(dim, keepdim)", "torch.Tensor.eq", "torch.Tensor.view_as",
        "torch.Tensor.sum", "torch.accelerator.is_available",
        "torch.accelerator.current_accelerator", "torch.manual_seed", "torch.device",
        "torch.utils.data.DataLoader(batch_size, shuffle, num_workers, pin_memory)",
        "torch.optim.Adadelta(lr)", "torch.optim.lr_scheduler.StepLR(step_size, gamma)",
        "torch.optim.lr_scheduler.LRScheduler.step", "torch.save",
    ],
    "PyTorch examples: word_language_model": [
        "torch.nn.Module", "torch.nn.Dropout", "torch.nn.Embedding", "torch.nn.LSTM(dropout)",
        "torch.nn.GRU(dropout)", "torch.nn.RNN(nonlinearity, dropout)", "torch.nn.Linear",
        "torch.nn.Transformer(d_model, nhead, dim_feedforward, num_encoder_layers)",
        "torch.nn.init.uniform_", "torch.nn.init.zeros_", "torch.nn.functional.log_softmax",
        "torch.nn.Module.register_buffer", "torch.nn.Module.parameters",
        "torch.nn.Module.zero_grad", "torch.nn.LSTM.flatten_parameters",
        "torch.Tensor.new_zeros", "torch.zeros", "torch.arange(dtype)", "torch.exp",
        "torch.sin", "torch.cos", "torch.log", "torch.tril", "torch.ones",
        "torch.Tensor.unsqueeze", "torch.Tensor.float", "torch.Tensor.transpose",
        "torch.Tensor.view", "torch.Tensor.size", "torch.Tensor.narrow", "torch.Tensor.t",
        "torch.Tensor.contiguous", "torch.Tensor.to", "torch.Tensor.detach",
        "torch.Tensor.data", "torch.Tensor.grad", "torch.Tensor.add_(alpha)",
        "torch.Tensor.__len__", "torch.Tensor.item", "torch.Tensor.type", "torch.Tensor.squeeze",
        "torch.Tensor.div", "torch.Tensor.exp", "torch.Tensor.cpu", "torch.Tensor.fill_",
        "torch.manual_seed", "torch.cuda.is_available", "torch.backends.mps.is_available",
        "torch.device", "torch.nn.NLLLoss", "torch.nn.utils.clip_grad_norm_", "torch.no_grad",
        "torch.save", "torch.load(weights_only)", "torch.onnx.export", "torch.tensor",
        "torch.int64", "torch.cat", "torch.randint(dtype)", "torch.multinomial",
    ],
    "PyTorch tutorials: quickstart": [
        "torch.utils.data.DataLoader(batch_size)", "torch.Tensor.shape", "torch.Tensor.dtype",
        "torch.accelerator.is_available", "torch.accelerator.current_accelerator",
        "torch.nn.Module", "torch.nn.Flatten", "torch.nn.Sequential", "torch.nn.Linear",
        "torch.nn.ReLU", "torch.nn.Module.to", "torch.nn.CrossEntropyLoss",
        "torch.optim.SGD(lr)", "torch.nn.Module.parameters", "torch.nn.Module.train",
        "torch.nn.Module.eval", "torch.Tensor.backward", "torch.optim.Optimizer.step",
        "torch.optim.Optimizer.zero_grad", "torch.Tensor.item", "torch.no_grad",
        "torch.Tensor.argmax", "torch.Tensor.__eq__", "torch.Tensor.type", "torch.float",
        "torch.Tensor.sum", "torch.save", "torch.nn.Module.state_dict",
        "torch.load(weights_only)", "torch.nn.Module.load_state_dict",
    ],
    "PyTorch tutorials: 60-minute blitz": [
        "torch.tensor(requires_grad)", "torch.from_numpy", "torch.ones_like",
        "torch.rand_like(dtype)", "torch.rand", "torch.ones", "torch.zeros", "torch.randn",
        "torch.Tensor.shape", "torch.Tensor.dtype", "torch.Tensor.device", "torch.Tensor.to",
        "torch.Tensor.__getitem__", "torch.Tensor.__setitem__", "torch.cat(dim)",
        "torch.Tensor.__matmul__", "torch.Tensor.T", "torch.Tensor.matmul",
        "torch.matmul(out)", "torch.Tensor.__mul__", "torch.Tensor.mul", "torch.mul(out)",
        "torch.Tensor.sum", "torch.Tensor.item", "torch.Tensor.add_", "torch.Tensor.numpy",
        "torch.Tensor.backward(gradient)", "torch.Tensor.grad", "torch.Tensor.requires_grad",
        "torch.Tensor.grad_fn", "torch.Tensor.size", "torch.Tensor.view",
        "torch.Tensor.sub_", "torch.Tensor.data", "torch.nn.Module", "torch.nn.Conv2d",
        "torch.nn.MaxPool2d", "torch.nn.Linear", "torch.nn.functional.relu",
        "torch.nn.functional.max_pool2d", "torch.flatten", "torch.nn.MSELoss",
        "torch.nn.CrossEntropyLoss", "torch.nn.Module.parameters", "torch.nn.Module.zero_grad",
        "torch.nn.Module.to", "torch.optim.SGD(lr, momentum)", "torch.optim.Optimizer.step",
        "torch.optim.Optimizer.zero_grad", "torch.max", "torch.no_grad", "torch.save",
        "torch.load(weights_only)", "torch.nn.Module.state_dict",
        "torch.nn.Module.load_state_dict", "torch.device", "torch.cuda.is_available",
        "torch.utils.data.DataLoader(batch_size, shuffle, num_workers)",
    ],
}


def parse(entry: str) -> tuple[str, tuple[str, ...]]:
    """``"torch.load(map_location)"`` -> ``("torch.load", ("map_location",))``."""
    path, _, rest = entry.partition("(")
    keywords = tuple(k.strip() for k in rest.rstrip(")").split(",") if k.strip())
    return path, keywords
