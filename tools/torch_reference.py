#!/usr/bin/python3
"""PyTorch reference data for rnnscope's parity tests, and random PyTorch models.

Needs PyTorch (Debian 12: apt-get install python3-torch, which provides it to
/usr/bin/python3). It is never needed to build or test rnnscope: the files it
writes are committed under tests/data/reference/. docs/formats.md describes
their contents.

  /usr/bin/python3 tools/torch_reference.py [--out DIR]
      Writes one safetensors file per case and dtype (F32, F64) into DIR
      (default tests/data/reference beside this script). The output is the
      same bytes on every run with the same BLAS; another BLAS behind
      PyTorch (OpenBLAS instead of the reference BLAS) changes the results
      in the last bits (2e-16 relative in F64, 7e-8 in F32), far inside
      the parity tolerances. The committed files were written with
      Debian's reference BLAS.

  /usr/bin/python3 tools/torch_reference.py --export-model OUT_MODEL OUT_INPUT
      --cell CELL [--layers 1] [--hidden-size 6] [--input-size 4] [--steps 5]
      [--batch 3] [--dtype f32|f64] [--seed 0] [--no-bias] [--dt 0.1]
      Writes a random model (PyTorch's default initialisation; state_dict +
      __metadata__) to OUT_MODEL and an input file (input, h0 and for the LSTM
      c0, and standard normal cotangents grad_output, grad_h_n, grad_c_n) to
      OUT_INPUT. CELL is rnn_tanh, rnn_relu, rnn_sigmoid, lstm, gru, ctrnn,
      rnn_residual, rnn_skip or rnn_antisymmetric; --dt is used by ctrnn
      only, --skip by rnn_skip, --eps and --gamma by rnn_antisymmetric.

      With --state-dict FILE.pt the model is not random but the state_dict
      saved by torch.save(module.state_dict(), FILE.pt) of a trained
      nn.RNN/nn.LSTM/nn.GRU; sizes, layers and bias are read from it. A whole
      model's state_dict (keys such as lstm.weight_ih_l0) works too: the
      recurrent module's prefix is found from the keys (--prefix lstm. names
      it), and the keys taken are printed. --input-tensor X.pt exports the
      (T, B, I) tensor saved in X.pt as the input instead of a random one.

  /usr/bin/python3 tools/torch_reference.py --check MODEL INPUT GRADS
      Loads MODEL into the nn module with load_state_dict (strict), runs it on
      INPUT with autograd for the cotangents in INPUT (missing ones are zero)
      and compares every tensor of GRADS, written by `rnnscope grad`, with
      PyTorch's. Prints the relative differences; exits 1 if one is above
      1e-5 (F32) or 1e-10 (F64).

safetensors files are written by hand (8-byte little-endian header length,
JSON header, raw little-endian data) so that no package beyond torch is needed.
"""

import argparse
import json
import os
import struct
import sys
import zlib

import torch
from torch import nn

# Sizes of the recurrent cases: T steps, B batch, I inputs, H hidden units.
T, B, I, H = 5, 3, 4, 6
# Sizes of the convolution cases: channels in and out, length, batch, kernel.
C_IN, C_OUT, LENGTH, CONV_BATCH, KERNEL = 4, 5, 11, 3, 3

RECURRENT_CELLS = ("rnn_tanh", "rnn_relu", "rnn_sigmoid", "lstm", "gru", "ctrnn", "rnn_residual", "rnn_skip",
                   "rnn_antisymmetric")
DTYPES = {"f32": (torch.float32, "F32"), "f64": (torch.float64, "F64")}


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, tensor) in file order; metadata: dict of str -> str."""
    header = {}
    if metadata:
        # Sorted keys: the layout rnnscope's writer produces, byte for byte.
        header["__metadata__"] = {str(k): str(v) for k, v in sorted(metadata.items())}
    chunks = []
    offset = 0
    for name, t in tensors:
        t = t.detach().contiguous().cpu()
        if t.dtype == torch.float32:
            dtype, code = "F32", "f"
        elif t.dtype == torch.float64:
            dtype, code = "F64", "d"
        else:
            raise ValueError(f"{name}: unsupported dtype {t.dtype}")
        values = t.reshape(-1).tolist()
        data = struct.pack(f"<{len(values)}{code}", *values)
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in chunks:
            f.write(data)
    os.replace(tmp, path)


def read_safetensors(path):
    """Returns ({name: tensor}, metadata) of a safetensors file (F32 and F64 only)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    metadata = header.pop("__metadata__", {})
    data = blob[8 + n:]
    tensors = {}
    for name, entry in header.items():
        code, dtype = {"F32": ("f", torch.float32), "F64": ("d", torch.float64)}[entry["dtype"]]
        begin, end = entry["data_offsets"]
        count = (end - begin) // struct.calcsize(code)
        values = struct.unpack(f"<{count}{code}", data[begin:end])
        tensors[name] = torch.tensor(values, dtype=dtype).reshape(entry["shape"])
    return tensors, metadata


def make_module(cell, layers, bias, input_size, hidden_size):
    """The nn module whose parameters (names and shapes) the cell uses; the skip
    cell's nn.RNN gains weight_skip_l<k> (H, H), drawn as PyTorch draws the
    others, U(-1/sqrt(H), 1/sqrt(H))."""
    if cell == "lstm":
        return nn.LSTM(input_size, hidden_size, layers, bias=bias)
    if cell == "gru":
        return nn.GRU(input_size, hidden_size, layers, bias=bias)
    nonlinearity = "relu" if cell == "rnn_relu" else "tanh"
    module = nn.RNN(input_size, hidden_size, layers, nonlinearity=nonlinearity, bias=bias)
    if cell == "rnn_skip":
        k = hidden_size ** -0.5
        for layer in range(layers):
            module.register_parameter(f"weight_skip_l{layer}",
                                      nn.Parameter(torch.empty(hidden_size, hidden_size).uniform_(-k, k)))
    return module


def explicit_elman(params, x, h0, layers, bias, f):
    """h_t = f(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), layer by layer, as plain ops."""
    hs_n = []
    inp = x
    for layer in range(layers):
        w_ih, w_hh = params[f"weight_ih_l{layer}"], params[f"weight_hh_l{layer}"]
        h = h0[layer]
        outs = []
        for t in range(inp.shape[0]):
            a = inp[t] @ w_ih.T + h @ w_hh.T
            if bias:
                a = a + params[f"bias_ih_l{layer}"] + params[f"bias_hh_l{layer}"]
            h = f(a)
            outs.append(h)
        inp = torch.stack(outs)
        hs_n.append(h)
    return inp, torch.stack(hs_n)


def explicit_euler(params, u, x0, layers, bias, step, leak, recurrent):
    """x_t = x_{t-1} + step (tanh(M x_{t-1} + b_hh + W_ih u_t + b_ih) - leak x_{t-1}), M = recurrent(W_hh),
    layer by layer: the residual cell (step 1, leak 0, M = W_hh) and the antisymmetric one
    (step eps, leak 0, M = W_hh - W_hh^T - gamma I)."""
    xs_n = []
    inp = u
    for layer in range(layers):
        w_ih, m = params[f"weight_ih_l{layer}"], recurrent(params[f"weight_hh_l{layer}"])
        x = x0[layer]
        outs = []
        for t in range(inp.shape[0]):
            a = x @ m.T + inp[t] @ w_ih.T
            if bias:
                a = a + params[f"bias_hh_l{layer}"] + params[f"bias_ih_l{layer}"]
            x = x + step * (torch.tanh(a) - leak * x)
            outs.append(x)
        inp = torch.stack(outs)
        xs_n.append(x)
    return inp, torch.stack(xs_n)


def explicit_ctrnn(params, u, x0, layers, bias, dt):
    """x_t = x_{t-1} + dt (tanh(W_hh x_{t-1} + b_hh + W_ih u_t + b_ih) - x_{t-1}), layer by layer."""
    return explicit_euler(params, u, x0, layers, bias, dt, 1.0, lambda w: w)


def explicit_skip(params, x, h0, layers, bias, skip):
    """h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + W_skip h_{t-K} + b_hh), layer by layer, with
    h_{-1} = h0 and h_{-2} .. h_{-K} zero."""
    hs_n = []
    inp = x
    for layer in range(layers):
        w_ih, w_hh, w_skip = (params[f"weight_ih_l{layer}"], params[f"weight_hh_l{layer}"],
                              params[f"weight_skip_l{layer}"])
        past = [torch.zeros_like(h0[layer])] * (skip - 1) + [h0[layer]]  # h_{-K} .. h_{-1}
        for t in range(inp.shape[0]):
            a = inp[t] @ w_ih.T + past[-1] @ w_hh.T + past[-skip] @ w_skip.T
            if bias:
                a = a + params[f"bias_ih_l{layer}"] + params[f"bias_hh_l{layer}"]
            past.append(torch.tanh(a))
        inp = torch.stack(past[skip:])
        hs_n.append(past[-1])
    return inp, torch.stack(hs_n)


def antisymmetric(gamma):
    return lambda w: w - w.T - gamma * torch.eye(w.shape[0], dtype=w.dtype)


def run_recurrent(cell, module, params, x, h0, c0, layers, bias, dt, shape=None):
    """Returns (output, h_n, c_n or None) of the cell on x with initial state h0 (c0)."""
    if cell == "lstm":
        out, (h_n, c_n) = module(x, (h0, c0))
        return out, h_n, c_n
    if cell in ("rnn_tanh", "rnn_relu", "gru"):
        out, h_n = module(x, h0)
        return out, h_n, None
    if cell == "rnn_sigmoid":
        out, h_n = explicit_elman(params, x, h0, layers, bias, torch.sigmoid)
        return out, h_n, None
    if cell == "rnn_residual":
        out, h_n = explicit_euler(params, x, h0, layers, bias, 1.0, 0.0, lambda w: w)
        return out, h_n, None
    if cell == "rnn_antisymmetric":
        out, h_n = explicit_euler(params, x, h0, layers, bias, shape["eps"], 0.0, antisymmetric(shape["gamma"]))
        return out, h_n, None
    if cell == "rnn_skip":
        out, h_n = explicit_skip(params, x, h0, layers, bias, shape["skip"])
        return out, h_n, None
    out, h_n = explicit_ctrnn(params, x, h0, layers, bias, dt)
    return out, h_n, None


def self_check():
    """The explicit paths reproduce nn.RNN where they must (tanh Elman; CT-RNN with dt = 1)."""
    torch.manual_seed(0)
    module = nn.RNN(I, H, 2).double()
    params = dict(module.named_parameters())
    x = torch.randn(T, B, I, dtype=torch.float64)
    h0 = torch.randn(2, B, H, dtype=torch.float64)
    out, h_n = module(x, h0)
    # The skip cell with K = 1 is the Elman cell with W_hh + W_skip (here W_skip = 0).
    with_skip = dict(params, **{f"weight_skip_l{k}": torch.zeros(H, H, dtype=torch.float64) for k in range(2)})
    for explicit in (explicit_elman(params, x, h0, 2, True, torch.tanh),
                     explicit_ctrnn(params, x, h0, 2, True, 1.0),
                     explicit_euler(params, x, h0, 2, True, 1.0, 1.0, lambda w: w),
                     explicit_skip(with_skip, x, h0, 2, True, 1)):
        assert torch.allclose(explicit[0], out, rtol=0, atol=1e-14)
        assert torch.allclose(explicit[1], h_n, rtol=0, atol=1e-14)


def min_abs_relu_preactivation(params, x, h0, layers, bias):
    """Smallest |a_t| of a relu Elman stack: parity at a kink would be meaningless."""
    smallest = float("inf")
    inp = x
    for layer in range(layers):
        h = h0[layer]
        outs = []
        for t in range(inp.shape[0]):
            a = inp[t] @ params[f"weight_ih_l{layer}"].T + h @ params[f"weight_hh_l{layer}"].T
            if bias:
                a = a + params[f"bias_ih_l{layer}"] + params[f"bias_hh_l{layer}"]
            smallest = min(smallest, a.abs().min().item())
            h = torch.relu(a)
            outs.append(h)
        inp = torch.stack(outs)
    return smallest


def format_dt(dt):
    return repr(float(dt))


def recurrent_metadata(cell, layers, bias, dtype_name, dt, input_size, hidden_size, shape=None):
    metadata = {"cell": cell, "num_layers": str(layers), "hidden_size": str(hidden_size),
                "input_size": str(input_size), "bias": "true" if bias else "false",
                "dtype": dtype_name}
    if cell == "ctrnn":
        metadata["dt"] = format_dt(dt)
    if cell == "rnn_skip":
        metadata["skip"] = str(shape["skip"])
    if cell == "rnn_antisymmetric":
        metadata["eps"] = format_dt(shape["eps"])
        metadata["gamma"] = format_dt(shape["gamma"])
    return metadata


def draw_recurrent(cell, layers, bias, seed, steps, batch, input_size, hidden_size):
    """Module, input and initial state drawn in float32 so that the F32 and F64
    files of a case hold exactly the same parameters and inputs."""
    torch.manual_seed(seed)
    module = make_module(cell, layers, bias, input_size, hidden_size)
    x = torch.randn(steps, batch, input_size)
    h0 = 0.5 * torch.randn(layers, batch, hidden_size)
    c0 = 0.5 * torch.randn(layers, batch, hidden_size) if cell == "lstm" else None
    return module, x, h0, c0


def recurrent_case(cell, layers, bias, dtype_key, dt=None, shape=None):
    dtype, dtype_name = DTYPES[dtype_key]
    name = f"{cell}_l{layers}"
    if not bias:
        name += "_nobias"
    if cell == "ctrnn":
        name += f"_dt{format_dt(dt)}"
    if cell == "rnn_skip":
        name += f"_k{shape['skip']}"
    if cell == "rnn_antisymmetric":
        name += f"_eps{format_dt(shape['eps'])}_gamma{format_dt(shape['gamma'])}"
    seed = zlib.crc32(name.encode())
    module, x, h0, c0 = draw_recurrent(cell, layers, bias, seed, T, B, I, H)
    module = module.to(dtype)
    names = [n for n, _ in module.named_parameters()]
    params = dict(module.named_parameters())
    x = x.to(dtype).requires_grad_()
    h0 = h0.to(dtype).requires_grad_()
    if c0 is not None:
        c0 = c0.to(dtype).requires_grad_()
    grad_output = torch.randn(T, B, H).to(dtype)
    grad_h_n = torch.randn(layers, B, H).to(dtype)
    grad_c_n = torch.randn(layers, B, H).to(dtype) if cell == "lstm" else None
    if cell == "rnn_relu":
        margin = min_abs_relu_preactivation(params, x, h0, layers, bias)
        assert margin > 1e-3, f"{name}: a relu pre-activation is {margin}, too close to the kink"

    out, h_n, c_n = run_recurrent(cell, module, params, x, h0, c0, layers, bias, dt, shape)
    loss = (out * grad_output).sum() + (h_n * grad_h_n).sum()
    wrt = [params[n] for n in names] + [x, h0]
    if cell == "lstm":
        loss = loss + (c_n * grad_c_n).sum()
        wrt.append(c0)
    grads = torch.autograd.grad(loss, wrt)

    tensors = [(n, params[n]) for n in names] + [("input", x), ("h0", h0)]
    if cell == "lstm":
        tensors.append(("c0", c0))
    tensors += [("grad_output", grad_output), ("grad_h_n", grad_h_n)]
    if cell == "lstm":
        tensors.append(("grad_c_n", grad_c_n))
    tensors += [("output", out), ("h_n", h_n)]
    if cell == "lstm":
        tensors.append(("c_n", c_n))
    grad_names = [f"grad.{n}" for n in names] + ["grad.input", "grad.h0"]
    if cell == "lstm":
        grad_names.append("grad.c0")
    tensors += list(zip(grad_names, grads))
    return f"{name}_{dtype_key}", tensors, recurrent_metadata(cell, layers, bias, dtype_name, dt, I, H, shape)


def conv1d_case(stride, padding, dilation, dtype_key):
    dtype, dtype_name = DTYPES[dtype_key]
    name = f"conv1d_s{stride}_p{padding}_d{dilation}_k{KERNEL}"
    torch.manual_seed(zlib.crc32(name.encode()))
    module = nn.Conv1d(C_IN, C_OUT, KERNEL, stride=stride, padding=padding, dilation=dilation)
    x = torch.randn(CONV_BATCH, C_IN, LENGTH)
    module = module.to(dtype)
    x = x.to(dtype).requires_grad_()
    out = module(x)
    grad_output = torch.randn(out.shape).to(dtype)
    names = [n for n, _ in module.named_parameters()]
    params = dict(module.named_parameters())
    grads = torch.autograd.grad((out * grad_output).sum(), [params[n] for n in names] + [x])
    tensors = [(n, params[n]) for n in names] + [("input", x), ("grad_output", grad_output),
                                                  ("output", out)]
    tensors += list(zip([f"grad.{n}" for n in names] + ["grad.input"], grads))
    metadata = {"cell": "conv1d", "num_layers": "1", "hidden_size": str(C_OUT),
                "input_size": str(C_IN), "bias": "true", "dtype": dtype_name,
                "stride": str(stride), "padding": str(padding), "dilation": str(dilation),
                "kernel_size": str(KERNEL)}
    return f"{name}_{dtype_key}", tensors, metadata


def reference_cases(dtype_key):
    yield recurrent_case("rnn_tanh", 1, True, dtype_key)
    yield recurrent_case("rnn_tanh", 2, True, dtype_key)
    yield recurrent_case("rnn_tanh", 1, False, dtype_key)
    yield recurrent_case("rnn_relu", 1, True, dtype_key)
    yield recurrent_case("rnn_sigmoid", 1, True, dtype_key)
    yield recurrent_case("lstm", 1, True, dtype_key)
    yield recurrent_case("lstm", 2, True, dtype_key)
    yield recurrent_case("lstm", 1, False, dtype_key)
    yield recurrent_case("gru", 1, True, dtype_key)
    yield recurrent_case("gru", 2, True, dtype_key)
    yield recurrent_case("gru", 1, False, dtype_key)
    yield recurrent_case("ctrnn", 1, True, dtype_key, dt=0.1)
    yield recurrent_case("ctrnn", 1, True, dtype_key, dt=0.5)
    # Every cell with two layers and without bias, and both at once.
    for cell in ("rnn_relu", "rnn_sigmoid"):
        yield recurrent_case(cell, 2, True, dtype_key)
        yield recurrent_case(cell, 1, False, dtype_key)
    yield recurrent_case("ctrnn", 2, True, dtype_key, dt=0.1)
    yield recurrent_case("ctrnn", 1, False, dtype_key, dt=1.0)
    for cell in ("rnn_tanh", "lstm", "gru"):
        yield recurrent_case(cell, 2, False, dtype_key)
    # The remedies: residual, skip (K = 1, 2, K > T = 5, two layers) and antisymmetric.
    yield recurrent_case("rnn_residual", 1, True, dtype_key)
    yield recurrent_case("rnn_residual", 2, False, dtype_key)
    for layers, bias, skip in ((1, True, 1), (1, True, 2), (1, False, 7), (2, True, 3)):
        yield recurrent_case("rnn_skip", layers, bias, dtype_key, shape={"skip": skip})
    yield recurrent_case("rnn_antisymmetric", 1, True, dtype_key, shape={"eps": 0.5, "gamma": 0.2})
    yield recurrent_case("rnn_antisymmetric", 2, False, dtype_key, shape={"eps": 0.1, "gamma": 0.01})
    yield conv1d_case(2, 1, 1, dtype_key)
    yield conv1d_case(1, 2, 2, dtype_key)


def write_reference(out_dir):
    self_check()
    os.makedirs(out_dir, exist_ok=True)
    total = 0
    for dtype_key in DTYPES:
        for name, tensors, metadata in reference_cases(dtype_key):
            path = os.path.join(out_dir, f"{name}.safetensors")
            write_safetensors(path, tensors, metadata)
            total += os.path.getsize(path)
            print(f"{path}: {len(tensors)} tensors")
    print(f"{total} bytes in all")


def random_cotangents(cell, steps, batch, layers, hidden_size, dtype):
    """grad_output (T, B, H) and grad_h_n (L, B, H) (and grad_c_n), standard normal:
    the cotangents `rnnscope grad` and --check contract the outputs with."""
    out = [("grad_output", torch.randn(steps, batch, hidden_size).to(dtype)),
           ("grad_h_n", torch.randn(layers, batch, hidden_size).to(dtype))]
    if cell == "lstm":
        out.append(("grad_c_n", torch.randn(layers, batch, hidden_size).to(dtype)))
    return out


def export_model(args):
    if args.cell not in RECURRENT_CELLS:
        sys.exit(f"--cell must be one of {', '.join(RECURRENT_CELLS)}")
    if min(args.layers, args.hidden_size, args.input_size, args.steps, args.batch) < 1:
        sys.exit("--layers, --hidden-size, --input-size, --steps and --batch must be positive")
    if args.cell == "ctrnn" and not args.dt > 0:
        sys.exit("--dt must be positive")
    dtype, dtype_name = DTYPES[args.dtype]
    bias = not args.no_bias
    module, x, h0, c0 = draw_recurrent(args.cell, args.layers, bias, args.seed, args.steps, args.batch,
                                       args.input_size, args.hidden_size)
    module = module.to(dtype)
    model = [(n, t) for n, t in module.state_dict().items()]
    write_safetensors(args.export_model[0], model,
                      recurrent_metadata(args.cell, args.layers, bias, dtype_name, args.dt,
                                         args.input_size, args.hidden_size))
    inputs = [("input", x.to(dtype)), ("h0", h0.to(dtype))]
    if c0 is not None:
        inputs.append(("c0", c0.to(dtype)))
    inputs += random_cotangents(args.cell, args.steps, args.batch, args.layers, args.hidden_size, dtype)
    write_safetensors(args.export_model[1], inputs, {"cell": args.cell, "dtype": dtype_name})


def recurrent_part(state, prefix):
    """The recurrent module's entries of a state_dict, without their prefix.

    A whole model's state_dict names them "lstm.weight_ih_l0", ...: the
    prefix is `prefix` when given, else found from the keys ending in
    "weight_hh_l0" (refused when there are none, or several)."""
    keys = list(state)
    if prefix is None:
        found = sorted({k[:-len("weight_hh_l0")] for k in keys if k.endswith("weight_hh_l0")})
        if not found:
            sys.exit(f"--state-dict holds no recurrent weights (no key ends in weight_hh_l0); its keys: "
                     f"{', '.join(keys) or 'none'}")
        if len(found) > 1:
            sys.exit(f"--state-dict holds several recurrent modules ({', '.join(repr(f) for f in found)}); "
                     f"name one with --prefix")
        prefix = found[0]
    part = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if "weight_hh_l0" not in part:
        sys.exit(f"--prefix {prefix!r}: no key {prefix}weight_hh_l0 in --state-dict; its keys: {', '.join(keys)}")
    print(f"--state-dict: the recurrent module under prefix {prefix!r}: {', '.join(sorted(part))}")
    return part


def sizes_from_state_dict(state):
    """(layers, bias, input_size, hidden_size) of an nn.RNN/LSTM/GRU state_dict."""
    layers = 1 + max(int(k.rsplit("_l", 1)[1]) for k in state if k.startswith("weight_hh_l"))
    hidden_size = state["weight_hh_l0"].shape[1]
    return layers, "bias_ih_l0" in state, state["weight_ih_l0"].shape[1], hidden_size


def export_state_dict(args):
    """--export-model with --state-dict: a trained model and a random input."""
    dtype, dtype_name = DTYPES[args.dtype]
    state = recurrent_part(torch.load(args.state_dict, map_location="cpu"), args.prefix)
    layers, bias, input_size, hidden_size = sizes_from_state_dict(state)
    module = make_module(args.cell, layers, bias, input_size, hidden_size)
    module.load_state_dict(state)  # checks names and shapes against the cell
    torch.manual_seed(args.seed)
    if args.input_tensor:
        x = torch.load(args.input_tensor, map_location="cpu")
        if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[2] != input_size:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            sys.exit(f"--input-tensor must hold one (T, B, {input_size}) tensor for this model, got {shape}")
        x = x.detach().to(torch.float64)
        args.steps, args.batch = x.shape[0], x.shape[1]
    else:
        x = torch.randn(args.steps, args.batch, input_size)
    h0 = torch.zeros(layers, args.batch, hidden_size)
    write_safetensors(args.export_model[0], list(module.to(dtype).state_dict().items()),
                      recurrent_metadata(args.cell, layers, bias, dtype_name, args.dt, input_size, hidden_size))
    inputs = [("input", x.to(dtype)), ("h0", h0.to(dtype))]
    if args.cell == "lstm":
        inputs.append(("c0", h0.to(dtype)))
    inputs += random_cotangents(args.cell, args.steps, args.batch, layers, hidden_size, dtype)
    write_safetensors(args.export_model[1], inputs, {"cell": args.cell, "dtype": dtype_name})


def check_grads(model_path, input_path, grads_path):
    """Compares `rnnscope grad` output with autograd; returns the process exit code."""
    state, meta = read_safetensors(model_path)
    inputs, _ = read_safetensors(input_path)
    theirs, _ = read_safetensors(grads_path)
    cell, dtype = meta["cell"], next(iter(state.values())).dtype
    layers, bias, input_size, hidden_size = sizes_from_state_dict(state)
    dt = float(meta.get("dt", "0.1"))
    module = make_module(cell, layers, bias, input_size, hidden_size).to(dtype)
    module.load_state_dict(state, strict=True)
    params = dict(module.named_parameters())
    x = inputs["input"].clone().requires_grad_()
    batch = x.shape[1]
    zeros = torch.zeros(layers, batch, hidden_size, dtype=dtype)
    h0 = inputs.get("h0", zeros).clone().requires_grad_()
    c0 = inputs.get("c0", zeros).clone().requires_grad_() if cell == "lstm" else None
    out, h_n, c_n = run_recurrent(cell, module, params, x, h0, c0, layers, bias, dt)
    total = (out * inputs.get("grad_output", torch.zeros_like(out))).sum()
    total = total + (h_n * inputs.get("grad_h_n", torch.zeros_like(h_n))).sum()
    if c_n is not None:
        total = total + (c_n * inputs.get("grad_c_n", torch.zeros_like(c_n))).sum()
    names = [n for n, _ in module.named_parameters()]
    wrt = [params[n] for n in names] + [x, h0] + ([c0] if c0 is not None else [])
    grads = torch.autograd.grad(total, wrt, allow_unused=True)
    ours = {"output": out, "h_n": h_n}
    if c_n is not None:
        ours["c_n"] = c_n
    grad_names = [f"grad.{n}" for n in names] + ["grad.input", "grad.h0", "grad.c0"]
    for i, (name, g) in enumerate(zip(grad_names, grads)):
        ours[name] = g if g is not None else torch.zeros_like(wrt[i])
    tolerance = 1e-5 if dtype == torch.float32 else 1e-10
    worst = 0.0
    print(f"{cell}, {layers} layer(s), {'F32' if dtype == torch.float32 else 'F64'}: "
          f"rnnscope against PyTorch {torch.__version__} autograd")
    for name, expected in ours.items():
        if name not in theirs:
            print(f"  {name:24} missing from {grads_path}")
            return 1
        got = theirs[name].to(torch.float64)
        expected = expected.detach().to(torch.float64)
        if got.shape != expected.shape:
            print(f"  {name:24} shape {tuple(got.shape)} in {grads_path}, PyTorch's is {tuple(expected.shape)}")
            return 1
        scale = max(expected.norm().item(), got.norm().item(), 1e-300)
        rel = (got - expected).norm().item() / scale
        worst = max(worst, rel)
        print(f"  {name:24} {tuple(expected.shape)!s:16} relative difference {rel:.2e}")
    verdict = "agree" if worst <= tolerance else "DIFFER"
    print(f"worst {worst:.2e}: {verdict} (tolerance {tolerance:.0e})")
    return 0 if worst <= tolerance else 1


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(here, "..", "tests", "data", "reference"),
                        help="folder of the reference files")
    parser.add_argument("--export-model", nargs=2, metavar=("OUT_MODEL", "OUT_INPUT"),
                        help="write a random model and an input file instead")
    parser.add_argument("--state-dict", help="with --export-model: a saved state_dict (.pt) to export")
    parser.add_argument("--prefix", help="with --state-dict: the recurrent module's key prefix in a whole model's "
                        "state_dict (e.g. 'lstm.'; found from the keys when not given)")
    parser.add_argument("--input-tensor", help="with --state-dict: the input, a (T, B, I) tensor saved with "
                        "torch.save, instead of a random one")
    parser.add_argument("--check", nargs=3, metavar=("MODEL", "INPUT", "GRADS"),
                        help="compare the output of `rnnscope grad` with PyTorch's autograd")
    parser.add_argument("--cell", default="lstm", help=", ".join(RECURRENT_CELLS))
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--hidden-size", "--hidden", type=int, default=H)
    parser.add_argument("--input-size", "--input", type=int, default=I)
    parser.add_argument("--steps", type=int, default=T)
    parser.add_argument("--batch", type=int, default=B)
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="f32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-bias", action="store_true")
    parser.add_argument("--dt", type=float, default=0.1, help="CT-RNN Euler step")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.check:
        sys.exit(check_grads(*args.check))
    if args.export_model and args.state_dict:
        export_state_dict(args)
    elif args.export_model:
        export_model(args)
    else:
        write_reference(os.path.normpath(args.out))


if __name__ == "__main__":
    main()
