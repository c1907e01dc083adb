#!/usr/bin/python3
"""PyTorch reference data for rnnscope's training tests: optimiser steps and gradient clipping.

Needs PyTorch (Debian 12: apt-get install python3-torch, which provides it to
/usr/bin/python3). It is never needed to build or test rnnscope: the files it
writes are committed under tests/data/reference/training/. docs/formats.md
describes their contents.

  /usr/bin/python3 tools/torch_training_reference.py [--out DIR | DIR]
      Writes one safetensors file per case into DIR (default
      tests/data/reference/training beside this script). A case is an
      nn.RNN (tanh), nn.LSTM or nn.GRU with an nn.Linear readout of the top
      layer's h_t, a loss, a torch.optim optimiser, a gradient clipping and
      a dtype, trained for STEPS full-batch steps from a zero initial state.
      The output is the same bytes on every run with the same BLAS; the
      committed files were written with Debian's reference BLAS.

  /usr/bin/python3 tools/torch_training_reference.py --check DIR
      Reloads every file of DIR and trains again from its init.* tensors,
      input, target and __metadata__ alone: with torch.optim the losses,
      gradient norms and final.* tensors must be the same bits; with the
      update formulas written out (explicit_step) they must agree to 1e-12
      (F64) or 1e-5 (F32) relative. Exits 1 if a file fails.

safetensors files are written by write_safetensors of tools/torch_reference.py,
so that no package beyond torch is needed.
"""

import argparse
import glob
import math
import os
import sys
import zlib

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_reference import read_safetensors, write_safetensors  # noqa: E402

# Sizes: T steps, N sequences (the whole batch of every step), I inputs,
# H hidden units, O readout outputs; STEPS optimiser steps per case.
T, N, I, H, O = 6, 4, 3, 5, 3
STEPS = 5

CELLS = ("rnn_tanh", "lstm", "gru")
LOSSES = ("mse_last", "mse_all", "ce_last", "ce_all")
DTYPES = {"f32": (torch.float32, "F32"), "f64": (torch.float64, "F64")}

# Every hyperparameter of every optimiser; the ones an optimiser does not
# use stay 0 (nesterov False). These are the __metadata__ values.
NO_HYPER = {"lr": 0.0, "momentum": 0.0, "dampening": 0.0, "nesterov": False,
            "weight_decay": 0.0, "beta1": 0.0, "beta2": 0.0, "eps": 0.0, "alpha": 0.0}


def optimizer_config(optimizer, **hyper):
    config = dict(NO_HYPER, optimizer=optimizer)
    config.update(hyper)
    return config


# (name, configuration), in file order. Adam's and RMSprop's unnamed
# hyperparameters are PyTorch's defaults (betas 0.9, 0.999; eps 1e-8; alpha 0.99).
OPTIMIZERS = (
    ("sgd", optimizer_config("sgd", lr=0.1)),
    ("sgd_nesterov_wd", optimizer_config("sgd", lr=0.05, momentum=0.9, nesterov=True,
                                         weight_decay=1e-3)),
    ("sgd_momentum", optimizer_config("sgd", lr=0.05, momentum=0.9)),
    ("adam_wd", optimizer_config("adam", lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8,
                                 weight_decay=1e-3)),
    ("adam", optimizer_config("adam", lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)),
    ("adamw", optimizer_config("adamw", lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8,
                               weight_decay=0.1)),
    ("rmsprop_momentum_wd", optimizer_config("rmsprop", lr=0.01, alpha=0.99, eps=1e-8,
                                             momentum=0.5, weight_decay=1e-3)),
    ("rmsprop", optimizer_config("rmsprop", lr=0.01, alpha=0.99, eps=1e-8)),
)

# (name, clip_norm, clip_value); 0 is off. The gradient norms of the cases
# lie between 0.05 and 1.6: with 0.25, 15 of the 16 norm cases clip at some
# step, and 4 of them also have steps that are not clipped.
CLIPPINGS = (("none", 0.0, 0.0), ("norm", 0.25, 0.0), ("value", 0.0, 0.05))


def make_model(cell, layers, input_size, hidden_size, output_size):
    """The recurrent module (bias, batch_first False) and the readout nn.Linear(H, O)."""
    if cell == "lstm":
        rnn = nn.LSTM(input_size, hidden_size, layers)
    elif cell == "gru":
        rnn = nn.GRU(input_size, hidden_size, layers)
    elif cell == "rnn_tanh":
        rnn = nn.RNN(input_size, hidden_size, layers, nonlinearity="tanh")
    else:
        raise ValueError(f"unsupported cell {cell}")
    return rnn, nn.Linear(hidden_size, output_size)


def model_state(rnn, readout):
    """{name: tensor}: the recurrent module's state_dict names and readout.weight, readout.bias."""
    state = {n: t.detach().clone() for n, t in rnn.state_dict().items()}
    state.update({f"readout.{n}": t.detach().clone() for n, t in readout.state_dict().items()})
    return state


def loss_of(loss_name, y, target):
    """y (T, N, O): the readout of every step; target as the file stores it."""
    if loss_name == "mse_last":
        return nn.MSELoss()(y[-1], target)
    if loss_name == "mse_all":
        return nn.MSELoss()(y, target)
    if loss_name == "ce_last":
        return nn.CrossEntropyLoss()(y[-1], target.long())
    if loss_name == "ce_all":
        return nn.CrossEntropyLoss()(y.reshape(-1, y.shape[-1]), target.reshape(-1).long())
    raise ValueError(f"unsupported loss {loss_name}")


def make_optimizer(params, config):
    """The torch.optim optimiser of a configuration, single-tensor code path (foreach=False)."""
    kind = config["optimizer"]
    if kind == "sgd":
        return torch.optim.SGD(params, lr=config["lr"], momentum=config["momentum"],
                               dampening=config["dampening"], weight_decay=config["weight_decay"],
                               nesterov=config["nesterov"], foreach=False)
    if kind in ("adam", "adamw"):
        optimizer = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
        return optimizer(params, lr=config["lr"], betas=(config["beta1"], config["beta2"]),
                         eps=config["eps"], weight_decay=config["weight_decay"], foreach=False)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=config["lr"], alpha=config["alpha"], eps=config["eps"],
                                   weight_decay=config["weight_decay"], momentum=config["momentum"],
                                   foreach=False)
    raise ValueError(f"unsupported optimizer {kind}")


def total_grad_norm(params):
    """The 2-norm of all gradients together, as clip_grad_norm_ computes and returns it:
    the norm of the stacked per-tensor norms."""
    return torch.norm(torch.stack([torch.norm(p.grad.detach(), 2.0) for p in params]), 2.0)


def build(case, init):
    """The modules of a case with the parameters init ({name: tensor})."""
    rnn, readout = make_model(case["cell"], case["num_layers"], case["input_size"],
                              case["hidden_size"], case["output_size"])
    rnn, readout = rnn.to(case["dtype"]), readout.to(case["dtype"])
    rnn.load_state_dict({n: t for n, t in init.items() if not n.startswith("readout.")}, strict=True)
    readout.load_state_dict({n[len("readout."):]: t for n, t in init.items() if n.startswith("readout.")},
                            strict=True)
    return rnn, readout


def train(case, init, x, target):
    """STEPS full-batch steps with torch.optim; returns (final state, losses, grad_norms)."""
    rnn, readout = build(case, init)
    params = list(rnn.parameters()) + list(readout.parameters())
    optimizer = make_optimizer(params, case["config"])
    losses, norms = [], []
    for _ in range(case["steps"]):
        optimizer.zero_grad()
        out, _ = rnn(x)
        loss = loss_of(case["loss"], readout(out), target)
        loss.backward()
        if case["clip_norm"] > 0:
            norm = torch.nn.utils.clip_grad_norm_(params, case["clip_norm"])
        else:
            norm = total_grad_norm(params)
        if case["clip_value"] > 0:
            torch.nn.utils.clip_grad_value_(params, case["clip_value"])
        optimizer.step()
        losses.append(loss.detach())
        norms.append(norm.detach())
    return model_state(rnn, readout), torch.stack(losses), torch.stack(norms)


def explicit_step(params, state, config, step):
    """One optimiser step as torch.optim 1.13 computes it (single-tensor path), written out.
    params: the parameters with their (clipped) .grad; state: per-parameter dicts; step: 1, 2, ..."""
    kind, lr, wd = config["optimizer"], config["lr"], config["weight_decay"]
    with torch.no_grad():
        for p, s in zip(params, state):
            g = p.grad
            if kind == "sgd":
                d = g + wd * p if wd != 0 else g
                mu = config["momentum"]
                if mu != 0:
                    # The buffer starts as the first step's d: no dampening on that step.
                    s["buf"] = d.clone() if "buf" not in s else mu * s["buf"] + (1 - config["dampening"]) * d
                    d = d + mu * s["buf"] if config["nesterov"] else s["buf"]
                p -= lr * d
            elif kind in ("adam", "adamw"):
                b1, b2 = config["beta1"], config["beta2"]
                if kind == "adam" and wd != 0:
                    g = g + wd * p  # L2 added to the gradient
                if kind == "adamw":
                    p *= 1 - lr * wd  # decoupled decay, before the moments
                s["m"] = b1 * s.get("m", torch.zeros_like(p)) + (1 - b1) * g
                s["v"] = b2 * s.get("v", torch.zeros_like(p)) + (1 - b2) * g * g
                denom = s["v"].sqrt() / math.sqrt(1 - b2 ** step) + config["eps"]
                p -= (lr / (1 - b1 ** step)) * s["m"] / denom
            elif kind == "rmsprop":
                if wd != 0:
                    g = g + wd * p
                a = config["alpha"]
                s["v"] = a * s.get("v", torch.zeros_like(p)) + (1 - a) * g * g
                avg = s["v"].sqrt() + config["eps"]  # eps outside the root; no bias correction
                mu = config["momentum"]
                if mu > 0:
                    s["buf"] = mu * s.get("buf", torch.zeros_like(p)) + g / avg  # starts at zero
                    p -= lr * s["buf"]
                else:
                    p -= lr * g / avg
            else:
                raise ValueError(f"unsupported optimizer {kind}")


def train_explicit(case, init, x, target):
    """train() with the clipping and the optimiser written out instead of torch's."""
    rnn, readout = build(case, init)
    params = list(rnn.parameters()) + list(readout.parameters())
    state = [{} for _ in params]
    losses, norms = [], []
    for step in range(1, case["steps"] + 1):
        for p in params:
            p.grad = None
        out, _ = rnn(x)
        loss = loss_of(case["loss"], readout(out), target)
        loss.backward()
        norm = total_grad_norm(params)
        with torch.no_grad():
            if case["clip_norm"] > 0:
                # Always multiplied, by min(1, C / (norm + 1e-6)).
                coef = torch.clamp(case["clip_norm"] / (norm + 1e-6), max=1.0)
                for p in params:
                    p.grad *= coef
            if case["clip_value"] > 0:
                for p in params:
                    p.grad.clamp_(-case["clip_value"], case["clip_value"])
        explicit_step(params, state, case["config"], step)
        losses.append(loss.detach())
        norms.append(norm.detach())
    return model_state(rnn, readout), torch.stack(losses), torch.stack(norms)


def format_float(value):
    return repr(float(value))


def case_metadata(case):
    metadata = {"cell": case["cell"], "num_layers": str(case["num_layers"]),
                "input_size": str(case["input_size"]), "hidden_size": str(case["hidden_size"]),
                "output_size": str(case["output_size"]), "bias": "true", "loss": case["loss"],
                "steps": str(case["steps"]), "dtype": case["dtype_name"],
                "clip_norm": format_float(case["clip_norm"]),
                "clip_value": format_float(case["clip_value"])}
    for key, value in case["config"].items():
        if key == "optimizer":
            metadata[key] = value
        elif key == "nesterov":
            metadata[key] = "true" if value else "false"
        else:
            metadata[key] = format_float(value)
    return metadata


def case_from_metadata(metadata):
    """The inverse of case_metadata."""
    config = {"optimizer": metadata["optimizer"], "nesterov": metadata["nesterov"] == "true"}
    for key in NO_HYPER:
        if key != "nesterov":
            config[key] = float(metadata[key])
    dtype_key = metadata["dtype"].lower()
    return {"cell": metadata["cell"], "num_layers": int(metadata["num_layers"]),
            "input_size": int(metadata["input_size"]), "hidden_size": int(metadata["hidden_size"]),
            "output_size": int(metadata["output_size"]), "loss": metadata["loss"],
            "steps": int(metadata["steps"]), "dtype": DTYPES[dtype_key][0],
            "dtype_name": DTYPES[dtype_key][1], "config": config,
            "clip_norm": float(metadata["clip_norm"]), "clip_value": float(metadata["clip_value"])}


def training_cases():
    """(file name, case), 48 of them: every optimiser configuration with every clipping
    in both dtypes. The cell, loss and layer count rotate with the running index k so
    that every optimiser (and every configuration, clipping and dtype) meets every cell
    and every loss, and every third case has two layers."""
    cases = []
    k = 0
    for opt_name, config in OPTIMIZERS:
        for clip_name, clip_norm, clip_value in CLIPPINGS:
            for dtype_key, (dtype, dtype_name) in DTYPES.items():
                cell = CELLS[(k + k // 6) % 3]
                case = {"cell": cell, "num_layers": 2 if k % 3 == 2 else 1,
                        "input_size": I, "hidden_size": H, "output_size": O,
                        "loss": LOSSES[(k + k // 4) % 4], "steps": STEPS,
                        "dtype": dtype, "dtype_name": dtype_name, "config": config,
                        "clip_norm": clip_norm, "clip_value": clip_value}
                cases.append((f"{cell}_{opt_name}_{clip_name}_{dtype_key}", case))
                k += 1
    for key in ("optimizer", "clipping", "dtype"):
        groups = {}
        for name, case in cases:
            group = {"optimizer": case["config"]["optimizer"], "dtype": case["dtype_name"],
                     "clipping": (case["clip_norm"], case["clip_value"])}[key]
            groups.setdefault(group, []).append(case)
        for group, members in groups.items():
            assert {c["cell"] for c in members} == set(CELLS), (key, group)
            assert {c["loss"] for c in members} == set(LOSSES), (key, group)
    return cases


def draw_case(name, case):
    """Parameters (PyTorch's default initialisation), input and target, drawn in float32
    from the seed CRC-32(name) and converted to the case's dtype."""
    torch.manual_seed(zlib.crc32(name.encode()))
    rnn, readout = make_model(case["cell"], case["num_layers"], case["input_size"],
                              case["hidden_size"], case["output_size"])
    x = torch.randn(T, N, case["input_size"])
    shape = (N,) if case["loss"].endswith("_last") else (T, N)
    if case["loss"].startswith("mse"):
        target = torch.randn(*shape, case["output_size"])
    else:
        target = torch.randint(0, case["output_size"], shape).to(torch.float32)
    dtype = case["dtype"]
    init = {n: t.to(dtype) for n, t in model_state(rnn, readout).items()}
    return init, x.to(dtype), target.to(dtype)


def case_tensors(init, final, x, target, losses, norms):
    tensors = [(f"init.{n}", t) for n, t in init.items()]
    tensors += [(f"final.{n}", final[n]) for n in init]
    return tensors + [("input", x), ("target", target), ("losses", losses), ("grad_norms", norms)]


def write_training_reference(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    total = 0
    for name, case in training_cases():
        init, x, target = draw_case(name, case)
        final, losses, norms = train(case, init, x, target)
        path = os.path.join(out_dir, f"{name}.safetensors")
        tensors = case_tensors(init, final, x, target, losses, norms)
        write_safetensors(path, tensors, case_metadata(case))
        total += os.path.getsize(path)
        print(f"{path}: {case['loss']}, {case['num_layers']} layer(s), {len(tensors)} tensors")
    print(f"{total} bytes in all")


def relative_difference(a, b):
    a, b = a.to(torch.float64), b.to(torch.float64)
    scale = max(a.norm().item(), b.norm().item(), 1e-300)
    return (a - b).norm().item() / scale


def check_file(path):
    """Retrains the case of a file; returns a list of failures (empty if it agrees)."""
    tensors, metadata = read_safetensors(path)
    case = case_from_metadata(metadata)
    init = {n[len("init."):]: t for n, t in tensors.items() if n.startswith("init.")}
    expected = {n: tensors[n] for n in tensors if not n.startswith("init.")}
    x, target = tensors["input"], tensors["target"]
    failures = []
    if tensors["losses"].dtype != case["dtype"] or len(tensors["losses"]) != case["steps"]:
        failures.append("losses: dtype or length differs from __metadata__")
    final, losses, norms = train(case, init, x, target)
    ours = {f"final.{n}": t for n, t in final.items()}
    ours.update({"input": x, "target": target, "losses": losses, "grad_norms": norms})
    if set(ours) != set(expected):
        failures.append(f"tensor names {sorted(set(ours) ^ set(expected))} differ")
    for n in sorted(set(ours) & set(expected)):
        if not torch.equal(ours[n], expected[n]):
            failures.append(f"{n}: torch.optim gives other bits")
    final, losses, norms = train_explicit(case, init, x, target)
    explicit = {f"final.{n}": t for n, t in final.items()}
    explicit.update({"losses": losses, "grad_norms": norms})
    tolerance = 1e-5 if case["dtype"] == torch.float32 else 1e-12
    worst = max(relative_difference(explicit[n], expected[n]) for n in explicit)
    if worst > tolerance:
        failures.append(f"explicit update formulas: relative difference {worst:.2e}")
    return failures, worst


def check_training_reference(folder):
    paths = sorted(glob.glob(os.path.join(folder, "*.safetensors")))
    if not paths:
        print(f"no .safetensors files in {folder}")
        return 1
    failed = 0
    for path in paths:
        failures, worst = check_file(path)
        verdict = "agrees" if not failures else "FAILS"
        print(f"{path}: {verdict} (explicit formulas within {worst:.1e})")
        for failure in failures:
            print(f"  {failure}")
        failed += bool(failures)
    print(f"{len(paths) - failed} of {len(paths)} files agree")
    return 0 if failed == 0 else 1


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", help="folder of the reference files (as --out)")
    parser.add_argument("--out", default=os.path.join(here, "..", "tests", "data", "reference", "training"),
                        help="folder of the reference files")
    parser.add_argument("--check", metavar="DIR",
                        help="retrain every file of DIR and compare with its final.* tensors")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.check:
        if args.folder:
            parser.error("--check takes the folder itself")
        sys.exit(check_training_reference(args.check))
    write_training_reference(os.path.normpath(args.folder or args.out))


if __name__ == "__main__":
    main()
