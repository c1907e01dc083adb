#!/usr/bin/python3
"""model.grad against PyTorch's forward + backward, side by side in one process, and against the library's own
time for the same computation (docs/python.md, "Speed").

    PYTHONPATH=build/python /usr/bin/python3 bench/python_vs_torch.py [--threads N] [--repeats R]

nn.LSTM, B = 32, T = 100, I = 32, H = 128, float32. Both compute the same things: the output, the final state,
and the gradients of every parameter, of the input and of the initial state for a random output cotangent.
Three timings, each the median of R calls after two warm-up calls (the last two interleaved):
  torch     module(x, (h0, c0)) then (out * g).sum().backward()
  rnnscope  model.grad(x, h0=..., c0=..., grad_output=g): the call a user makes, conversions included
  library   the same computation inside the library (its checks, forward and BPTT) on inputs converted once
            (Model._library_grad_seconds): model.grad's excess over it is the binding's share
"""
import argparse
import datetime
import os
import platform
import statistics
import time

import numpy as np
import torch

import rnnscope

T, B, I, H = 100, 32, 32, 128


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def median_seconds(f, repeats):
    for _ in range(2):
        f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for both (default: every core)")
    p.add_argument("--repeats", type=int, default=30)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    module = torch.nn.LSTM(I, H)
    x = torch.randn(T, B, I, requires_grad=True)
    h0 = torch.zeros(1, B, H, requires_grad=True)
    c0 = torch.zeros(1, B, H, requires_grad=True)
    g = torch.randn(T, B, H)

    def torch_step():
        module.zero_grad(set_to_none=True)
        x.grad = h0.grad = c0.grad = None
        out, _ = module(x, (h0, c0))
        (out * g).sum().backward()

    model = rnnscope.Model.from_torch(module)
    xn, h0n, c0n, gn = (t.detach().numpy() for t in (x, h0, c0, g))

    def rnnscope_step():
        return model.grad(xn, h0=h0n, c0=c0n, grad_output=gn, threads=a.threads)

    # The same numbers first: a benchmark of different computations would mean nothing.
    torch_step()
    r = rnnscope_step()
    worst = max(np.max(np.abs(r["grad." + n] - p.grad.numpy())) for n, p in module.named_parameters())
    worst = max(worst, np.max(np.abs(r["grad.input"] - x.grad.numpy())))

    t_torch = median_seconds(torch_step, a.repeats)
    # model.grad and the library alone interleaved, so that a load that comes and goes meets both alike.
    python, library = [], []
    for i in range(a.repeats + 2):
        start = time.perf_counter()
        rnnscope_step()
        python.append(time.perf_counter() - start)
        library += model._library_grad_seconds(xn, h0n, c0n, gn, 1, threads=a.threads)
    t_python, t_library = statistics.median(python[2:]), statistics.median(library[2:])

    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {cpu_name()}, "
          f"{os.cpu_count()} cores, {a.threads} thread(s), torch {torch.__version__}, numpy {np.__version__}")
    print(f"nn.LSTM B={B} T={T} I={I} H={H} float32, forward + backward, median of {a.repeats}")
    print(f"largest difference of a gradient from torch's: {worst:.2e}")
    print(f"{'torch forward + backward':<34}{t_torch * 1e3:9.2f} ms")
    print(f"{'rnnscope model.grad':<34}{t_python * 1e3:9.2f} ms   {t_torch / t_python:5.2f}x faster than torch")
    print(f"{'library alone (same computation)':<34}{t_library * 1e3:9.2f} ms   "
          f"model.grad is {100 * (t_python / t_library - 1):+.1f}% of it")


if __name__ == "__main__":
    main()
