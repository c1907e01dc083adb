"""What the Python module's tests share: safetensors files as the rnnscope command reads and writes
them (docs/formats.md), and the command itself (its path in RNNSCOPE_CLI, set by CTest)."""
import csv
import json
import os
import struct
import subprocess

import numpy as np
import pytest

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64}


def write_safetensors(path, tensors, metadata=None):
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        code = {np.dtype(v): k for k, v in DTYPES.items()}[a.dtype]
        data = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": code, "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    """The tensors of a file, in the file's order, as a list of (name, array)."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data = raw[8 + n:]
    items = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    return [(name, np.frombuffer(data[h["data_offsets"][0]:h["data_offsets"][1]],
                                 dtype=np.dtype(DTYPES[h["dtype"]]).newbyteorder("<")).reshape(h["shape"]))
            for name, h in items]


def read_csv(path):
    """A CSV table as {column: list of strings}."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return {name: [r[i] for r in rows[1:]] for i, name in enumerate(rows[0])}


@pytest.fixture(scope="session")
def cli():
    """Runs the rnnscope command with the given arguments; fails the test on a non-zero exit."""
    path = os.environ.get("RNNSCOPE_CLI")
    if not path:
        pytest.fail("RNNSCOPE_CLI is not set: run the tests through CTest, or set it to the built rnnscope command")

    def run(*args):
        r = subprocess.run([path, *map(str, args)], capture_output=True, text=True)
        assert r.returncode == 0, f"rnnscope {' '.join(map(str, args))} failed:\n{r.stderr}"
        return r.stdout

    return run


def random_state_dict(rng, cell, input_size, hidden, layers=1, bias=True, dtype=np.float64, scale=0.5):
    """A PyTorch-named state_dict with entries uniform in (-scale, scale)."""
    gates = {"lstm": 4, "gru": 3}.get(cell, 1)
    d = {}
    for l in range(layers):
        i = input_size if l == 0 else hidden
        d[f"weight_ih_l{l}"] = rng.uniform(-scale, scale, (gates * hidden, i))
        d[f"weight_hh_l{l}"] = rng.uniform(-scale, scale, (gates * hidden, hidden))
        if bias:
            d[f"bias_ih_l{l}"] = rng.uniform(-scale, scale, gates * hidden)
            d[f"bias_hh_l{l}"] = rng.uniform(-scale, scale, gates * hidden)
        if cell == "rnn_skip":
            d[f"weight_skip_l{l}"] = rng.uniform(-scale, scale, (hidden, hidden))
    return {k: v.astype(dtype) for k, v in d.items()}
