#!/usr/bin/python3
"""Splits a PyTorch reference file (tests/data/reference, docs/formats.md) into
the model file and the input file that `rnnscope grad` and `rnnscope analyze`
read, and the file of PyTorch's results to compare `rnnscope grad` with.

    python3 tools/split_reference.py REFERENCE MODEL INPUT [EXPECTED]

MODEL gets the parameters (weight_*, bias_*) and the reference's
__metadata__; INPUT gets input, h0, c0, grad_output, grad_h_n, grad_c_n;
EXPECTED (optional) gets output, h_n, c_n and every grad.* tensor. Only the
Python standard library is needed.
"""

import json
import struct
import sys

INPUT_NAMES = ("input", "h0", "c0", "grad_output", "grad_h_n", "grad_c_n")
RESULT_NAMES = ("output", "h_n", "c_n")


def read(path):
    raw = open(path, "rb").read()
    if len(raw) < 8:
        sys.exit(f"split_reference.py: {path}: not a safetensors file")
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors = []
    for name, t in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = t["data_offsets"]
        tensors.append((name, t["dtype"], t["shape"], data[begin:end]))
    return metadata, tensors


def write(path, metadata, tensors):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, dtype, shape, blob in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 8)  # the data area starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    metadata, tensors = read(sys.argv[1])
    model = [t for t in tensors if t[0].startswith(("weight_", "bias_"))]
    inputs = [t for t in tensors if t[0] in INPUT_NAMES]
    results = [t for t in tensors if t[0] in RESULT_NAMES or t[0].startswith("grad.")]
    write(sys.argv[2], metadata, model)
    write(sys.argv[3], {"dtype": metadata.get("dtype", "")}, inputs)
    if len(sys.argv) == 5:
        write(sys.argv[4], metadata, results)
    print(f"{sys.argv[2]}: {len(model)} tensors, {sys.argv[3]}: {len(inputs)} tensors"
          + (f", {sys.argv[4]}: {len(results)} tensors" if len(sys.argv) == 5 else ""))


if __name__ == "__main__":
    main()
