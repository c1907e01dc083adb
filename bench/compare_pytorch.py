#!/usr/bin/python3
"""rnnscope against PyTorch on the same machine, in the same run, alternating.

For every shape, rounds alternate between a few PyTorch training steps and the
rnnscope benchmark binary (Google Benchmark, JSON output, one shape selected
with --benchmark_filter); each side's figure is the median of all its samples.
A training step on both sides is: forward over the sequence, MSE on every step
(mean reduction), full backpropagation through time, one plain SGD update, in
float32. The script also measures, in the same run, the 2048x2048 sgemm rate
(torch.mm with the same threads, and Eigen's) as the ceiling, the Jacobian
chains of a tanh RNN against torch.autograd.functional.jacobian on the same
weights, the T = 10,000 / T = 100 cost ratio and the peak memory of an LSTM
step against its stated figure.

The whole training loop is compared too: LSTM and GRU on the adding task
(I = 2), a fresh batch every step, a linear readout on the last step, MSE,
full BPTT, clipping of the gradients' norm to 1 and Adam (lr 1e-3), float32.
PyTorch runs it in this process (nn.LSTM / nn.GRU, nn.Linear, nn.MSELoss,
clip_grad_norm_, torch.optim.Adam(foreach=False)); rnnscope runs `rnnscope
train` with evaluations only at the first and last steps, and a step's time is
read from the differences of the `seconds` column of its curve.csv. Beside it:
the loop's overhead beyond the bare training step (bench_train_loop, loop /
bare) and the peak memory of training against its stated figure
(bench_memory train).

Run with Debian's PyTorch (python3-torch) on the peer set-up of
docs/performance.md:

    /usr/bin/python3 bench/compare_pytorch.py --build build [--quick] [--only-training] [--json out.json]
"""

import argparse
import csv
import ctypes
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import itertools
import time

THREADS = 2
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))


def openblas_corename():
    """The kernel set OpenBLAS picked in a fresh process (with this environment)."""
    code = ("import ctypes; f = ctypes.CDLL('libopenblas.so.0').openblas_get_corename; "
            "f.restype = ctypes.c_char_p; print(f().decode())")
    try:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True, env=os.environ).stdout.strip()
    except (subprocess.CalledProcessError, OSError):
        return "unknown"


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


# OpenBLAS 0.3.21 (Debian 12) does not know recent Xeons and falls back to its
# generic "Prescott" kernels, 5x slower than its AVX-512 ones. The peer's best
# configuration names the kernels; the script says which it used.
CORETYPE_NOTE = "OPENBLAS_CORETYPE as found in the environment"
# rnnscope runs as its users run it, in the environment the script was given:
# the override is the peer's configuration, not rnnscope's (which keeps Eigen's
# kernels where OpenBLAS would run its generic ones, core/gemm.hpp).
RNNSCOPE_ENV = dict(os.environ)
if "OPENBLAS_CORETYPE" not in os.environ:
    if openblas_corename() == "Prescott" and "avx512f" in cpu_flags():
        os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
        CORETYPE_NOTE = "OPENBLAS_CORETYPE=SkylakeX set by the script for PyTorch (auto-detection gave Prescott)"
    else:
        CORETYPE_NOTE = "OpenBLAS auto-detection"

import torch  # noqa: E402  (after the environment is set)

torch.set_num_threads(THREADS)

# (cell, B, T, I, H, target ratio PyTorch/rnnscope or None)
SHAPES = [
    ("elman", 1, 100, 1, 32, 20.0), ("lstm", 1, 100, 1, 32, 20.0), ("gru", 1, 100, 1, 32, 20.0),
    ("ctrnn", 1, 100, 1, 32, None),
    ("elman", 32, 100, 32, 128, 2.0), ("lstm", 32, 100, 32, 128, 2.5), ("gru", 32, 100, 32, 128, 2.5),
    ("ctrnn", 32, 100, 32, 128, None),
    ("elman", 64, 200, 64, 256, 1.5), ("lstm", 64, 200, 64, 256, 1.5), ("gru", 64, 200, 64, 256, 1.5),
    ("ctrnn", 64, 200, 64, 256, 1.5),
    ("lstm", 128, 50, 256, 512, 1.2),
]
GATES = {"elman": 1, "ctrnn": 1, "lstm": 4, "gru": 3}
# (B, I, H) of the T = 100 and T = 10,000 steps. The target's shape runs the
# same parallel scheme at both lengths (a batch of 16 columns or more is split
# over the threads). A batch of fewer than 16 columns runs its time loop on one
# thread and pipelines its sweep over two only from 6 blocks on
# (kMinPipelinedBlocks), which T = 10,000 has and T = 100 has not: its ratio
# also measures what the pipeline gains, and is printed for information.
LINEAR_T = (32, 32, 128)
LINEAR_T_SMALL = (8, 16, 64)
CHAIN_T, CHAIN_H, CHAIN_I = 100, 128, 32
# The whole training loop on the adding task (I = 2): (cell, B, T, H, target speed-up PyTorch/rnnscope).
LOOP_SHAPES = [
    ("lstm", 50, 100, 128, 3.0), ("lstm", 50, 400, 128, 3.0), ("lstm", 1, 100, 32, 20.0),
    ("gru", 50, 100, 128, 3.0), ("gru", 50, 400, 128, 3.0), ("gru", 1, 100, 32, 20.0),
]
LOOP_OVERHEAD_TARGET = 1.10  # bench_train_loop's loop / bare, at most
# (B, T, H) of the peak memory of training (bench_memory train), target <= 1.5x the stated figure.
TRAIN_MEMORY = (50, 400, 128)
# The header of `rnnscope train`'s curve.csv.
CURVE_HEADER = ["step", "train_loss", "eval_loss", "eval_metric", "grad_norm", "clipped", "seconds"]
RUN_NUMBERS = itertools.count()


def train_flops(cell, B, T, I, H):
    """Matmul FLOPs of a training step: forward 2*B*G*H*(I+H) per step, 3x for training."""
    return 3.0 * 2.0 * B * GATES[cell] * H * (I + H) * T


class CtRnn(torch.nn.Module):
    """The forward-Euler CT-RNN of rnnscope written as torch operations:
    x_t = (1 - dt) x_{t-1} + dt tanh(W_ih u_t + b_ih + W_hh x_{t-1} + b_hh)."""

    def __init__(self, I, H, dt=0.1):
        super().__init__()
        k = H ** -0.5
        self.weight_ih = torch.nn.Parameter(torch.empty(H, I).uniform_(-k, k))
        self.weight_hh = torch.nn.Parameter(torch.empty(H, H).uniform_(-k, k))
        self.bias_ih = torch.nn.Parameter(torch.empty(H).uniform_(-k, k))
        self.bias_hh = torch.nn.Parameter(torch.empty(H).uniform_(-k, k))
        self.dt = dt

    def forward(self, u):
        T, B, _ = u.shape
        drive = torch.nn.functional.linear(u, self.weight_ih, self.bias_ih + self.bias_hh)
        x = u.new_zeros(B, self.weight_hh.shape[0])
        out = []
        for t in range(T):
            y = torch.tanh(torch.addmm(drive[t], x, self.weight_hh.t()))
            x = (1 - self.dt) * x + self.dt * y
            out.append(x)
        return torch.stack(out), x


def torch_model(cell, I, H):
    if cell == "elman":
        return torch.nn.RNN(I, H, nonlinearity="tanh")
    if cell == "lstm":
        return torch.nn.LSTM(I, H)
    if cell == "gru":
        return torch.nn.GRU(I, H)
    return CtRnn(I, H)


class TorchStep:
    def __init__(self, cell, B, T, I, H):
        torch.manual_seed(1)
        self.model = torch_model(cell, I, H)
        self.x = torch.randn(T, B, I)
        self.target = torch.randn(T, B, H)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=1e-3)

    def __call__(self):
        self.opt.zero_grad()
        out, _ = self.model(self.x)
        loss = torch.nn.functional.mse_loss(out, self.target)
        loss.backward()
        self.opt.step()
        return loss


def torch_adding_batch(B, T):
    """A batch of the adding task as rnnscope draws it (training/tasks.hpp): x (T, B, 2),
    channel 0 uniform on [0, 1), channel 1 zero except one marker in each half; target (B, 1)
    the sum of the two marked values."""
    values = torch.rand(T, B)
    cols = torch.arange(B)
    first = torch.randint(0, T // 2, (B,))
    second = torch.randint(T // 2, T, (B,))
    markers = torch.zeros(T, B)
    markers[first, cols] = 1.0
    markers[second, cols] = 1.0
    target = (values[first, cols] + values[second, cols]).unsqueeze(1)
    return torch.stack((values, markers), dim=2), target


class TorchTrainLoop:
    """One step of a PyTorch training loop on the adding task: a fresh batch, forward, a
    linear readout on the last step, MSE, zero_grad, backward, clipping of the gradients'
    norm to 1, Adam (the single-tensor code path, as rnnscope's optimizer follows it)."""

    def __init__(self, cell, B, T, H):
        torch.manual_seed(1)
        self.B, self.T = B, T
        self.rnn = torch_model(cell, 2, H)
        self.readout = torch.nn.Linear(H, 1)
        self.params = list(self.rnn.parameters()) + list(self.readout.parameters())
        self.loss = torch.nn.MSELoss()
        self.opt = torch.optim.Adam(self.params, lr=1e-3, foreach=False)

    def __call__(self):
        x, target = torch_adding_batch(self.B, self.T)
        out, _ = self.rnn(x)
        loss = self.loss(self.readout(out[-1]), target)
        self.opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.opt.step()
        return loss


def time_calls(f, n):
    """n timings of f() in seconds."""
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        out.append(time.perf_counter() - t0)
    return out


RNNSCOPE_CONTEXT = {}  # the benchmark binaries' context (matrix_kernel: the kernels rnnscope ran on)


def benchmark_runs(binary, pattern, repetitions, env=None, interleaved=False):
    """The iteration runs of the benchmarks matching pattern (Google Benchmark's JSON), each with
    its real time in seconds as "seconds"."""
    cmd = [binary, f"--benchmark_filter={pattern}", f"--benchmark_repetitions={repetitions}",
           "--benchmark_format=json", "--benchmark_min_time=0.2"]
    if interleaved:
        cmd.append("--benchmark_enable_random_interleaving=true")
    res = subprocess.run(cmd, capture_output=True, text=True, env=RNNSCOPE_ENV if env is None else env)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr}")
    data = json.loads(res.stdout)
    if "matrix_kernel" in data.get("context", {}):
        RNNSCOPE_CONTEXT["matrix_kernel"] = data["context"]["matrix_kernel"]
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    runs = [b for b in data["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
    if not runs:
        raise RuntimeError(f"no benchmark matches {pattern!r} in {binary}")
    for b in runs:
        b["seconds"] = b["real_time"] * scale[b["time_unit"]]
    return runs


def run_bench(binary, pattern, repetitions, env=None):
    """Per-repetition real times (seconds) and the last counters of the benchmarks matching pattern."""
    runs = benchmark_runs(binary, pattern, repetitions, env)
    return [b["seconds"] for b in runs], runs[-1]


def bench_name(cell, B, T, I, H):
    return f"^train/{cell}/B:{B}/T:{T}/I:{I}/H:{H}/"


def compare_training(args, binary):
    rows = []
    for cell, B, T, I, H, target in SHAPES:
        step = TorchStep(cell, B, T, I, H)
        time_calls(step, 2)  # warm-up: allocator, thread pool
        one = min(time_calls(step, 1))
        per_round = max(args.min_samples, min(50, int(0.3 / max(one, 1e-6))))
        torch_t, ours_t = [], []
        for _ in range(args.rounds):
            torch_t += time_calls(step, per_round)
            ours_t += run_bench(binary, bench_name(cell, B, T, I, H), args.repetitions)[0]
        pt, rs = statistics.median(torch_t), statistics.median(ours_t)
        flops = train_flops(cell, B, T, I, H)
        rows.append(dict(cell=cell, B=B, T=T, I=I, H=H, torch_ms=pt * 1e3, rnnscope_ms=rs * 1e3,
                         ratio=pt / rs, target=target, torch_gflops=flops / pt / 1e9,
                         rnnscope_gflops=flops / rs / 1e9, torch_samples=len(torch_t),
                         rnnscope_samples=len(ours_t)))
        print(f"  {cell:6s} B={B:<4d} T={T:<5d} I={I:<4d} H={H:<4d} torch {pt * 1e3:9.3f} ms  "
              f"rnnscope {rs * 1e3:9.3f} ms  ratio {pt / rs:7.2f}", file=sys.stderr, flush=True)
    return rows


def rnnscope_train_cli(build):
    """The rnnscope binary of the build; exits naming it when it is missing or has no `train`."""
    path = os.path.join(build, "rnnscope")
    if not os.access(path, os.X_OK):
        sys.exit(f"compare_pytorch.py: {path} not found; build the rnnscope target (the whole-loop comparison "
                 f"runs `rnnscope train`)")
    res = subprocess.run([path, "train", "--help"], capture_output=True, text=True, env=RNNSCOPE_ENV)
    if res.returncode != 0:
        why = (res.stderr.strip().splitlines() or ["no message"])[0]
        sys.exit(f"compare_pytorch.py: {path} has no 'train' subcommand ({why}); the whole-loop comparison "
                 f"needs `rnnscope train`")
    return path


def printed_resolution(text):
    """The step of the last digit of a number as printed: 1e-3 for "0.123", 1e-7 for "1.5e-06"."""
    mantissa, _, exponent = text.strip().lower().partition("e")
    return 10.0 ** (int(exponent or 0) - len(mantissa.partition(".")[2]))


def rnnscope_loop_steps(cli, cell, B, T, H, steps, workdir):
    """The step times (seconds) of one `rnnscope train` run of `steps` steps, and how they were read.

    Row s of curve.csv holds the wall time since the run began, written after step s and its
    evaluation if any: the difference to row s - 1 is the time of step s. Left out: row 0 (the
    first evaluation), row 1 (the first step, which also holds step 0's evaluation and the first
    touch of the step's buffers), the last row and any other row with an evaluation. When the
    column is printed too coarsely for single steps (a median difference under 20 units of its
    last digit), the run gives one figure, the mean step over the same rows."""
    out = os.path.join(workdir, f"{cell}_{B}_{T}_{H}_{next(RUN_NUMBERS)}")  # a folder that does not exist yet
    cmd = [cli, "train", "--task", "adding", "--T", str(T), "--cell", cell, "--hidden", str(H),
           "--batch", str(B), "--optimizer", "adam", "--lr", "0.001", "--clip-norm", "1", "--steps", str(steps),
           "--eval-every", str(steps), "--eval-size", "1", "--dtype", "f32", "--threads", str(THREADS),
           "--seed", "1", "--out", out, "--quiet"]
    res = subprocess.run(cmd, capture_output=True, text=True, env=RNNSCOPE_ENV)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr}")
    path = os.path.join(out, "curve.csv")
    if not os.path.exists(path):
        raise RuntimeError(f"{' '.join(cmd)} wrote no {path}")
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        rows = list(reader)
    shutil.rmtree(out, ignore_errors=True)
    if header != CURVE_HEADER:
        raise RuntimeError(f"{path}: header {','.join(header or [])}, expected {','.join(CURVE_HEADER)}")
    if len(rows) != steps + 1:
        raise RuntimeError(f"{path}: {len(rows)} rows, expected {steps + 1} (steps 0..{steps})")
    col = {name: i for i, name in enumerate(CURVE_HEADER)}
    seconds = [float(r[col["seconds"]]) for r in rows]
    used = [s for s in range(2, steps) if not rows[s][col["eval_loss"]].strip()]
    if not used:
        raise RuntimeError(f"{path}: no step without an evaluation between row 2 and the last row")
    diffs = [seconds[s] - seconds[s - 1] for s in used]
    resolution = max(printed_resolution(rows[s][col["seconds"]]) for s in [used[0] - 1] + used)
    if statistics.median(diffs) >= 20 * resolution:
        return diffs, "median of step differences"
    return [sum(diffs) / len(diffs)], f"mean step (seconds printed to {resolution:g} s)"


def run_interleaved(binary, pattern, repetitions):
    """The repetitions of every benchmark matching pattern, in one process, interleaved at random."""
    return [(r["name"], r["seconds"]) for r in benchmark_runs(binary, pattern, repetitions, interleaved=True)]


def loop_overhead(args, binary, cell, B, T, H):
    """bench_train_loop's loop / bare at one shape: a step of the library's train() against the
    bare training step, both in each of args.rounds processes; the median of the processes' ratios."""
    pattern = f"^(loop|bare)/{cell}/B:{B}/T:{T}/H:{H}/"
    loop_t, bare_t, ratios = [], [], []
    for _ in range(args.rounds):
        runs = run_interleaved(binary, pattern, args.repetitions)
        loop = [t for name, t in runs if name.startswith("loop/")]
        bare = [t for name, t in runs if name.startswith("bare/")]
        if not loop or not bare:
            raise RuntimeError(f"no benchmark pair matches {pattern!r} in {binary}")
        loop_t += loop
        bare_t += bare
        ratios.append(statistics.median(loop) / statistics.median(bare))
    return dict(loop_ms=statistics.median(loop_t) * 1e3, bare_ms=statistics.median(bare_t) * 1e3,
                ratio=statistics.median(ratios), round_ratios=ratios)


def compare_training_loop(args, cli, loop_binary):
    """The whole training loop, PyTorch against `rnnscope train`, rounds alternating; and, when
    bench_train_loop was built, the loop's overhead beyond the bare step."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for cell, B, T, H, target in LOOP_SHAPES:
            step = TorchTrainLoop(cell, B, T, H)
            time_calls(step, 2)  # warm-up: allocator, thread pool, Adam's state
            one = min(time_calls(step, 1))
            per_round = max(args.min_samples, min(50, int(0.3 / max(one, 1e-6))))
            # As many steps a run as PyTorch takes in loop_seconds: rnnscope's share of a round.
            steps = max(args.min_samples + 3, min(args.loop_max_steps, int(args.loop_seconds / max(one, 1e-6))))
            torch_t, ours_t, how = [], [], set()
            for _ in range(args.rounds):
                torch_t += time_calls(step, per_round)
                times, note = rnnscope_loop_steps(cli, cell, B, T, H, steps, tmp)
                ours_t += times
                how.add(note)
            pt, rs = statistics.median(torch_t), statistics.median(ours_t)
            overhead = loop_overhead(args, loop_binary, cell, B, T, H) if loop_binary else None
            rows.append(dict(cell=cell, B=B, T=T, I=2, H=H, torch_ms=pt * 1e3, rnnscope_ms=rs * 1e3,
                             speedup=pt / rs, target=target, torch_samples=len(torch_t),
                             rnnscope_samples=len(ours_t), rnnscope_steps_per_run=steps,
                             rnnscope_estimate="; ".join(sorted(how)), overhead=overhead))
            extra = f"  loop/bare {overhead['ratio']:.3f}" if overhead else ""
            print(f"  loop {cell:4s} B={B:<3d} T={T:<4d} H={H:<4d} torch {pt * 1e3:9.3f} ms  "
                  f"rnnscope {rs * 1e3:9.3f} ms  speed-up {pt / rs:7.2f}{extra}", file=sys.stderr, flush=True)
    return rows


def training_memory(binary_dir):
    """bench_memory train for the LSTM and the GRU at TRAIN_MEMORY."""
    B, T, H = TRAIN_MEMORY
    out = []
    for cell in ("lstm", "gru"):
        res = subprocess.run([os.path.join(binary_dir, "bench_memory"), "train", cell, str(B), str(T), str(H)],
                             capture_output=True, text=True, check=True, env=RNNSCOPE_ENV)
        out.append(json.loads(res.stdout))
    return out


def sgemm_rates(args, binary):
    n = 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    time_calls(lambda: torch.mm(a, b), 3)
    t = statistics.median(time_calls(lambda: torch.mm(a, b), 5 if args.quick else 15))
    eigen = statistics.median(run_bench(binary, "^sgemm/eigen/N:2048/", args.repetitions)[0])
    flops = 2.0 * n ** 3
    return dict(torch_gflops=flops / t / 1e9, eigen_gflops=flops / eigen / 1e9)


def write_safetensors(path, tensors):
    """tensors: name -> float64 torch tensor (contiguous)."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        raw = t.contiguous().numpy().tobytes() if hasattr(t, "numpy") else bytes(t)
        header[name] = {"dtype": "F64", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def torch_chain_norms(w_ih, w_hh, b, x):
    """log10 of the spectral norms of d h_{T-1} / d h_{T-1-L}, L = 0..T, by autograd.

    The states are perturbed additively, h_t = tanh(...) + p_{t+1} and h_{-1} = p_0, at
    p = 0: the Jacobian of h_{T-1} with respect to p holds every chain at once."""
    T, H = x.shape[0], w_hh.shape[0]
    drive = x[:, 0, :] @ w_ih.t() + b

    def last_state(p):
        h = p[0]
        for t in range(T):
            h = torch.tanh(drive[t] + w_hh @ h)
            if t + 1 < T:
                h = h + p[t + 1]
        return h

    jac = torch.autograd.functional.jacobian(last_state, torch.zeros(T, H, dtype=torch.float64),
                                             vectorize=True)  # (H, T, H): [:, s] = dh_{T-1}/dh_{s-1}
    chains = torch.cat([torch.eye(H, dtype=torch.float64)[None], jac.permute(1, 0, 2).flip(0)])
    spectral = torch.linalg.matrix_norm(chains, ord=2)
    frobenius = torch.linalg.matrix_norm(chains, ord="fro")
    return torch.log10(spectral), torch.log10(frobenius)


def compare_chains(args, binary_dir):
    torch.manual_seed(3)
    k = CHAIN_H ** -0.5
    d = torch.float64
    w_ih = torch.empty(CHAIN_H, CHAIN_I, dtype=d).uniform_(-k, k)
    w_hh = torch.empty(CHAIN_H, CHAIN_H, dtype=d).uniform_(-k, k)
    b_ih = torch.empty(CHAIN_H, dtype=d).uniform_(-k, k)
    b_hh = torch.empty(CHAIN_H, dtype=d).uniform_(-k, k)
    x = torch.randn(CHAIN_T, 1, CHAIN_I, dtype=d)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "chain_weights.safetensors")
        write_safetensors(path, {"weight_ih": w_ih, "weight_hh": w_hh, "bias_ih": b_ih, "bias_hh": b_hh,
                                 "input": x})
        env = dict(RNNSCOPE_ENV, RNNSCOPE_BENCH_WEIGHTS=path)
        f = lambda: torch_chain_norms(w_ih, w_hh, b_ih + b_hh, x)  # noqa: E731
        spectral, _ = f()
        torch_t, ours_t, counters = [], [], None
        for _ in range(args.rounds):
            torch_t += time_calls(f, max(args.min_samples, 3))
            times, counters = run_bench(os.path.join(binary_dir, "bench_jacobian"),
                                        f"^jacobian_chain/elman_tanh/T:{CHAIN_T}/H:{CHAIN_H}/",
                                        args.repetitions, env)
            ours_t += times
    pt, rs = statistics.median(torch_t), statistics.median(ours_t)
    return dict(T=CHAIN_T, H=CHAIN_H, torch_ms=pt * 1e3, rnnscope_ms=rs * 1e3, ratio=pt / rs,
                torch_log10_norm_T=float(spectral[-1]), rnnscope_log10_norm_T=counters["log10_norm_T"])


def linearity(args, binary, shape, rounds):
    B, I, H = shape
    out = []
    for cell in ("elman", "lstm", "gru", "ctrnn"):
        # Both lengths run in one process, their repetitions interleaved at
        # random: the machine's speed changes from one process to the next
        # (docs/performance.md), and within a process that change cancels in the
        # ratio. Each round is a fresh process; the figure is the median of the
        # rounds' ratios.
        pattern = f"^train/{cell}/B:{B}/T:(100|10000)/I:{I}/H:{H}/"
        short_t, long_t, ratios = [], [], []
        for _ in range(rounds):
            cmd = [binary, f"--benchmark_filter={pattern}", f"--benchmark_repetitions={args.repetitions}",
                   "--benchmark_format=json", "--benchmark_min_time=0.2",
                   "--benchmark_enable_random_interleaving=true"]
            res = subprocess.run(cmd, capture_output=True, text=True, env=RNNSCOPE_ENV)
            if res.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr}")
            runs = [r for r in json.loads(res.stdout)["benchmarks"] if r.get("run_type") == "iteration"]
            scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
            short = [r["real_time"] * scale[r["time_unit"]] for r in runs if "/T:100/" in r["name"]]
            long = [r["real_time"] * scale[r["time_unit"]] for r in runs if "/T:10000/" in r["name"]]
            if not short or not long:
                raise RuntimeError(f"no benchmark matches {pattern!r} in {binary}")
            short_t += short
            long_t += long
            ratios.append(statistics.median(long) / statistics.median(short))
        out.append(dict(cell=cell, B=B, I=I, H=H, t100_ms=statistics.median(short_t) * 1e3,
                        t10000_ms=statistics.median(long_t) * 1e3, ratio=statistics.median(ratios),
                        round_ratios=ratios, samples=[len(short_t), len(long_t)]))
    return out


def peak_memory(binary_dir):
    res = subprocess.run([os.path.join(binary_dir, "bench_memory"), "lstm", "64", "200", "64", "256"],
                         capture_output=True, text=True, check=True, env=RNNSCOPE_ENV)
    return json.loads(res.stdout)


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_gib = int(f.readline().split()[1]) / 2 ** 20
    blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    return dict(cpu=model, cores=os.cpu_count(), mem_gib=round(mem_gib, 1),
                kernel=platform.release(), python=platform.python_version(), torch=torch.__version__,
                torch_threads=torch.get_num_threads(), libblas=blas, openblas_core=openblas_corename(),
                openblas_coretype=CORETYPE_NOTE)


def fmt_target(t, ok):
    return "" if t is None else f">= {t:g}x {'met' if ok else 'NOT met'}"


def print_training_loop(rows):
    print("Whole training loop, adding task (I=2): a fresh batch, forward, linear readout on the last step, MSE, "
          "full BPTT, gradient norm clipped to 1, Adam (lr 1e-3), float32, time per step, medians "
          "(PyTorch: the loop in Python; rnnscope: `rnnscope train`, differences of curve.csv's seconds). "
          "loop / bare: bench_train_loop, a step of the library's train() against the bare training step "
          "(forward, MSE on every step, BPTT, SGD) at the same shape:")
    print()
    print("| cell | B | T | H | PyTorch | rnnscope | speed-up | target | loop / bare |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ov = r["overhead"]
        overhead = ("not measured (no bench_train_loop)" if ov is None else
                    f"{ov['ratio']:.3f} (< {LOOP_OVERHEAD_TARGET:.2f} "
                    f"{'met' if ov['ratio'] < LOOP_OVERHEAD_TARGET else 'NOT met'})")
        print(f"| {r['cell']} | {r['B']} | {r['T']} | {r['H']} | {r['torch_ms']:.3f} ms | {r['rnnscope_ms']:.3f} ms | "
              f"{r['speedup']:.2f}x | {fmt_target(r['target'], r['speedup'] >= r['target'])} | {overhead} |")
    coarse = sorted({r["rnnscope_estimate"] for r in rows} - {"median of step differences"})
    if coarse:
        print()
        print(f"rnnscope's curve.csv was too coarse for single steps in some runs: {'; '.join(coarse)}")


def print_training_memory(mem_train):
    for m in mem_train:
        rest = m["param_bytes"] + m["readout_bytes"] + m["gradient_bytes"] + m["optimizer_bytes"]
        print(f"Peak memory of training, {m['cell'].upper()} B={m['B']} T={m['T']} I={m['I']} H={m['H']}, "
              f"{m['steps']} steps of train() (adding task, Adam, float): {m['train_peak_bytes'] / 2**20:.1f} MiB "
              f"measured (peak RSS growth) against {m['stated_bytes'] / 2**20:.1f} MiB stated (cache "
              f"{m['cache_bytes'] / 2**20:.1f} MiB + parameters, gradients and Adam's buffers {rest / 2**20:.1f} MiB): "
              f"{m['ratio']:.2f}x ({'met' if m['ratio'] <= 1.5 else 'NOT met'}, target <= 1.5x)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="rnnscope build directory (default: build)")
    ap.add_argument("--quick", action="store_true", help="one round, fewer samples (a rough table)")
    ap.add_argument("--only-training", action="store_true",
                    help="only the whole training loop: the speed-ups against PyTorch, the loop's overhead "
                         "(when bench_train_loop was built) and the peak memory of training (when bench_memory was)")
    ap.add_argument("--json", help="also write every figure to this JSON file")
    args = ap.parse_args()
    args.rounds, args.repetitions, args.min_samples = (1, 3, 3) if args.quick else (3, 5, 5)
    args.linear_rounds = 1 if args.quick else 5
    # Steps of one `rnnscope train` run: as many as PyTorch takes in loop_seconds, at most loop_max_steps.
    args.loop_seconds, args.loop_max_steps = (0.3, 100) if args.quick else (1.0, 1000)
    binary_dir = os.path.join(args.build, "bench")
    binary = os.path.join(binary_dir, "bench_train_step")
    executable = lambda b: os.access(os.path.join(binary_dir, b), os.X_OK)  # noqa: E731
    for b in () if args.only_training else ("bench_train_step", "bench_jacobian", "bench_memory"):
        if not executable(b):
            sys.exit(f"compare_pytorch.py: {os.path.join(binary_dir, b)} not found; build with RNNSCOPE_BENCH=ON")
    cli = rnnscope_train_cli(args.build)
    loop_binary = os.path.join(binary_dir, "bench_train_loop") if executable("bench_train_loop") else None
    if loop_binary is None:
        print(f"note: {os.path.join(binary_dir, 'bench_train_loop')} not found; the loop's overhead is not measured",
              file=sys.stderr)

    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()
    info = machine()
    print(f"machine: {info['cpu']}, {info['cores']} cores, {info['mem_gib']} GiB; torch {info['torch']} "
          f"with {info['torch_threads']} threads, BLAS {info['libblas']} (OpenBLAS core {info['openblas_core']}, "
          f"{info['openblas_coretype']})", file=sys.stderr, flush=True)
    if args.only_training:
        loop_rows = compare_training_loop(args, cli, loop_binary)
        mem_train = training_memory(binary_dir) if executable("bench_memory") else []
    else:
        sgemm = sgemm_rates(args, binary)
        rows = compare_training(args, binary)
        loop_rows = compare_training_loop(args, cli, loop_binary)
        chains = compare_chains(args, binary_dir)
        lin = linearity(args, binary, LINEAR_T, args.linear_rounds)
        lin_small = linearity(args, binary, LINEAR_T_SMALL, max(1, args.linear_rounds - 2))
        mem = peak_memory(binary_dir)
        mem_train = training_memory(binary_dir)
        sgemm_end = sgemm_rates(args, binary)
        ceiling = statistics.median([sgemm["torch_gflops"], sgemm_end["torch_gflops"]])
    load_after = os.getloadavg()

    flags = f"{' --quick' if args.quick else ''}{' --only-training' if args.only_training else ''}"
    print(f"# rnnscope vs PyTorch, {started:%Y-%m-%d %H:%M} UTC{f' ({flags.strip()})' if flags else ''}")
    print(f"command: /usr/bin/python3 bench/compare_pytorch.py --build {args.build}{flags}")
    print(f"machine: {info['cpu']}, {info['cores']} cores, {info['mem_gib']} GiB, Linux {info['kernel']}")
    print(f"peer: torch {info['torch']}, {info['torch_threads']} threads, float32, BLAS {info['libblas']} "
          f"(OpenBLAS core {info['openblas_core']}; {info['openblas_coretype']})")
    print(f"rnnscope: matrix kernels {RNNSCOPE_CONTEXT.get('matrix_kernel', 'not reported')}, "
          f"OMP_NUM_THREADS={RNNSCOPE_ENV.get('OMP_NUM_THREADS')}")
    print(f"load average (1 min) before / after: {load_before[0]:.2f} / {load_after[0]:.2f}")
    if args.only_training:
        print()
        print_training_loop(loop_rows)
        if mem_train:
            print()
            print_training_memory(mem_train)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(dict(started=started.isoformat(), quick=args.quick, only_training=True, machine=info,
                               load_before=load_before, load_after=load_after, training_loop=loop_rows,
                               memory_training=mem_train, rnnscope_context=RNNSCOPE_CONTEXT), f, indent=1)
        return
    print(f"sgemm 2048x2048 float32, {THREADS} threads: torch.mm {sgemm['torch_gflops']:.0f} / "
          f"{sgemm_end['torch_gflops']:.0f} GFLOP/s (start / end), Eigen {sgemm['eigen_gflops']:.0f} / "
          f"{sgemm_end['eigen_gflops']:.0f} GFLOP/s")
    print()
    print("Training step (forward, MSE on every step, full BPTT, SGD), float32, medians:")
    print()
    print("| cell | B | T | I | H | PyTorch | rnnscope | ratio | PyTorch GFLOP/s | rnnscope GFLOP/s | target |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ok = r["target"] is None or r["ratio"] >= r["target"]
        extra = ""
        if r["cell"] == "lstm" and r["B"] == 128:
            share = r["rnnscope_gflops"] / ceiling
            ok = ok and share >= 0.7
            extra = f"; {100 * share:.0f}% of sgemm (>= 70%)"
        print(f"| {r['cell']} | {r['B']} | {r['T']} | {r['I']} | {r['H']} | {r['torch_ms']:.3f} ms | "
              f"{r['rnnscope_ms']:.3f} ms | {r['ratio']:.2f}x | {r['torch_gflops']:.1f} | "
              f"{r['rnnscope_gflops']:.1f} | {fmt_target(r['target'], ok)}{extra} |")
    print()
    print_training_loop(loop_rows)
    print()
    print(f"Jacobian chains d h_T / d h_t with spectral and Frobenius norms, tanh RNN T={chains['T']} "
          f"H={chains['H']} double: torch.autograd.functional.jacobian(vectorize=True) + matrix_norm "
          f"{chains['torch_ms']:.2f} ms, rnnscope {chains['rnnscope_ms']:.2f} ms, ratio {chains['ratio']:.1f}x "
          f"({fmt_target(20.0, chains['ratio'] >= 20.0)}); log10 ||d h_T/d h_0||_2: torch "
          f"{chains['torch_log10_norm_T']:.10f}, rnnscope {chains['rnnscope_log10_norm_T']:.10f}")
    print()
    print(f"Linearity in T (B={LINEAR_T[0]}, I={LINEAR_T[1]}, H={LINEAR_T[2]}), rnnscope, {args.linear_rounds} "
          f"processes each running both lengths; ratio = median of the processes' ratios:")
    print()
    print("| cell | T=100 | T=10,000 | ratio | ratios of the processes | target 90x..120x |")
    print("|---|---|---|---|---|---|")
    for r in lin:
        ok = 90 <= r["ratio"] <= 120
        each = ", ".join(f"{x:.1f}" for x in r["round_ratios"])
        print(f"| {r['cell']} | {r['t100_ms']:.3f} ms | {r['t10000_ms']:.1f} ms | {r['ratio']:.1f}x | {each} | "
              f"{'met' if ok else 'NOT met'} |")
    print()
    print(f"For information, a small batch (B={LINEAR_T_SMALL[0]}, I={LINEAR_T_SMALL[1]}, H={LINEAR_T_SMALL[2]}), "
          f"whose sweep is pipelined over two threads at T=10,000 and not at T=100:")
    print()
    print("| cell | T=100 | T=10,000 | ratio | ratios of the processes |")
    print("|---|---|---|---|---|")
    for r in lin_small:
        each = ", ".join(f"{x:.1f}" for x in r["round_ratios"])
        print(f"| {r['cell']} | {r['t100_ms']:.3f} ms | {r['t10000_ms']:.1f} ms | {r['ratio']:.1f}x | {each} |")
    print()
    print(f"Peak memory, LSTM B={mem['B']} T={mem['T']} I={mem['I']} H={mem['H']} float step: "
          f"{mem['step_peak_bytes'] / 2**20:.1f} MiB measured (peak RSS growth) against "
          f"{mem['stated_bytes'] / 2**20:.1f} MiB stated (cache {mem['cache_bytes'] / 2**20:.1f} MiB + "
          f"weights and gradients {2 * mem['param_bytes'] / 2**20:.1f} MiB): {mem['ratio']:.2f}x "
          f"({'met' if mem['ratio'] <= 1.5 else 'NOT met'}, target <= 1.5x)")
    print_training_memory(mem_train)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(started=started.isoformat(), quick=args.quick, machine=info, load_before=load_before,
                           load_after=load_after, sgemm=[sgemm, sgemm_end], training=rows, training_loop=loop_rows,
                           chains=chains, linearity=lin, linearity_small_batch=lin_small, memory=mem,
                           memory_training=mem_train, rnnscope_context=RNNSCOPE_CONTEXT), f, indent=1)


if __name__ == "__main__":
    main()
