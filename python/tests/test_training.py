"""rnnscope.train: the command's training loop, with a Python callable told of every step."""
import json
import struct

import numpy as np
import pytest

import rnnscope
from conftest import read_csv, read_safetensors

OPTIONS = {"task": {"kind": "adding", "T": 10}, "model": {"cell": "gru", "hidden_size": 8},
           "optimizer": {"kind": "adam", "lr": 0.01}, "clip": {"norm": 1.0}, "batch": 16, "steps": 20, "eval_every": 10, "eval_size": 40,
           "seed": 3}
ARGS = ["--task", "adding", "--T", 10, "--cell", "gru", "--hidden", 8, "--optimizer", "adam", "--lr", 0.01,
        "--batch", 16, "--steps", 20, "--eval-every", 10, "--eval-size", 40, "--seed", 3, "--dtype", "f64"]


def test_train_equals_the_command(cli, tmp_path):
    rows = []
    r = rnnscope.train(OPTIONS, dtype="float64", progress=rows.append)
    assert [row["step"] for row in rows] == list(range(0, 21))  # step 0: the evaluation before training
    assert r["end"] == "finished" and r["step"] == 20
    cli("train", *ARGS, "--out", tmp_path / "cli", "--quiet")
    curve = read_csv(tmp_path / "cli" / "curve.csv")
    for name in ["step", "train_loss", "eval_loss", "eval_metric", "grad_norm", "clipped"]:
        expected = [float(v) if v != "" else np.nan for v in curve[name]]
        np.testing.assert_array_equal(r["curve"][name], expected, err_msg=name)
    flow = read_csv(tmp_path / "cli" / "gradient_flow.csv")
    np.testing.assert_array_equal(r["gradient_flow"]["log10_ratio"], [float(v) for v in flow["log10_ratio"]])
    saved = dict(read_safetensors(tmp_path / "cli" / "model.safetensors"))
    for name, a in r["model"].state_dict().items():
        np.testing.assert_array_equal(a, saved[name], err_msg=name)
    np.testing.assert_array_equal(r["readout.weight"], saved["readout.weight"])


def test_the_defaults_are_the_commands(cli, tmp_path):
    cli("train", "--steps", 1, "--eval-size", 10, "--out", tmp_path / "cli", "--quiet")
    raw = (tmp_path / "cli" / "checkpoint.safetensors").read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    expected = json.loads(json.loads(raw[8:8 + n])["__metadata__"]["spec"])
    assert rnnscope.train_spec({"steps": 1, "eval_size": 10}) == expected


def test_an_exception_in_the_callback_stops_the_run_and_is_raised():
    seen = []

    def stop_at_5(row):
        seen.append(row["step"])
        if row["step"] == 5:
            raise KeyError("stop here")

    with pytest.raises(KeyError, match="stop here"):
        rnnscope.train(OPTIONS, progress=stop_at_5)
    assert seen == [0, 1, 2, 3, 4, 5]


def test_train_starts_from_a_model_and_on_given_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 32, 2))
    data = {"input": x, "target": x.sum(axis=0)[:, :1]}
    start = rnnscope.train({"task": {"kind": "adding", "T": 6}, "model": {"cell": "lstm", "hidden_size": 4},
                            "steps": 2}, dtype="float64")["model"]
    r = rnnscope.train({"task": {"kind": "data"}, "data_loss": "mse_last", "steps": 5, "batch": 8},
                       model=start, data=data)
    assert r["model"].cell == "lstm" and r["model"].dtype == np.float64 and r["readout.weight"].shape == (1, 4)
    with pytest.raises(ValueError, match="target"):
        rnnscope.train({"task": {"kind": "data"}, "steps": 5}, data={"input": x, "target": x})
    with pytest.raises(ValueError, match="steps"):
        rnnscope.train({"steps": -1})
    with pytest.raises(ValueError, match="dtype"):
        rnnscope.train({}, dtype="float16")


def test_learnability_equals_the_command(cli, tmp_path):
    options = {"task": {"kind": "adding"}, "model": {"hidden_size": 4}, "steps": 20, "eval_every": 10,
               "eval_size": 20, "batch": 8, "seed": 2}
    rows = []
    r = rnnscope.learnability(cells=["gru", "rnn_tanh"], inits=["pytorch"], T=[5, 8], seeds=2, options=options,
                              progress=rows.append, threads=2)
    assert len(rows) == 8 and {row["cell"] for row in rows} == {"gru", "rnn_tanh"}
    cli("learnability", "--task", "adding", "--cells", "gru,rnn_tanh", "--inits", "pytorch", "--T", "5,8",
        "--seeds", 2, "--hidden", 4, "--steps", 20, "--eval-every", 10, "--eval-size", 20, "--batch", 8,
        "--seed", 2, "--threads", 2, "--out", tmp_path / "cli", "--quiet")
    for table in ["runs", "blocks", "rates"]:
        expected = read_csv(tmp_path / "cli" / f"{table}.csv")
        assert list(r[table]) == list(expected), table
        for name, values in expected.items():
            if name == "seconds":  # wall time, the one column that varies
                continue
            got = r[table][name]
            if got.dtype.kind == "f":
                np.testing.assert_array_equal(got, [float(v) if v != "" else np.nan for v in values],
                                              err_msg=f"{table}.{name}")
            else:
                assert list(got) == values, f"{table}.{name}"
    with pytest.raises(ValueError, match="lstmm"):
        rnnscope.learnability(cells=["lstmm"], inits=["pytorch"], T=[5])
