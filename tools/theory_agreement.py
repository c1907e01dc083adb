#!/usr/bin/env python3
"""The agreement table of docs/theory.md: the largest Lyapunov exponent that `rnnscope lyapunov` measures on
random networks against the mean-field prediction it prints beside it, for every covered cell, recurrent scales
on both sides of the edge, and widths H = 128, 512 and 1024.

    tools/theory_agreement.py build/rnnscope [--T 1500] [--seeds 2] [--batch 2]

Prints a Markdown table. Each network: --init scaled --scale g (or the PyTorch initialisation, g = 1/sqrt(3),
where the init column says so) --input-size 1 (inputs N(0, 1))."""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = [  # cell, g (None: the pytorch initialisation), dt (None: not a CT-RNN), LSTM forget bias
    ("rnn_tanh", 0.5, None, 0), ("rnn_tanh", 0.9, None, 0), ("rnn_tanh", 1.5, None, 0), ("rnn_tanh", 3.0, None, 0),
    ("rnn_relu", 1.0, None, 0), ("rnn_relu", 1.6, None, 0),
    ("rnn_sigmoid", 2.0, None, 0), ("rnn_sigmoid", 6.0, None, 0), ("rnn_sigmoid", 12.0, None, 0),
    ("ctrnn", 0.5, 0.1, 0), ("ctrnn", 2.0, 0.1, 0), ("ctrnn", 4.0, 0.1, 0), ("ctrnn", 0.5, 1.0, 0),
    ("ctrnn", 3.0, 1.0, 0),
    ("lstm", None, None, 0), ("lstm", None, None, 1), ("lstm", 0.5, None, 0), ("lstm", 1.0, None, 0),
    ("lstm", 1.5, None, 0), ("lstm", 3.0, None, 0),
    ("gru", None, None, 0), ("gru", 0.5, None, 0), ("gru", 1.0, None, 0), ("gru", 1.5, None, 0), ("gru", 3.0, None, 0),
]
WIDTHS = [128, 512, 1024]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("binary")
    p.add_argument("--T", type=int, default=1500)
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--batch", type=int, default=2)
    a = p.parse_args()
    start = time.time()
    print("| cell | init | chi | phase | lambda_MF | " + " | ".join(f"H = {h}" for h in WIDTHS) + " | gap at H = 1024 |")
    print("|---|---|---|---|---|" + "---|" * len(WIDTHS) + "---|")
    with tempfile.TemporaryDirectory() as tmp:
        for cell, g, dt, forget_bias in CASES:
            measured, theory = [], None
            for h in WIDTHS:
                out = Path(tmp) / f"{cell}_{g}_{dt}_{forget_bias}_{h}"
                init = ["--init", "pytorch"] if g is None else ["--init", "scaled", "--scale", str(g)]
                args = [a.binary, "lyapunov", "--quiet", "--cell", cell, *init, "--input-size", "1", "--hidden", str(h), "--T", str(a.T), "--seeds", str(a.seeds),
                        "--batch", str(a.batch), "--top", "1", "--out", str(out)]
                if dt is not None:
                    args += ["--dt", str(dt)]
                if forget_bias:
                    args += ["--forget-bias", str(forget_bias)]
                subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
                summary = json.loads((out / "summary.json").read_text())
                entry = next(iter(summary["lyapunov"].values()))
                measured.append(entry["largest"])
                theory = entry["theory"]
            name = cell if dt is None else f"ctrnn dt {dt:g}"
            lam = theory.get("lambda")
            lam_text = f"{lam:.4f}" if lam is not None else "none (" + theory.get("regime", "") + ")"
            gap = f"{100 * (measured[-1] - lam) / abs(lam):+.1f}%" if lam is not None else "-"
            init_text = "pytorch" if g is None else f"g = {g:g}"
            if forget_bias:
                init_text += f", forget bias {forget_bias:g}"
            print(f"| {name} | {init_text} | {theory['chi']:.4g} | {theory['phase']} | {lam_text} | "
                  + " | ".join(f"{m:.4f}" for m in measured) + f" | {gap} |")
            sys.stdout.flush()
    print(f"\n{len(CASES) * len(WIDTHS)} networks in {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
