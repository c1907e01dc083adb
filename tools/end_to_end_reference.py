#!/usr/bin/env python3
"""Reference values of the end-to-end gradient of a stack (docs/diagnostics.md).

For a two-layer nn.LSTM and a two-layer nn.RNN (tanh) in float64, drawn with a
fixed seed, runs the layers step by step with the modules' own weights, keeps
every step's output h^l_t (retain_grad) and computes with autograd, for two
losses on the top layer's outputs,

    last:   L = sum_b <r_b, h^top_{T-1}[b]>
    every:  L = sum_t sum_b <r_{t,b}, h^top_t[b]>

the norms ||dL/dx_t[b]|| and ||dL/dh^l_t[b]|| (the total derivative: every
path from h^l_t to the loss) per step t and sequence b. Each file holds the
model (state_dict and __metadata__ as a model file), the input (T, B, I), the
cotangents grad_last (B, H) and grad_every (T, B, H), the step-by-step outputs'
agreement with the module's forward, and the norms as norm.<q>.<loss> (T, B),
q = input, h0, h1.

    /usr/bin/python3 tools/end_to_end_reference.py tests/data/end_to_end
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_reference import recurrent_metadata, write_safetensors  # noqa: E402

T, B, I, H, LAYERS = 13, 3, 3, 4, 2


def step(cell, p, l, x, h, c):
    """One step of layer l with the module's parameters p (PyTorch's formulas and gate order)."""
    a = x @ p[f"weight_ih_l{l}"].T + p[f"bias_ih_l{l}"] + h @ p[f"weight_hh_l{l}"].T + p[f"bias_hh_l{l}"]
    if cell == "lstm":
        i, f, g, o = a.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
    return torch.tanh(a), None


def case(cell, seed):
    torch.manual_seed(seed)
    module = (nn.LSTM(I, H, LAYERS) if cell == "lstm" else nn.RNN(I, H, LAYERS, nonlinearity="tanh")).double()
    p = dict(module.named_parameters())
    x0 = torch.randn(T, B, I, dtype=torch.float64)
    grad_last = torch.randn(B, H, dtype=torch.float64)
    grad_every = torch.randn(T, B, H, dtype=torch.float64)
    with torch.no_grad():
        module_out, _ = module(x0)
    tensors = [(n, t.detach()) for n, t in module.named_parameters()]
    tensors += [("input", x0), ("grad_last", grad_last), ("grad_every", grad_every)]
    for loss_name in ("last", "every"):
        x = x0.clone().requires_grad_()
        hs = [[None] * T for _ in range(LAYERS)]
        state = [(torch.zeros(B, H, dtype=torch.float64), torch.zeros(B, H, dtype=torch.float64))
                 for _ in range(LAYERS)]
        for t in range(T):
            below = x[t]
            for l in range(LAYERS):
                h, c = step(cell, p, l, below, *state[l])
                h.retain_grad()
                hs[l][t] = h
                state[l] = (h, c)
                below = h
        top = torch.stack(hs[-1])
        diff = (top - module_out).abs().max().item()
        assert diff < 1e-13, f"{cell}: the step-by-step outputs differ from the module's by {diff}"
        loss = (hs[-1][T - 1] * grad_last).sum() if loss_name == "last" else (top * grad_every).sum()
        loss.backward()
        tensors.append((f"norm.input.{loss_name}", x.grad.norm(dim=2)))
        for l in range(LAYERS):
            # A step with no path to the loss (none after the last step) has no grad: zero.
            g = torch.stack([hs[l][t].grad if hs[l][t].grad is not None else torch.zeros(B, H, dtype=torch.float64)
                             for t in range(T)])
            tensors.append((f"norm.h{l}.{loss_name}", g.norm(dim=2)))
    metadata = recurrent_metadata(cell if cell == "lstm" else "rnn_tanh", LAYERS, True, "F64", None, I, H)
    return [(n, t.detach().contiguous()) for n, t in tensors], metadata


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join("tests", "data", "end_to_end")
    os.makedirs(out, exist_ok=True)
    for cell, seed in (("lstm", 24), ("rnn_tanh", 25)):
        tensors, metadata = case(cell, seed)
        path = os.path.join(out, f"{cell}_l2.safetensors")
        write_safetensors(path, tensors, metadata)
        print(path)


if __name__ == "__main__":
    main()
