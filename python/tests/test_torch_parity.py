"""Gradients of every PyTorch recurrent module, one and two layers, with and without bias, against
torch.autograd: within 1e-10 in float64 and 1e-4 in float32."""
import numpy as np
import pytest

import rnnscope

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the autograd comparisons are skipped")
torch.set_num_threads(1)

T, B, I, H = 7, 3, 4, 5
TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-4}
MODULES = {
    "rnn_tanh": lambda **kw: torch.nn.RNN(nonlinearity="tanh", **kw),
    "rnn_relu": lambda **kw: torch.nn.RNN(nonlinearity="relu", **kw),
    "lstm": lambda **kw: torch.nn.LSTM(**kw),
    "gru": lambda **kw: torch.nn.GRU(**kw),
}


def close(actual, expected, tol, what):
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol, err_msg=what)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", list(MODULES))
def test_grad_equals_autograd(cell, layers, bias, dtype):
    torch.manual_seed(list(MODULES).index(cell) * 4 + layers * 2 + bias)
    module = MODULES[cell](input_size=I, hidden_size=H, num_layers=layers, bias=bias).to(dtype)
    lstm = cell == "lstm"
    x = torch.randn(T, B, I, dtype=dtype, requires_grad=True)
    h0 = torch.randn(layers, B, H, dtype=dtype, requires_grad=True)
    c0 = torch.randn(layers, B, H, dtype=dtype, requires_grad=True)
    # Random projections of every output, as the loss: a uniform cotangent would hide bugs.
    g_out, g_h, g_c = (torch.randn(*s, dtype=dtype) for s in [(T, B, H), (layers, B, H), (layers, B, H)])
    out, state = module(x, (h0, c0) if lstm else h0)
    h_n, c_n = state if lstm else (state, None)
    loss = (out * g_out).sum() + (h_n * g_h).sum() + ((c_n * g_c).sum() if lstm else 0)
    loss.backward()

    model = rnnscope.Model.from_torch(module)
    assert model.dtype == np.dtype("float32" if dtype == torch.float32 else "float64")
    n = lambda t: t.detach().numpy()
    kw = dict(c0=n(c0), grad_c_n=n(g_c)) if lstm else {}
    r = model.grad(n(x), h0=n(h0), grad_output=n(g_out), grad_h_n=n(g_h), **kw)

    expected = {"output": out, "h_n": h_n, "grad.input": x.grad, "grad.h0": h0.grad}
    if lstm:
        expected.update({"c_n": c_n, "grad.c0": c0.grad})
    for name, p in module.named_parameters():
        expected["grad." + name] = p.grad
    assert set(r) == set(expected)
    tol = TOLERANCE[dtype]
    for name, t in expected.items():
        assert r[name].dtype == n(t).dtype, name
        close(r[name], n(t), tol, name)


@pytest.mark.parametrize("cell", list(MODULES))
def test_forward_equals_the_module(cell):
    torch.manual_seed(3)
    module = MODULES[cell](input_size=I, hidden_size=H, num_layers=2).double()
    x = torch.randn(T, B, I, dtype=torch.float64)
    out, state = module(x)
    output, r_state = rnnscope.Model.from_torch(module).forward(x.numpy())
    close(output, out.detach().numpy(), 1e-12, "output")
    if cell == "lstm":
        close(r_state[0], state[0].detach().numpy(), 1e-12, "h_n")
        close(r_state[1], state[1].detach().numpy(), 1e-12, "c_n")
    else:
        close(r_state, state.detach().numpy(), 1e-12, "h_n")


def test_state_dict_loads_back_into_torch():
    module = torch.nn.LSTM(input_size=I, hidden_size=H, num_layers=2).double()
    model = rnnscope.Model.from_torch(module)
    other = torch.nn.LSTM(input_size=I, hidden_size=H, num_layers=2).double()
    other.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    for (name, a), (_, b) in zip(module.state_dict().items(), other.state_dict().items()):
        assert torch.equal(a, b), name


@pytest.mark.parametrize("kwargs, problem", [
    (dict(bidirectional=True), "bidirectional"),
    (dict(batch_first=True), "batch_first"),
    (dict(proj_size=2), "proj_size"),
])
def test_unsupported_modules_are_refused(kwargs, problem):
    module = torch.nn.LSTM(input_size=I, hidden_size=H, **kwargs)
    with pytest.raises(ValueError, match=problem):
        rnnscope.Model.from_torch(module)


def test_other_modules_are_refused():
    with pytest.raises(ValueError, match="nn.RNN, nn.LSTM or nn.GRU"):
        rnnscope.Model.from_torch(torch.nn.Linear(3, 4))
