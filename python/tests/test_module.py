"""The module without PyTorch: models from state_dicts and files, shapes and dtypes, errors, help(), threads."""
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import rnnscope
from conftest import random_state_dict

CELLS = ["rnn_tanh", "rnn_relu", "rnn_sigmoid", "lstm", "gru", "ctrnn", "rnn_residual", "rnn_skip",
         "rnn_antisymmetric"]
# The shape of the cells that have one (as the command's --dt, --skip, --eps, --gamma).
SHAPES = {"ctrnn": {"dt": 0.2}, "rnn_skip": {"skip": 3}, "rnn_antisymmetric": {"eps": 0.3, "gamma": 0.05}}


def make(cell="gru", layers=2, dtype=np.float64, bias=True, I=3, H=4, seed=1):
    d = random_state_dict(np.random.default_rng(seed), cell, I, H, layers, bias, dtype)
    return rnnscope.Model.from_state_dict(d, cell=cell, **SHAPES.get(cell, {}))


def test_cell_shapes_are_kept_and_belong_to_their_cell():
    assert (make("rnn_skip").skip, make("rnn_skip").eps, make("rnn_tanh").skip) == (3, None, None)
    anti = make("rnn_antisymmetric")
    assert (anti.eps, anti.gamma, anti.dt) == (0.3, 0.05, None)
    assert "skip=3" in repr(make("rnn_skip"))
    d = random_state_dict(np.random.default_rng(1), "rnn_tanh", 3, 4)
    with pytest.raises(ValueError, match="skip is the skip distance K of the rnn_skip cell; a rnn_tanh model has none"):
        rnnscope.Model.from_state_dict(d, cell="rnn_tanh", skip=2)
    with pytest.raises(ValueError, match="a rnn_antisymmetric model needs eps"):
        rnnscope.Model.from_state_dict(d, cell="rnn_antisymmetric", gamma=0.1)
    with pytest.raises(ValueError, match="weight_skip_l0"):
        rnnscope.Model.from_state_dict(d, cell="rnn_skip", skip=2)


def test_import_does_not_need_torch():
    code = "import sys, rnnscope; assert 'torch' not in sys.modules, 'rnnscope imported torch'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_cell_round_trips_through_a_file(tmp_path, cell, dtype):
    model = make(cell, dtype=dtype)
    assert (model.cell, model.input_size, model.hidden_size, model.num_layers, model.dtype) == (
        cell, 3, 4, 2, np.dtype(dtype))
    model.save(str(tmp_path / "m.safetensors"))
    loaded = rnnscope.load_model(str(tmp_path / "m.safetensors"))
    assert repr(loaded) == repr(model)
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and a.dtype == dtype
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(2).standard_normal((5, 2, 3)).astype(dtype)
    r = model.grad(x, grad_output=np.ones((5, 2, 4), dtype))
    out, state = loaded.forward(x)
    np.testing.assert_array_equal(r["output"], out)
    np.testing.assert_array_equal(r["h_n"], state[0] if cell == "lstm" else state)
    for name, a in r.items():
        assert a.dtype == dtype, name
        assert np.all(np.isfinite(a)), name


def test_results_are_handed_over_without_copies():
    model = make("lstm", layers=1)
    r = model.grad(np.zeros((5, 2, 3)), grad_output=np.ones((5, 2, 4)))
    # The arrays view the library's matrices (owned by a capsule), not copies numpy made.
    for name in ["output", "grad.input", "grad.weight_hh_l0", "grad.bias_ih_l0"]:
        assert not r[name].flags.owndata and r[name].base is not None, name
    assert r["output"].flags.c_contiguous and r["grad.weight_hh_l0"].shape == (16, 4)


def test_a_grad_with_no_cotangent_is_zero():
    r = make("rnn_tanh").grad(np.ones((4, 2, 3)))
    assert all(not np.any(a) for k, a in r.items() if k.startswith("grad."))


def test_non_contiguous_input_is_read_as_its_values():
    model = make("gru", layers=1)
    x = np.random.default_rng(3).standard_normal((2, 5, 3)).transpose(1, 0, 2)  # (5, 2, 3), not C-ordered
    np.testing.assert_array_equal(model.forward(x)[0], model.forward(np.ascontiguousarray(x))[0])


BAD = [
    (lambda m: m.grad(np.zeros((5, 2, 2))), r"input: expected shape \(T, B, 3\), got \(5, 2, 2\)"),
    (lambda m: m.grad(np.zeros((5, 3))), r"input: expected shape \(T, B, 3\), got \(5, 3\)"),
    (lambda m: m.grad(np.zeros((0, 2, 3))), r"input: expected shape"),
    (lambda m: m.grad(np.zeros((5, 2, 3), np.float32)), "input is float32 but the model is float64"),
    (lambda m: m.grad(np.zeros((5, 2, 3), np.int64)), "input: dtype int64 is neither float32 nor float64"),
    (lambda m: m.grad(np.zeros((5, 2, 3)), h0=np.zeros((1, 2, 4))), r"h0: expected shape \(2, 2, 4\), got \(1, 2, 4\)"),
    (lambda m: m.grad(np.zeros((5, 2, 3)), h0=np.zeros((2, 2, 4), np.float32)), "h0 is float32 but the model"),
    (lambda m: m.grad(np.zeros((5, 2, 3)), c0=np.zeros((2, 2, 4))), "'c0' is only for an LSTM"),
    (lambda m: m.grad(np.zeros((5, 2, 3)), grad_output=np.zeros((4, 2, 4))),
     r"grad_output: expected shape \(5, 2, 4\), got \(4, 2, 4\)"),
    (lambda m: m.grad(np.full((5, 2, 3), np.nan)), "input has a non-finite value"),
    (lambda m: m.forward(np.full((5, 2, 3), np.inf)), "input has a non-finite value"),
    (lambda m: m.grad(np.zeros((5, 2, 3)), grad_output=np.full((5, 2, 4), np.nan)), "grad_output has a non-finite"),
    (lambda m: m.grad(np.zeros((5, 2, 3)), threads=-1), "thread"),
    (lambda m: m.forward(np.zeros((5, 2, 4))), r"input: expected shape \(T, B, 3\), got \(5, 2, 4\)"),
    (lambda m: rnnscope.analyze(m, np.zeros((5, 2, 3)), max_power=0), "max.power"),
    (lambda m: rnnscope.lookback(hidden=0), "hidden"),
    (lambda m: rnnscope.lookback(cell="lstmm"), "lstmm"),
    # Refused before any work: the cost model's estimate against the available memory (terabytes).
    (lambda m: rnnscope.lookback(T=100000, hidden=1024, batch=1000, seeds=2),
     r"T 100000, batch 1000 and hidden 1024 needs about [0-9.]+ [GT]B of memory at its peak, .* are available; "
     r"lower T, batch or hidden"),
]


@pytest.mark.parametrize("call, message", BAD)
def test_bad_input_raises_value_error_naming_it(call, message):
    with pytest.raises(ValueError, match=message):
        call(make())


def test_bad_state_dicts_raise_value_error_naming_it(tmp_path):
    good = random_state_dict(np.random.default_rng(1), "lstm", 3, 4, 1)
    cases = [
        ({k: v for k, v in good.items() if k != "bias_hh_l0"}, "lstm", "bias_hh_l0"),
        ({**good, "weight_hh_l0": np.zeros((16, 5))}, "lstm", "weight_hh_l0"),
        ({**good, "bias_ih_l0": good["bias_ih_l0"].astype(np.float32)}, "lstm", "use one dtype"),
        ({**good, "extra": np.zeros(3)}, "lstm", "extra"),
        (good, "gru", "weight_hh_l0"),
        (good, "elman", "elman"),
        ({**good, "weight_ih_l0": [1.0]}, "lstm", "not a numpy array"),
    ]
    for state_dict, cell, message in cases:
        with pytest.raises(ValueError, match=message):
            rnnscope.Model.from_state_dict(state_dict, cell=cell)
    with pytest.raises(ValueError, match="dt"):
        rnnscope.Model.from_state_dict(random_state_dict(np.random.default_rng(1), "ctrnn", 3, 4), cell="ctrnn")
    with pytest.raises(ValueError, match="nothing.safetensors"):
        rnnscope.load_model(str(tmp_path / "nothing.safetensors"))
    assert issubclass(rnnscope.InvalidInput, ValueError)


def test_help_shows_signatures_and_docstrings():
    doc = rnnscope.Model.grad.__doc__
    for word in ["input", "h0", "c0", "grad_output", "grad_h_n", "grad_c_n", "threads", "grad.input", "GIL"]:
        assert word in doc, word
    for f in [rnnscope.analyze, rnnscope.lookback, rnnscope.report, rnnscope.load_model, rnnscope.Model.from_torch]:
        assert f.__doc__ and "(" in f.__doc__.splitlines()[0], f


def test_threads_give_the_same_bits():
    model, x = make("lstm"), np.random.default_rng(4).standard_normal((30, 16, 3))
    g = np.random.default_rng(5).standard_normal((30, 16, 4))
    one, two = model.grad(x, grad_output=g, threads=1), model.grad(x, grad_output=g, threads=2)
    for name in one:
        np.testing.assert_array_equal(one[name], two[name], err_msg=name)


def test_two_python_threads_compute_at_once():
    """Both threads are inside the library at the same moment: the GIL is released while it computes."""
    model = make("lstm", layers=2, H=64, I=16)
    x = np.random.default_rng(6).standard_normal((200, 8, 16))
    g = np.ones((200, 8, 64))
    expected = model.grad(x, grad_output=g, threads=1)
    rnnscope._reset_active_peak()
    start, results, deadline = threading.Barrier(2), [], time.monotonic() + 30

    def work():
        start.wait()
        while rnnscope._active_peak() < 2 and time.monotonic() < deadline:
            results.append(model.grad(x, grad_output=g, threads=1))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert rnnscope._active_peak() >= 2, "the two threads never computed at the same time"
    for r in results:
        np.testing.assert_array_equal(r["grad.weight_hh_l1"], expected["grad.weight_hh_l1"])


def test_the_readme_example_runs():
    """README.md's Python lines, run as they stand: if they stop working, this fails."""
    pytest.importorskip("torch", reason="PyTorch is not installed: the README's example needs it")
    import pathlib
    import re
    readme = (pathlib.Path(__file__).parents[2] / "README.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", readme, re.S)
    scope = {}
    exec(code, scope)
    assert scope["grads"]["grad.weight_hh_l0"].shape == (128, 32)
    assert list(scope["grads"])[-3:] == ["grad.input", "grad.h0", "grad.c0"]
