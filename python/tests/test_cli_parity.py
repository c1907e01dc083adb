"""The module's results equal the rnnscope command's files for the same model and input: grad's tensors
(names, order and values) and every table and summary number of analyze and the studies."""
import json
import math

import numpy as np
import pytest

import rnnscope
from conftest import random_state_dict, read_csv, read_safetensors, write_safetensors


def same_column(python, cli_strings, what):
    """A CSV column (strings, %.17g numbers) against the module's array, value for value."""
    python = list(python)
    assert len(python) == len(cli_strings), what
    for i, (p, c) in enumerate(zip(python, cli_strings)):
        if isinstance(p, str):
            assert p == c, f"{what}[{i}]"
        elif c == "":  # an empty cell: the module gives NaN (a withheld value) or no column values at all
            assert math.isnan(p), f"{what}[{i}]"
        else:
            assert float(p) == float(c) or (math.isnan(p) and c in ("", "nan")), f"{what}[{i}]: {p} != {c}"


def same_table(python, path):
    cli = read_csv(path)
    assert list(python) == list(cli), f"{path.name}: columns"
    for name, values in python.items():
        if len(values) == 0:  # a column the CLI leaves empty (no bound for a gated cell)
            assert all(c == "" for c in cli[name]), f"{path.name}:{name}"
        else:
            same_column(values, cli[name], f"{path.name}:{name}")


def same_summary(python, cli, where):
    """Every key the module returns is in summary.json with the same value."""
    for key, value in python.items():
        assert key in cli, f"{where}.{key} missing from summary.json"
        if isinstance(value, dict):
            same_summary(value, cli[key], f"{where}.{key}")
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
            assert list(value) == cli[key], f"{where}.{key}"  # exact rationals, as text
        elif isinstance(value, (np.ndarray, list, tuple)):
            # JSON has no NaN or infinity: null stands for either, and the module gives the value itself
            # (-inf: an exact zero in log10).
            got = np.asarray(value, dtype=float)
            null = np.asarray([v is None for v in cli[key]], dtype=bool)
            assert np.array_equal(~np.isfinite(got), null), f"{where}.{key}: non-finite values differ"
            expected = np.asarray([0.0 if v is None else v for v in cli[key]], dtype=float)
            np.testing.assert_array_equal(np.where(null, 0.0, got), expected, err_msg=f"{where}.{key}")
        else:
            assert value == cli[key], f"{where}.{key}: {value} != {cli[key]}"


@pytest.mark.parametrize("cell, layers, dtype", [("lstm", 2, np.float64), ("gru", 1, np.float32),
                                                 ("rnn_sigmoid", 2, np.float64)])
def test_grad_equals_the_command(cli, tmp_path, cell, layers, dtype):
    rng = np.random.default_rng(5)
    model = rnnscope.Model.from_state_dict(random_state_dict(rng, cell, 3, 4, layers, dtype=dtype), cell=cell)
    inputs = {"input": rng.standard_normal((6, 2, 3)), "h0": rng.standard_normal((layers, 2, 4)),
              "grad_output": rng.standard_normal((6, 2, 4)), "grad_h_n": rng.standard_normal((layers, 2, 4))}
    if cell == "lstm":
        inputs.update(c0=rng.standard_normal((layers, 2, 4)), grad_c_n=rng.standard_normal((layers, 2, 4)))
    inputs = {k: v.astype(dtype) for k, v in inputs.items()}
    model.save(tmp_path / "model.safetensors")
    write_safetensors(tmp_path / "input.safetensors", inputs)
    cli("grad", "--model", tmp_path / "model.safetensors", "--input", tmp_path / "input.safetensors",
        "--out", tmp_path / "grad.safetensors")
    expected = read_safetensors(tmp_path / "grad.safetensors")
    result = model.grad(**inputs)
    assert list(result) == [name for name, _ in expected]
    for name, a in expected:
        assert result[name].dtype == a.dtype, name
        np.testing.assert_array_equal(result[name], a, err_msg=name)


@pytest.mark.parametrize("cell", ["rnn_tanh", "lstm"])
def test_analyze_equals_the_command(cli, tmp_path, cell):
    # The LSTM adds each layer's forget gates (layer<l>_forget).
    rng = np.random.default_rng(7)
    model = rnnscope.Model.from_state_dict(random_state_dict(rng, cell, 3, 6, 2, scale=0.6), cell=cell)
    x = rng.standard_normal((12, 3, 3))
    model.save(tmp_path / "model.safetensors")
    write_safetensors(tmp_path / "input.safetensors", {"input": x})
    cli("analyze", "--model", tmp_path / "model.safetensors", "--input", tmp_path / "input.safetensors",
        "--max-power", 10, "--out", tmp_path / "cli", "--quiet")
    result = rnnscope.analyze(model, x, max_power=10)
    tables = {k: v for k, v in result.items() if k != "summary"}
    assert sorted(tables) == sorted(p.stem for p in (tmp_path / "cli").glob("*.csv"))
    for stem, columns in tables.items():
        same_table(columns, tmp_path / "cli" / f"{stem}.csv")
    summary = json.loads((tmp_path / "cli" / "summary.json").read_text())
    same_summary(result["summary"], summary, "summary")


STUDIES = [
    ("lookback", dict(cell="gru"), "lookback", "GRU"),
    ("lookback", dict(cell="rnn_tanh"), "lookback", "Elman tanh"),
    ("spectrum", dict(cell="lstm", max_power=12), "spectrum", None),
    ("lyapunov", dict(cell="ctrnn", dt=0.5, top=3), "lyapunov", None),
    ("contributions", dict(cell="rnn_relu", init="orthogonal"), "contributions", None),
    ("activations", dict(eps=0.1, T=8, order=3), "activations", None),
]


@pytest.mark.parametrize("command, options, section, label", STUDIES)
def test_study_equals_the_command(cli, tmp_path, command, options, section, label):
    # rnnscope spectrum takes no sequence options: they change nothing in the recurrent matrices.
    sizes = {"activations": {}, "spectrum": dict(hidden=6)}.get(command, dict(hidden=6, input_size=2, T=15, seeds=2,
                                                                           batch=2))
    kwargs = {**sizes, **options}
    args = [f"--{k.replace('_', '-')}" if k != "T" else "--T" for k in kwargs]
    cli(command, *[a for pair in zip(args, kwargs.values()) for a in pair], "--out", tmp_path / "cli", "--quiet")
    result = getattr(rnnscope, command)(**kwargs)
    tables = {k: v for k, v in result.items() if k != "summary"}
    assert sorted(tables) == sorted(p.stem for p in (tmp_path / "cli").glob("*.csv"))
    for stem, columns in tables.items():
        same_table(columns, tmp_path / "cli" / f"{stem}.csv")
    summary = json.loads((tmp_path / "cli" / "summary.json").read_text())[section]
    if command in ("lookback", "lyapunov", "contributions"):
        (summary,) = summary.values() if label is None else [summary[label]]
    same_summary(result["summary"], summary, section)


def test_out_writes_the_commands_folder(tmp_path):
    rnnscope.lookback(cell="lstm", hidden=4, input_size=2, T=10, seeds=1, batch=1, out=str(tmp_path / "py"))
    assert (tmp_path / "py" / "index.html").exists()
    assert (tmp_path / "py" / "lookback.csv").exists()
    with pytest.raises(ValueError, match="--force|force"):
        rnnscope.lookback(cell="lstm", hidden=4, input_size=2, T=10, seeds=1, batch=1, out=str(tmp_path / "py"))
    rnnscope.lookback(cell="lstm", hidden=4, input_size=2, T=10, seeds=1, batch=1, out=str(tmp_path / "py"),
                      force=True)


def test_report_equals_the_command(cli, tmp_path):
    # --quick: T 30, hidden 8, seeds 2, batch 2, no learnability grid.
    cli("report", "--quick", "--out", tmp_path / "cli", "--quiet")
    summary = rnnscope.report(out=tmp_path / "py", T=30, hidden=8, seeds=2, batch=2, learnability=False)
    assert summary == json.loads((tmp_path / "cli" / "summary.json").read_text())
    assert sorted(p.name for p in (tmp_path / "py").iterdir()) == sorted(p.name for p in (tmp_path / "cli").iterdir())
    for csv_file in (tmp_path / "cli").glob("*.csv"):
        assert (tmp_path / "py" / csv_file.name).read_text() == csv_file.read_text(), csv_file.name
