#!/usr/bin/python3
"""Every table, figure data file, summary and index.html that the CLI writes
on its defaults, compared byte for byte with the files committed in
tests/data/golden/ (one folder per case).

    golden_outputs.py RNNSCOPE [--generate]

Each case is one command run into a fresh folder. Compared: every file it
writes except the drawn images (*.png, *.svg: gnuplot's bytes, drawn from the
compared *.gp and *.dat), and its standard output without the run time. The
matrix kernel the products ran on is named in summary.json and index.html; it
is masked, as it names the machine, not a result, and so is the name of the
temporary folder the cases run in. With --generate the
committed files are written anew from RNNSCOPE instead (only when a change of
the output is intended, said in the commit).

Standard library only. Exit code 0: every case identical; 1: a difference
(each named with its first differing line); 2: bad usage.
"""

import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "data", "golden")
REFERENCE = os.path.join(HERE, "data", "reference")
SPLIT = os.path.join(HERE, "..", "tools", "split_reference.py")

# Reference models analysed: every cell kind, one and two layers, with and
# without biases, float and double.
ANALYZED = ["rnn_tanh_l2_f64", "rnn_relu_l1_f64", "rnn_sigmoid_l1_nobias_f64", "lstm_l2_f64", "lstm_l1_f32",
            "gru_l2_nobias_f64", "ctrnn_l2_dt0.1_f64", "ctrnn_l1_nobias_dt1.0_f32", "rnn_residual_l2_nobias_f64",
            "rnn_skip_l2_k3_f64", "rnn_antisymmetric_l1_eps0.5_gamma0.2_f32"]

# name -> arguments after the binary; OUT is the case's output folder or file,
# MODEL and INPUT the split reference files of the analyzed model.
CASES = {
    "report": ["report", "--quiet", "--out", "OUT"],
    "report_quick": ["report", "--quick", "--quiet", "--out", "OUT"],
    "activations": ["activations", "--quiet", "--out", "OUT"],
    "lookback": ["lookback", "--quiet", "--out", "OUT"],
    "lookback_lstm": ["lookback", "--quiet", "--cell", "lstm", "--init", "orthogonal", "--forget-bias", "1",
                      "--out", "OUT"],
    "spectrum": ["spectrum", "--quiet", "--out", "OUT"],
    "spectrum_gru": ["spectrum", "--quiet", "--cell", "gru", "--out", "OUT"],
    "lookback_skip": ["lookback", "--quiet", "--cell", "rnn_skip", "--skip", "4", "--out", "OUT"],
    "lyapunov": ["lyapunov", "--quiet", "--out", "OUT"],
    "lyapunov_relu": ["lyapunov", "--quiet", "--cell", "rnn_relu", "--top", "8", "--out", "OUT"],
    "contributions": ["contributions", "--quiet", "--out", "OUT"],
    "lookback_critical": ["lookback", "--quiet", "--init", "critical", "--out", "OUT"],
    "phase": ["phase", "--quiet", "--g-points", "12", "--s-points", "6", "--measured-g", "4", "--measured-s", "2",
              "--T", "200", "--out", "OUT"],
    "init": ["init", "--cell", "lstm", "--layers", "2", "--out", "OUT/model.safetensors"],
    "grad": ["grad", "--model", "MODEL", "--input", "INPUT", "--out", "OUT/grads.safetensors"],
}
for stem in ANALYZED:
    CASES["analyze_" + stem] = ["analyze", "--quiet", "--model", "MODEL", "--input", "INPUT", "--out", "OUT"]

KERNEL = [(re.compile(r'("matrix_kernel": )"[^"]*"'), r'\1"(masked)"'),
          (re.compile(r"(<th[^>]*>matrix_kernel</th><td>)[^<]*(</td>)"), r"\1(masked)\2")]
TIME = re.compile(r" in [0-9.]+ s$", re.M)


def compared(name):
    return not name.endswith((".png", ".svg"))


def masked(name, data):
    if name.endswith((".json", ".html")):
        text = data.decode("utf-8")
        for pattern, repl in KERNEL:
            text = pattern.sub(repl, text)
        return text.encode("utf-8")
    if name == "stdout.txt":
        return TIME.sub(" in (time) s", data.decode("utf-8")).encode("utf-8")
    return data


def run_case(binary, name, args, work):
    """Runs one case; returns {file name: bytes} of what it wrote, and its stdout."""
    out = os.path.join(work, name)
    os.makedirs(out)
    model = os.path.join(work, name + "_model.safetensors")
    inp = os.path.join(work, name + "_input.safetensors")
    if "MODEL" in args:
        stem = name[len("analyze_"):] if name.startswith("analyze_") else "lstm_l2_f64"
        subprocess.run([sys.executable, SPLIT, os.path.join(REFERENCE, stem + ".safetensors"), model, inp],
                       check=True, stdout=subprocess.DEVNULL)
    argv = [binary] + [a.replace("OUT", out).replace("MODEL", model).replace("INPUT", inp) for a in args]
    env = dict(os.environ, LC_ALL="C")
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=600)
    if r.returncode != 0:
        sys.exit(f"golden_outputs.py: {name}: {' '.join(argv)} exited {r.returncode}\n{r.stderr.decode()}")
    # The temporary folder's name appears where a file names its input or output.
    files = {"stdout.txt": masked("stdout.txt", r.stdout.replace(work.encode(), b"WORK"))}
    for f in sorted(os.listdir(out)):
        if compared(f):
            with open(os.path.join(out, f), "rb") as fh:
                files[f] = masked(f, fh.read().replace(work.encode(), b"WORK"))
    return files


def first_difference(name, want, got):
    try:
        a, b = want.decode("utf-8").splitlines(), got.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return f"{name}: binary files differ ({len(want)} against {len(got)} bytes)"
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"{name}, line {i + 1}:\n  committed: {x[:200]}\n  now:       {y[:200]}"
    return f"{name}: {len(a)} lines committed, {len(b)} now"


def main():
    args = sys.argv[1:]
    generate = "--generate" in args
    args = [a for a in args if a != "--generate"]
    only = [a for a in args[1:]]
    if len(args) < 1 or not os.access(args[0], os.X_OK):
        print(__doc__, file=sys.stderr)
        return 2
    binary = os.path.abspath(args[0])
    failures = []
    with tempfile.TemporaryDirectory(prefix="rnnscope-golden-") as work:
        for name, case_args in CASES.items():
            if only and name not in only:
                continue
            files = run_case(binary, name, case_args, work)
            folder = os.path.join(GOLDEN, name)
            if generate:
                shutil.rmtree(folder, ignore_errors=True)
                os.makedirs(folder)
                for f, data in files.items():
                    with open(os.path.join(folder, f), "wb") as fh:
                        fh.write(data)
                print(f"{name}: wrote {len(files)} files")
                continue
            if not os.path.isdir(folder):
                failures.append(f"{name}: no committed files in {folder}")
                continue
            want = {f: open(os.path.join(folder, f), "rb").read() for f in sorted(os.listdir(folder))}
            missing = sorted(set(want) - set(files))
            extra = sorted(set(files) - set(want))
            if missing:
                failures.append(f"{name}: not written any more: {', '.join(missing)}")
            if extra:
                failures.append(f"{name}: written now, not committed: {', '.join(extra)}")
            for f in sorted(set(want) & set(files)):
                if want[f] != files[f]:
                    failures.append(f"{name}/{first_difference(f, want[f], files[f])}")
            print(f"{name}: {len(set(want) & set(files))} files compared")
    for f in failures:
        print("DIFFERS: " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
