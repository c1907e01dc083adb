#!/usr/bin/python3
"""The learnability study's throughput against the same grid as PyTorch
training loops, and the study's scheduling (two runs at once on one thread
each, against one run at a time on two threads).

    /usr/bin/python3 bench/learnability_vs_pytorch.py --build build [--study DIR --wall SECONDS]
                                                      [--scheduling] [--timed-steps N]

Throughput. rnnscope runs the default grid (`rnnscope learnability`, 60 runs)
and the script takes its wall time; with --study it reads a finished study's
folder instead (and --wall its wall time). Each run's row gives its steps.
PyTorch's time for the same grid is projected from its own loop timed on one
thread for each (cell, init, T) of the grid: a fresh adding batch, forward,
nn.Linear on the last step, MSE, backward, clip_grad_norm_(1), Adam (lr 0.01),
the median of --timed-steps steps after 3 warm-up steps; plus, at each of the
run's evaluations, a forward pass over the evaluation set under no_grad (rnnscope's
evaluation also records the gradient flow, which PyTorch's does not: the
projection favours PyTorch). The projected grid runs two such loops at once
with perfect packing (again PyTorch's favour): its wall time is half the sum.

Scheduling (--scheduling). For three runs of the default grid (LSTM at
T = 300, GRU at T = 100, Elman tanh at T = 30; H = 64, B = 50, 300 steps,
no early stop) two `rnnscope train` processes with --threads 1 at once,
against the same two one after the other with --threads 2.

Needs torch (Debian: python3-torch). Prints a Markdown table.
"""

import argparse
import csv
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_pytorch as cp  # noqa: E402  (the adding batch, the machine's facts, torch with its environment)

torch = cp.torch


def torch_run(cell, init, T, H, B, lr):
    torch.manual_seed(1)
    if cell in ("rnn_tanh", "rnn_relu"):
        rnn = torch.nn.RNN(2, H, nonlinearity=cell[4:])
    elif cell == "lstm":
        rnn = torch.nn.LSTM(2, H)
    elif cell == "gru":
        rnn = torch.nn.GRU(2, H)
    else:
        raise ValueError(f"no PyTorch loop for the cell {cell}")
    with torch.no_grad():
        if init == "orthogonal":
            torch.nn.init.orthogonal_(rnn.weight_hh_l0)
        elif init == "identity":
            rnn.weight_hh_l0.copy_(torch.eye(H))
    readout = torch.nn.Linear(H, 1)
    params = list(rnn.parameters()) + list(readout.parameters())
    opt = torch.optim.Adam(params, lr=lr, foreach=False)
    mse = torch.nn.MSELoss()

    def step():
        x, target = cp.torch_adding_batch(B, T)
        out, _ = rnn(x)
        loss = mse(readout(out[-1]), target)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    def evaluate(n):
        with torch.no_grad():
            for i in range(0, n, B):
                x, target = cp.torch_adding_batch(min(B, n - i), T)
                out, _ = rnn(x)
                mse(readout(out[-1]), target)

    return step, evaluate


def median_time(f, n, warmup):
    for _ in range(warmup):
        f()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_study(cli, out):
    t0 = time.perf_counter()
    subprocess.run([cli, "learnability", "--out", out, "--quiet"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def scheduling(cli, work):
    rows = []
    for cell, T in (("lstm", 300), ("gru", 100), ("rnn_tanh", 30)):
        base = [cli, "train", "--task", "adding", "--T", str(T), "--cell", cell, "--hidden", "64", "--batch", "50",
                "--steps", "300", "--eval-every", "100", "--eval-size", "200", "--checkpoint-every", "1000000",
                "--quiet", "--force"]
        t0 = time.perf_counter()
        procs = [subprocess.Popen(base + ["--seed", str(s), "--threads", "1", "--out", os.path.join(work, f"a{s}")],
                                  stdout=subprocess.DEVNULL) for s in (1, 2)]
        for p in procs:
            if p.wait() != 0:
                raise RuntimeError("rnnscope train failed")
        parallel = time.perf_counter() - t0
        t0 = time.perf_counter()
        for s in (1, 2):
            subprocess.run(base + ["--seed", str(s), "--threads", "2", "--out", os.path.join(work, f"b{s}")],
                           check=True, stdout=subprocess.DEVNULL)
        serial = time.perf_counter() - t0
        rows.append((cell, T, parallel, serial))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="the build folder holding rnnscope")
    ap.add_argument("--study", help="a finished study's folder to read instead of running the default grid")
    ap.add_argument("--wall", type=float, help="with --study: its wall time in seconds")
    ap.add_argument("--timed-steps", type=int, default=10, help="PyTorch steps timed per (cell, init, T)")
    ap.add_argument("--scheduling", action="store_true", help="also measure the scheduling")
    args = ap.parse_args()
    if args.study and args.wall is None:
        ap.error("--study needs --wall (the study's wall time)")
    cli = os.path.join(args.build, "rnnscope")
    torch.set_num_threads(1)
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    with tempfile.TemporaryDirectory() as work:
        if args.study:
            folder, wall = args.study, args.wall
        else:
            folder = os.path.join(work, "study")
            wall = run_study(cli, folder)
        with open(os.path.join(folder, "study.json")) as f:
            study = json.load(f)
        with open(os.path.join(folder, "runs.csv")) as f:
            runs = list(csv.DictReader(f))
        sched = scheduling(cli, work) if args.scheduling else []
    train = study["train"]
    H, B, lr = train["model"]["hidden_size"], train["batch"], train["optimizer"]["lr"]
    eval_every, eval_size = train["eval_every"], train["eval_size"]

    per_config = {}
    for r in runs:
        key = (r["cell"], r["init"], int(r["T"]))
        per_config.setdefault(key, []).append(r)
    table = []
    torch_total = rnnscope_total = 0.0
    for (cell, init, T), rows in per_config.items():
        step, evaluate = torch_run(cell, init, T, H, B, lr)
        t_step = median_time(step, args.timed_steps, 3)
        t_eval = median_time(lambda: evaluate(eval_size), 3, 1)
        steps = sum(int(r["steps"]) for r in rows)
        evals = sum(int(r["steps"]) // eval_every + 1 for r in rows)
        torch_s = steps * t_step + evals * t_eval
        ours = sum(float(r["seconds"]) for r in rows)
        torch_total += torch_s
        rnnscope_total += ours
        table.append((cell, init, T, len(rows), steps, t_step * 1e3, torch_s, ours))

    print(f"# Learnability grid against PyTorch, {started}")
    print(f"command: /usr/bin/python3 bench/learnability_vs_pytorch.py {' '.join(sys.argv[1:])}")
    m = cp.machine()
    print(f"machine: {m['cpu']}, {m['cores']} cores; torch {m['torch']} on 1 thread per run; rnnscope "
          f"{'default grid run by the script' if not args.study else 'study ' + args.study}")
    print()
    print("| cell | init | T | runs | steps | PyTorch ms/step | PyTorch s (projected) | rnnscope s (measured) "
          "| ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for cell, init, T, n, steps, ms, torch_s, ours in table:
        print(f"| {cell} | {init} | {T} | {n} | {steps} | {ms:.2f} | {torch_s:.1f} | {ours:.1f} | "
              f"{torch_s / ours:.2f}x |")
    runs_n = len(runs)
    torch_wall = torch_total / 2
    print()
    print(f"Grid of {runs_n} runs: rnnscope {wall:.1f} s wall ({rnnscope_total:.1f} s in the runs), "
          f"{60 * runs_n / wall:.2f} runs per minute; PyTorch projected {torch_wall:.1f} s wall "
          f"({torch_total:.1f} s on one thread, two at once), {60 * runs_n / torch_wall:.2f} runs per minute: "
          f"{torch_wall / wall:.2f}x (target >= 3x {'met' if torch_wall / wall >= 3 else 'NOT met'})")
    if sched:
        print()
        print("Scheduling, two runs of 300 steps (H = 64, B = 50): two processes at once on one thread each, "
              "against one after the other on two threads:")
        print()
        print("| cell | T | 2 at once x 1 thread | 1 at a time x 2 threads | ratio |")
        print("|---|---|---|---|---|")
        for cell, T, par, ser in sched:
            print(f"| {cell} | {T} | {par:.2f} s | {ser:.2f} s | {ser / par:.2f}x |")


if __name__ == "__main__":
    main()
