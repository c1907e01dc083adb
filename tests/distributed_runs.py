#!/usr/bin/python3
"""rnnscope over MPI processes (docs/distributed.md), against one process.

    distributed_runs.py RNNSCOPE MPIEXEC CASE

CASE is one of:
  version    rnnscope --version names the MPI it is built with
  study      a learnability study on 2 and on 3 processes writes the tables of
             the serial study, row for row (the seconds column aside); 3
             processes for 2 runs say so and write the serial tables
  train      data-parallel training in float64 on 2 and 3 processes equals
             one process within 1e-12 (relative, per tensor and per curve
             column), two runs on the same number of processes write the same
             bytes, and a run resumed on another number of processes goes on
             as the uninterrupted one
  fault      one process of a running study killed: the job ends within
             seconds with a message naming the process; --resume completes it
             with the serial study's tables
  failure    a process of a study that runs out of memory (under an address-space
             limit set for it alone): the job ends with process 0's message
             naming the process, the run and the reason, and exit code 2;
             --resume completes the study
  refusals   a batch smaller than the processes, --threads in a distributed
             study and a command that does not run distributed are refused
             with exit code 2, and no folder is created

The processes run with --oversubscribe, and with the environment Open MPI
needs as root and in containers set here, for the test alone. Standard
library only. Exit code 0: passed; 1: failed (the reason printed).
"""
import csv
import json
import math
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

RNNSCOPE, MPIEXEC, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_btl_vader_single_copy_mechanism="none", OMPI_MCA_rmaps_base_oversubscribe="1")
WORK = tempfile.mkdtemp(prefix="rnnscope_distributed_")


def fail(message):
    print(f"FAILED ({CASE}): {message}")
    shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(1)


def run(args, processes=None, check=True, timeout=600):
    command = [RNNSCOPE] + args
    if processes is not None:
        command = [MPIEXEC, "--oversubscribe", "-np", str(processes)] + command
    p = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        fail(f"{' '.join(command)} exited with {p.returncode}:\n{p.stderr}")
    return p


def folder(name):
    return os.path.join(WORK, name)


def rows(path, drop=()):
    with open(path, newline="") as f:
        table = list(csv.reader(f))
    keep = [i for i, h in enumerate(table[0]) if h not in drop]
    return [[r[i] for i in keep] for r in table]


def same_study_tables(a, b):
    """Every table of two study folders, equal but runs.csv's seconds."""
    for name in ("runs.csv", "blocks.csv", "rates.csv"):
        ra = rows(os.path.join(a, name), drop=("seconds",))
        rb = rows(os.path.join(b, name), drop=("seconds",))
        if ra != rb:
            diff = next(i for i in range(max(len(ra), len(rb))) if i >= len(ra) or i >= len(rb) or ra[i] != rb[i])
            fail(f"{name} of {b} differs from {a}'s at line {diff + 1}: "
                 f"{ra[diff] if diff < len(ra) else None} against {rb[diff] if diff < len(rb) else None}")


def tensors(path):
    """The F64 tensors of a safetensors file, as flat lists."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F64":
            fail(f"{path}: {name} is {t['dtype']}, not F64")
        b0, b1 = t["data_offsets"]
        raw = data[8 + n + b0:8 + n + b1]
        out[name] = struct.unpack(f"<{len(raw) // 8}d", raw)
    return out


def relative(a, b):
    num = math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))
    den = math.sqrt(sum(x * x for x in a))
    return num / den if den > 0 else num


def close_models(a, b, what, tolerance=1e-12):
    ta, tb = tensors(a), tensors(b)
    if ta.keys() != tb.keys():
        fail(f"{what}: the tensors differ: {sorted(ta)} against {sorted(tb)}")
    worst = max((relative(ta[k], tb[k]), k) for k in ta)
    if not worst[0] <= tolerance:
        fail(f"{what}: {worst[1]} differs by {worst[0]:.3g} (relative), more than {tolerance:g}")
    return worst[0]


def close_curves(a, b, what, tolerance=1e-12):
    ra, rb = rows(a, drop=("seconds",)), rows(b, drop=("seconds",))
    if ra[0] != rb[0] or len(ra) != len(rb):
        fail(f"{what}: the curves have different columns or lengths")
    for c, name in enumerate(ra[0]):
        xa = [float(r[c]) for r in ra[1:] if r[c] not in ("", "nan")]
        xb = [float(r[c]) for r in rb[1:] if r[c] not in ("", "nan")]
        if len(xa) != len(xb):
            fail(f"{what}: column {name} has values on different rows")
        if xa and relative(xa, xb) > tolerance:
            fail(f"{what}: column {name} differs by {relative(xa, xb):.3g} (relative)")


def case_version():
    out = run(["--version"]).stdout.strip()
    if "(MPI: Open MPI " not in out and "(MPI: " not in out:
        fail(f"--version says '{out}', without the MPI it is built with")
    print(out)


STUDY = ["learnability", "--cells", "rnn_tanh,lstm", "--inits", "pytorch", "--T", "5,12", "--seeds", "3",
         "--hidden", "8", "--steps", "150", "--eval-every", "50", "--eval-size", "40", "--batch", "10", "--quiet"]


def case_study():
    run(STUDY + ["--threads", "1", "--out", folder("serial")])
    for n in (2, 3):
        run(STUDY + ["--out", folder(f"np{n}")], processes=n)
        same_study_tables(folder("serial"), folder(f"np{n}"))
        with open(os.path.join(folder(f"np{n}"), "summary.json")) as f:
            facts = json.load(f)
        if f'"processes": {n}' not in json.dumps(facts):
            fail(f"summary.json of the study on {n} processes does not say so")
    print("the studies on 2 and 3 processes equal the serial study, row for row")
    # More processes than runs: the extra ones get none, and say so.
    few = ["learnability", "--cells", "lstm", "--inits", "pytorch", "--T", "5", "--seeds", "2", "--hidden", "4",
           "--steps", "20", "--eval-size", "10", "--batch", "5"]
    run(few + ["--threads", "1", "--quiet", "--out", folder("few_serial")])
    p = run(few + ["--out", folder("few_np3")], processes=3)
    if "3 processes for 2 runs: 1 will have none" not in p.stderr:
        fail(f"3 processes for 2 runs did not say so:\n{p.stderr}")
    same_study_tables(folder("few_serial"), folder("few_np3"))
    print("3 processes for 2 runs: said, and the serial tables")


TRAIN = ["train", "--task", "adding", "--T", "15", "--cell", "lstm", "--hidden", "12", "--layers", "2", "--batch",
         "13", "--steps", "40", "--eval-every", "10", "--eval-size", "29", "--checkpoint-every", "10", "--dtype",
         "f64", "--quiet"]


def case_train():
    run(TRAIN + ["--threads", "1", "--out", folder("one")])
    for n in (2, 3):
        run(TRAIN + ["--out", folder(f"np{n}")], processes=n)
        d = close_models(os.path.join(folder("one"), "model.safetensors"),
                         os.path.join(folder(f"np{n}"), "model.safetensors"), f"{n} processes against one")
        close_curves(os.path.join(folder("one"), "curve.csv"), os.path.join(folder(f"np{n}"), "curve.csv"),
                     f"the curve on {n} processes against one's")
        print(f"{n} processes: the model after 40 steps within {d:.2g} of one process's")
    run(TRAIN + ["--out", folder("np2_again")], processes=2)
    for name in ("model.safetensors", "gradient_flow.csv"):
        with open(os.path.join(folder("np2"), name), "rb") as a, open(os.path.join(folder("np2_again"), name),
                                                                      "rb") as b:
            if a.read() != b.read():
                fail(f"two runs on 2 processes wrote different {name}")
    if rows(os.path.join(folder("np2"), "curve.csv"), drop=("seconds",)) != rows(
            os.path.join(folder("np2_again"), "curve.csv"), drop=("seconds",)):
        fail("two runs on 2 processes wrote different curves")
    # Stopped at step 20 on 2 processes, resumed to 40 on 3.
    half = list(TRAIN)
    half[half.index("--steps") + 1] = "20"
    run(half + ["--out", folder("resumed")], processes=2)
    run(["train", "--resume", folder("resumed"), "--steps", "40", "--quiet"], processes=3)
    close_models(os.path.join(folder("one"), "model.safetensors"), os.path.join(folder("resumed"), "model.safetensors"),
                 "resumed on 3 processes against one uninterrupted process")
    print("two runs on 2 processes wrote the same bytes; a run resumed on 3 processes went on as one process")


def rank_pids(rank):
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"rnnscope") and f"OMPI_COMM_WORLD_RANK={rank}".encode() in environ:
            if folder("killed").encode() in b" ".join(cmd):
                pids.append(int(pid))
    return pids


def case_fault():
    study = list(STUDY)
    study[study.index("--steps") + 1] = "1500"
    study[study.index("--T") + 1] = "30,60,90"
    study[study.index("--hidden") + 1] = "32"
    command = [MPIEXEC, "--oversubscribe", "-np", "2", RNNSCOPE] + study + ["--out", folder("killed")]
    job = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    runs = os.path.join(folder("killed"), "runs.csv")
    deadline = time.time() + 120
    while time.time() < deadline:  # until a few rows are written
        if os.path.exists(runs) and len(open(runs).readlines()) >= 3:
            break
        if job.poll() is not None:
            fail("the study ended before a process could be killed")
        time.sleep(0.05)
    victims = rank_pids(1)
    if not victims:
        fail("no process of rank 1 found")
    os.kill(victims[0], signal.SIGKILL)
    killed = time.time()
    try:
        output, _ = job.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        job.kill()
        fail("the job did not end within 30 s of a process's death")
    took = time.time() - killed
    if job.returncode == 0:
        fail("the job ended with exit code 0 after a process was killed")
    if "rank 1" not in output:
        fail(f"the job's message does not name the killed process:\n{output}")
    if took > 10:
        fail(f"the job took {took:.1f} s to end after a process's death")
    done = len(open(runs).readlines()) - 1
    print(f"killed rank 1 with {done} runs done; the job ended {took:.1f} s later with exit code {job.returncode}")
    run(["learnability", "--resume", folder("killed"), "--quiet"], processes=2)
    run(study + ["--threads", "1", "--out", folder("serial")])
    same_study_tables(folder("serial"), folder("killed"))
    print("--resume on 2 processes completed it with the serial study's tables")


def case_failure():
    # Rank 1 under a 500 MB address-space limit: its first run's buffers
    # (3000 sequences of 50 steps) do not fit, process 0's do. The run's cost
    # check refuses it before it allocates them, with the estimate.
    study = ["learnability", "--cells", "lstm", "--inits", "pytorch", "--T", "50", "--seeds", "3", "--hidden", "64",
             "--steps", "1", "--eval-size", "3000", "--batch", "3000", "--quiet", "--out", folder("failed")]
    args = " ".join([RNNSCOPE] + study)
    command = [MPIEXEC, "-np", "1", RNNSCOPE] + study + [":", "-np", "1", "sh", "-c", f"ulimit -v 500000; exec {args}"]
    start = time.time()
    p = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=120)
    took = time.time() - start
    if p.returncode != 2:
        fail(f"the job ended with exit code {p.returncode}, not 2:\n{p.stderr}")
    expected = "rnnscope: error: process 1 failed: run "
    if expected not in p.stderr or "of memory at its peak" not in p.stderr or "are available" not in p.stderr:
        fail(f"the job did not say which process failed and why:\n{p.stderr}")
    line = next(l for l in p.stderr.splitlines() if expected in l)
    print(f"{line} ({took:.1f} s)")
    run(["learnability", "--resume", folder("failed"), "--threads", "1", "--quiet"])
    if len(rows(os.path.join(folder("failed"), "runs.csv"))) != 4:
        fail("--resume did not complete the study")
    print("--resume completed the study")


def case_refusals():
    cases = [
        (["train", "--steps", "3", "--batch", "2", "--out", folder("small_batch")], 3, "--batch 2 is smaller than",
         folder("small_batch")),
        (STUDY + ["--threads", "2", "--out", folder("threads")], 2, "--threads", folder("threads")),
        (["lookback", "--T", "10", "--out", folder("lookback")], 2, "does not run over several processes",
         folder("lookback")),
    ]
    for args, n, message, out in cases:
        p = run(args, processes=n, check=False, timeout=60)
        if p.returncode != 2:
            fail(f"{' '.join(args)} on {n} processes exited with {p.returncode}, not 2:\n{p.stderr}")
        if message not in p.stderr:
            fail(f"{' '.join(args)} on {n} processes did not say '{message}':\n{p.stderr}")
        if p.stderr.count("rnnscope: error") != 1:
            fail(f"{' '.join(args)} on {n} processes printed its error {p.stderr.count('rnnscope: error')} times")
        if os.path.exists(out):
            fail(f"{' '.join(args)} on {n} processes created {out}")
    print("refused with exit code 2, one message each, no folder")


CASES = {"version": case_version, "study": case_study, "train": case_train, "fault": case_fault,
         "failure": case_failure, "refusals": case_refusals}
if CASE not in CASES:
    print(f"distributed_runs.py: unknown case '{CASE}' (expected {', '.join(CASES)})")
    sys.exit(2)
CASES[CASE]()
shutil.rmtree(WORK, ignore_errors=True)
