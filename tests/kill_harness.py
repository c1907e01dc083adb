#!/usr/bin/env python3
"""Kills long rnnscope commands at random moments and checks what they leave.

For each command (train, learnability, report) the harness first runs it to
the end into a reference folder. Then, at each of --points random moments
between its start and 1.2 times the reference's wall time, it starts the same
command into a fresh folder and sends it SIGKILL (most points) or SIGINT /
SIGTERM (every fourth point, alternating), and checks:

  * the folder: it is missing, empty, or holds the marker (.rnnscope-output.json)
    and nothing but the files the marker lists and write_file_atomic's
    temporaries (NAME.tmpPID); every listed file present is whole (a CSV's rows
    all have the header's number of fields and end with a newline, JSON parses,
    a safetensors file's size is the one its header gives, a PNG ends with
    IEND, an SVG with </svg>, index.html with </html>);
  * a stop by SIGINT or SIGTERM: exit code 130 or 143 (or 0 if the command had
    already finished; or death by the signal itself if it came while the
    options were read, before the handlers), with a line naming what was kept
    and how to continue;
  * no process of the run outlives it by more than 10 s (a job's orphans);
  * the continuation: `--resume DIR` where the folder holds something to resume
    (train: a checkpoint; learnability: study.json), else the same command with
    --force, ends with exit 0, leaves no temporaries, and its results equal the
    reference's (train: model.safetensors to the byte and curve.csv but for its
    seconds column; learnability: runs.csv but for seconds, and blocks.csv;
    report: every CSV).

train_mpi and learnability_mpi run the same under `mpirun -np 2`
(--mpirun PATH, default mpirun, with the environment Open MPI needs as root):
SIGKILL goes to the whole job at once (every process of its session, as a
power cut would), SIGINT to the whole job too (as Ctrl-C in a terminal sends it
to the foreground process group), SIGTERM to mpirun alone; the continuation
runs on two processes as well and must equal the two-process reference.

Prints a table per command and exits 1 if any point failed.
    tests/kill_harness.py build/rnnscope [--points 20]
        [--commands train,learnability,report,train_mpi,learnability_mpi] [--mpirun mpirun]
"""
import argparse
import csv
import io
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

TEMPORARY = re.compile(r"\.tmp\d+$")
MARKER = ".rnnscope-output.json"

COMMANDS = {
    "train": ["train", "--cell", "gru", "--hidden", "8", "--T", "20", "--steps", "300", "--batch", "8",
              "--eval-size", "16", "--eval-every", "10", "--checkpoint-every", "5", "--threads", "1", "--quiet"],
    "learnability": ["learnability", "--cells", "rnn_tanh,lstm", "--inits", "pytorch", "--T", "5,10", "--seeds",
                     "2", "--steps", "40", "--hidden", "4", "--batch", "4", "--eval-size", "8", "--threads", "1",
                     "--quiet"],
    "report": ["report", "--quick", "--threads", "1", "--quiet"],
}
COMMANDS["train_mpi"] = COMMANDS["train"][:-3] + ["--quiet"]  # one thread a process: no --threads
COMMANDS["learnability_mpi"] = COMMANDS["learnability"][:-3] + ["--quiet"]
MPI_ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none", OMPI_MCA_rmaps_base_oversubscribe="1")
MPIRUN = ["mpirun"]


def launch(binary, command):
    """The argument list that starts `command` (its subcommand's name first), on two processes for *_mpi."""
    if command.endswith("_mpi"):
        return MPIRUN + ["--oversubscribe", "-np", "2", binary]
    return [binary]


def environment(command):
    return MPI_ENV if command.endswith("_mpi") else None


def whole_file_problem(path):
    """None if the file at `path` is complete for its kind, else what is wrong."""
    name = os.path.basename(path)
    data = open(path, "rb").read()
    if name.endswith(".csv"):
        if not data.endswith(b"\n"):
            return "a CSV without its final newline"
        rows = list(csv.reader(io.StringIO(data.decode())))
        if any(len(r) != len(rows[0]) for r in rows):
            return "a CSV row with the wrong number of fields"
    elif name.endswith(".json"):
        try:
            json.loads(data)
        except ValueError as e:
            return f"JSON that does not parse ({e})"
    elif name.endswith(".safetensors"):
        if len(data) < 8:
            return "a safetensors file shorter than its header length"
        n = struct.unpack("<Q", data[:8])[0]
        try:
            header = json.loads(data[8:8 + n])
        except ValueError:
            return "a safetensors header that does not parse"
        end = max([t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"] + [0])
        if len(data) != 8 + n + end:
            return f"a safetensors file of {len(data)} bytes, its header says {8 + n + end}"
    elif name.endswith(".png"):
        if not data.endswith(b"IEND\xaeB`\x82"):
            return "a PNG without its IEND chunk"
    elif name.endswith(".svg"):
        if not data.rstrip().endswith(b"</svg>"):
            return "an SVG without </svg>"
    elif name.endswith(".html"):
        if b"</html>" not in data:
            return "HTML without </html>"
    return None


def folder_problems(folder):
    """What is wrong with a killed run's folder (an empty list if nothing)."""
    if not os.path.exists(folder):
        return []
    names = os.listdir(folder)
    if all(TEMPORARY.search(n) for n in names):
        return []  # empty, or killed while writing its marker: --force takes it
    if MARKER not in names:
        return [f"files without the marker: {sorted(names)}"]
    listed = set(json.load(open(os.path.join(folder, MARKER)))["files"])
    problems = []
    for n in names:
        if n == MARKER or TEMPORARY.search(n):
            continue
        if n not in listed:
            problems.append(f"{n} is not listed in the marker")
            continue
        p = whole_file_problem(os.path.join(folder, n))
        if p:
            problems.append(f"{n}: {p}")
    return problems


def without_column(text, column):
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or column not in rows[0]:
        return rows
    i = rows[0].index(column)
    return [r[:i] + r[i + 1:] for r in rows]


def results(command, folder):
    """What must equal the reference's after a continuation."""
    command = command.removesuffix("_mpi")
    read = lambda n: open(os.path.join(folder, n), "rb").read()
    if command == "train":
        return {"model.safetensors": read("model.safetensors"),
                "curve.csv": without_column(read("curve.csv").decode(), "seconds")}
    if command == "learnability":
        return {"runs.csv": without_column(read("runs.csv").decode(), "seconds"), "blocks.csv": read("blocks.csv")}
    return {n: read(n) for n in sorted(os.listdir(folder)) if n.endswith(".csv")}


def continuation(binary, command, folder):
    kind = command.removesuffix("_mpi")
    resumable = (kind == "train" and os.path.exists(os.path.join(folder, "checkpoint.safetensors"))) or (
        kind == "learnability" and os.path.exists(os.path.join(folder, "study.json")))
    if resumable:
        args = launch(binary, command) + [kind, "--resume", folder, "--quiet"]
    else:
        args = launch(binary, command) + COMMANDS[command] + ["--force", "--out", folder]
    r = subprocess.run(args, capture_output=True, text=True, timeout=600, env=environment(command))
    return ("resume" if resumable else "force"), r


def stray_processes(folder):
    """rnnscope processes still running with `folder` on their command line (a job's orphans)."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            except OSError:
                continue
            if cmd and cmd[0].endswith(b"rnnscope") and folder.encode() in cmd:
                found.append(int(pid))
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("--points", type=int, default=20)
    ap.add_argument("--commands", default="train,learnability,report")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mpirun", default="mpirun")
    args = ap.parse_args()
    MPIRUN[0] = args.mpirun
    rng = random.Random(args.seed)
    binary = os.path.abspath(args.binary)
    work = tempfile.mkdtemp(prefix="rnnscope_kill_")
    failures = 0
    try:
        for command in args.commands.split(","):
            ref = os.path.join(work, f"{command}_reference")
            start = time.monotonic()
            r = subprocess.run(launch(binary, command) + COMMANDS[command] + ["--out", ref], capture_output=True,
                               text=True, timeout=600, env=environment(command))
            duration = time.monotonic() - start
            if r.returncode != 0:
                print(f"{command}: the reference run failed ({r.returncode}): {r.stderr}")
                return 1
            reference = results(command, ref)
            counts = {"points": 0, "folders checked": 0, "killed": 0, "stopped": 0, "finished first": 0,
                      "resumed": 0, "forced": 0, "failed": 0}
            for point in range(args.points):
                folder = os.path.join(work, f"{command}_{point}")
                sig = signal.SIGKILL if point % 4 != 3 else (signal.SIGINT if point % 8 == 3 else signal.SIGTERM)
                at = rng.uniform(0, 1.2 * duration)
                mpi = command.endswith("_mpi")
                p = subprocess.Popen(launch(binary, command) + COMMANDS[command] + ["--out", folder],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=environment(command), start_new_session=mpi)
                time.sleep(at)
                if mpi and sig != signal.SIGTERM:
                    try:
                        os.killpg(p.pid, sig)  # the whole job: a power cut, or Ctrl-C in a terminal
                    except ProcessLookupError:
                        pass
                else:
                    p.send_signal(sig)
                out, _ = p.communicate(timeout=600)
                problems = []
                deadline = time.monotonic() + 10
                while stray_processes(folder) and time.monotonic() < deadline:
                    time.sleep(0.1)
                if stray_processes(folder):
                    problems.append(f"processes still running 10 s after the job ended: {stray_processes(folder)}")
                problems += folder_problems(folder)
                counts["points"] += 1
                counts["folders checked"] += 1
                if p.returncode == 0:
                    counts["finished first"] += 1
                elif sig == signal.SIGKILL:
                    counts["killed"] += 1
                else:
                    counts["stopped"] += 1
                    # A stop before the work began (while the options are read) is the signal's default action.
                    expected = {128 + sig, -sig}
                    if command.endswith("_mpi"):
                        # mpirun, interrupted itself, exits with 1 whatever its processes did (docs/distributed.md),
                        # and may drop the lines of the processes it stops.
                        expected.add(1)
                    if p.returncode not in expected:
                        problems.append(f"{sig.name} gave exit {p.returncode}: {out.strip()}")
                    says = ("--force", "was finished") if command == "report" else ("--resume",)
                    if p.returncode == 128 + sig and not command.endswith("_mpi") and not any(s in out for s in says):
                        problems.append(f"{sig.name}: no line saying what was kept: {out.strip()}")
                how, c = continuation(binary, command, folder)
                counts["resumed" if how == "resume" else "forced"] += 1
                if c.returncode != 0:
                    problems.append(f"--{how} failed ({c.returncode}): {c.stderr.strip()}")
                else:
                    left = [n for n in os.listdir(folder) if TEMPORARY.search(n)]
                    if left:
                        problems.append(f"temporaries left after --{how}: {left}")
                    problems += folder_problems(folder)
                    if results(command, folder) != reference:
                        problems.append(f"the results after --{how} differ from the uninterrupted run's")
                if problems:
                    counts["failed"] += 1
                    failures += 1
                    print(f"{command} point {point} ({sig.name} at {at:.2f} s):")
                    for q in problems:
                        print(f"  {q}")
                shutil.rmtree(folder, ignore_errors=True)
            print(f"{command}: reference {duration:.2f} s; " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
