// rnnscope.Model: a recurrent model in float32 or float64, its outputs and its
// exact gradients through time (the computation of `rnnscope grad`,
// io/model_file.hpp's grad_files, on arrays instead of files).
#include <fmt/format.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <chrono>
#include <optional>

#include "bindings.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/io/model_file.hpp"
#include "rnnscope/sequence/bptt.hpp"

namespace rnnscope::python {

namespace {

using OptArray = std::optional<py::array>;

// PyTorch's mode attribute of nn.RNN, nn.LSTM and nn.GRU as the library's cell name.
std::string cell_of_torch_mode(const std::string& mode) {
  if (mode == "RNN_TANH") return "rnn_tanh";
  if (mode == "RNN_RELU") return "rnn_relu";
  if (mode == "LSTM") return "lstm";
  if (mode == "GRU") return "gru";
  throw InvalidInput(fmt::format("from_torch: unknown mode '{}' (expected RNN_TANH, RNN_RELU, LSTM or GRU)", mode));
}

// An optional state or cotangent (L, B, H) as a file's tensor, in the model's dtype.
std::optional<NamedTensor> state_tensor(const std::string& name, const OptArray& a, DType model_dtype) {
  if (!a) return std::nullopt;
  const DType d = array_dtype(name, *a);
  require(d == model_dtype,
          fmt::format("{} is {} but the model is {}: use one dtype throughout", name,
                      d == DType::f32 ? "float32" : "float64", model_dtype == DType::f32 ? "float32" : "float64"));
  return to_named_tensor(name, *a);
}

const NamedTensor* ptr(const std::optional<NamedTensor>& t) { return t ? &*t : nullptr; }

// A stack state as PyTorch's (L, B, H) arrays under their names.
template <Scalar S>
void put_state(py::dict& out, const Model<S>& model, const Mat<S>& state, const std::string& h, const std::string& c) {
  for (const auto& t : state_to_pytorch<S>(model, state, h, c)) out[py::str(t.name)] = to_array(t);
}

struct Inputs {
  std::optional<NamedTensor> h0, c0, grad_h_n, grad_c_n;
};

template <Scalar S>
py::object forward_in(const PyModel& pm, const py::array& input, const Inputs& in, int threads) {
  const Model<S>& model = std::get<Model<S>>(pm.model);
  const Mat<S> x = to_sequence<S>("input", input, 0, 0, pm.spec.input_size);
  const Index B = input.shape(1);
  const Execution e = execution(threads);
  Mat<S> output, final_state;
  {
    Computing computing;
    ThreadScope scope(e);
    check_finite("input", x);
    const Mat<S> state0 = state_from_pytorch<S>(model, ptr(in.h0), ptr(in.c0), B);
    std::visit(
        [&](const auto& stack) {
          const auto cache = stack.forward(x, B, state0);
          output = stack.output(cache);
          final_state = stack.final_state(cache);
        },
        model);
  }
  py::dict states;
  put_state(states, model, final_state, "h_n", "c_n");
  py::object h = states["h_n"];
  py::object state = pm.spec.cell == CellKind::lstm ? py::object(py::make_tuple(h, states["c_n"])) : h;
  return py::make_tuple(matrix_array<S>(std::move(output), B), state);
}

// What grad computes, before it becomes arrays.
template <Scalar S, class Stack>
struct GradResult {
  Mat<S> output, final_state;
  typename Stack::Gradients grads;
};

// What `rnnscope grad` computes once its files are read (grad_files): the checks, the states from
// PyTorch's layout, the forward pass and BPTT. Runs without the GIL.
template <Scalar S, class Stack>
GradResult<S, Stack> compute_grad(const Model<S>& model, const Stack& stack, const Mat<S>& x, Index B, const Inputs& in,
                                  const Mat<S>& d_output) {
  check_finite("input", x);
  check_finite("grad_output", d_output);
  const Mat<S> state0 = state_from_pytorch<S>(model, ptr(in.h0), ptr(in.c0), B);
  const Mat<S> d_final = state_from_pytorch<S>(model, ptr(in.grad_h_n), ptr(in.grad_c_n), B);
  const auto cache = stack.forward(x, B, state0);
  GradResult<S, Stack> r;
  r.grads = bptt(stack, cache, d_output, d_final);
  r.output = stack.output(cache);
  r.final_state = stack.final_state(cache);
  return r;
}

// The model's input and output cotangent as the library's matrices (zeros for a missing cotangent), in
// buffers each Python thread keeps from one call to the next: the same sizes again reuse their memory, so a
// call copies its arrays in without touching new pages (docs/python.md, "Speed").
template <Scalar S>
struct GradArrays {
  Mat<S> x, d_output;
};

template <Scalar S>
const GradArrays<S>& grad_arrays(const PyModel& pm, const py::array& input, const OptArray& grad_output) {
  thread_local GradArrays<S> buffers;
  to_sequence<S>("input", input, 0, 0, pm.spec.input_size, buffers.x);
  const Index T = input.shape(0), B = input.shape(1);
  if (grad_output)
    to_sequence<S>("grad_output", *grad_output, T, B, pm.spec.hidden_size, buffers.d_output);
  else
    buffers.d_output.setZero(pm.spec.hidden_size, T * B);
  return buffers;
}

template <Scalar S>
py::dict grad_in(const PyModel& pm, const py::array& input, const OptArray& grad_output, const Inputs& in,
                 int threads) {
  const Model<S>& model = std::get<Model<S>>(pm.model);
  // Named references, not a structured binding: the lambdas below capture them (clang 14 cannot capture bindings).
  const GradArrays<S>& arrays = grad_arrays<S>(pm, input, grad_output);
  const Mat<S>& x = arrays.x;
  const Mat<S>& d_output = arrays.d_output;
  const Index B = input.shape(1);
  const Execution e = execution(threads);
  py::dict out;
  std::visit(
      [&](const auto& stack) {
        using Stack = std::decay_t<decltype(stack)>;
        std::optional<GradResult<S, Stack>> r;
        {
          Computing computing;
          ThreadScope scope(e);
          r = compute_grad<S>(model, stack, x, B, in, d_output);
        }
        // The names and order of rnnscope grad's file (grad_files).
        out["output"] = matrix_array<S>(std::move(r->output), B);
        put_state(out, model, r->final_state, "h_n", "c_n");
        r->grads.params.for_each([&](const char* name, auto& t) {
          const py::str key(std::string("grad.") + name);
          if constexpr (std::is_same_v<std::decay_t<decltype(t)>, Vec<S>>)
            out[key] = vector_array<S>(std::move(t));
          else
            out[key] = matrix_array<S>(std::move(t));
        });
        out["grad.input"] = matrix_array<S>(std::move(r->grads.d_input), B);
        put_state(out, model, r->grads.d_state0, "grad.h0", "grad.c0");
      },
      model);
  return out;
}

// The library's own seconds for grad's computation (compute_grad), once per repeat, on inputs converted
// once: bench/python_vs_torch.py compares model.grad with it, so the binding's share is the difference.
template <Scalar S>
std::vector<double> library_grad_seconds(const PyModel& pm, const py::array& input, const OptArray& grad_output,
                                         const Inputs& in, int repeats, int threads) {
  const Model<S>& model = std::get<Model<S>>(pm.model);
  // Named references, not a structured binding: the lambdas below capture them (clang 14 cannot capture bindings).
  const GradArrays<S>& arrays = grad_arrays<S>(pm, input, grad_output);
  const Mat<S>& x = arrays.x;
  const Mat<S>& d_output = arrays.d_output;
  const Index B = input.shape(1);
  require(repeats >= 1, "repeats must be at least 1");
  const Execution e = execution(threads);
  std::vector<double> seconds;
  Computing computing;
  ThreadScope scope(e);
  std::visit(
      [&](const auto& stack) {
        for (int i = 0; i < repeats; ++i) {
          const auto start = std::chrono::steady_clock::now();
          compute_grad<S>(model, stack, x, B, in, d_output);  // its result freed, as model.grad's is by its caller
          seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        }
      },
      model);
  return seconds;
}

py::dict state_dict(const PyModel& pm) {
  py::dict d;
  for (const auto& t : pm.file().tensors) d[py::str(t.name)] = to_array(t);
  return d;
}

PyModel from_state_dict(const py::dict& tensors, const std::string& cell, const std::optional<double>& dt,
                        const std::optional<Index>& skip, const std::optional<double>& eps,
                        const std::optional<double>& gamma) {
  TensorFile f;
  const CellKind kind = parse_cell(cell);
  f.metadata["cell"] = std::string(to_string(kind));
  // Each shape value belongs to one cell: required there, refused elsewhere (it would change nothing).
  const auto shape = [&](const char* key, CellKind owner, bool given, const std::string& value, const char* what) {
    require(!given || kind == owner, fmt::format("{} is {} of the {} cell; a {} model has none", key, what,
                                                 to_string(owner), cell));
    require(given || kind != owner, fmt::format("a {} model needs {} ({})", cell, key, what));
    if (given) f.metadata[key] = value;
  };
  shape("dt", CellKind::ctrnn, dt.has_value(), dt ? fmt::format("{}", *dt) : "", "the Euler step");
  shape("skip", CellKind::rnn_skip, skip.has_value(), skip ? std::to_string(*skip) : "", "the skip distance K");
  shape("eps", CellKind::rnn_antisymmetric, eps.has_value(), eps ? fmt::format("{}", *eps) : "", "the Euler step");
  shape("gamma", CellKind::rnn_antisymmetric, gamma.has_value(), gamma ? fmt::format("{}", *gamma) : "",
        "the diffusion");
  for (const auto& [key, value] : tensors) {
    const std::string name = py::str(key);
    require(py::isinstance<py::array>(value), fmt::format("tensor '{}' is not a numpy array", name));
    f.tensors.push_back(to_named_tensor(name, value.cast<py::array>()));
  }
  return model_from_file(f);
}

PyModel from_torch(const py::object& module) {
  const std::string type = py::str(module.attr("__class__").attr("__name__"));
  require(py::hasattr(module, "mode") && py::hasattr(module, "state_dict"),
          fmt::format("from_torch: expected torch.nn.RNN, nn.LSTM or nn.GRU, got {}", type));
  require(!module.attr("bidirectional").cast<bool>(), "from_torch: bidirectional modules are not supported");
  require(!py::hasattr(module, "proj_size") || module.attr("proj_size").cast<int>() == 0,
          "from_torch: LSTMs with proj_size > 0 are not supported");
  require(!module.attr("batch_first").cast<bool>(),
          "from_torch: batch_first modules are not supported (rnnscope is time-major, (T, B, F), as PyTorch's "
          "default): construct the module with batch_first=False");
  const std::string cell = cell_of_torch_mode(py::str(module.attr("mode")));
  TensorFile f;
  f.metadata = {{"cell", cell},
                {"num_layers", std::to_string(module.attr("num_layers").cast<long>())},
                {"hidden_size", std::to_string(module.attr("hidden_size").cast<long>())},
                {"input_size", std::to_string(module.attr("input_size").cast<long>())},
                {"bias", module.attr("bias").cast<bool>() ? "true" : "false"}};
  // Through the tensors' own methods: no import of torch here.
  const py::dict sd = module.attr("state_dict")();
  for (const auto& [key, value] : sd)
    f.tensors.push_back(
        to_named_tensor(py::str(key), value.attr("detach")().attr("cpu")().attr("numpy")().cast<py::array>()));
  return model_from_file(f);
}

// A value of the cell shape (dt, skip, eps, gamma) for the cell that has it, None for every other cell.
template <class V>
py::object shape_of(const PyModel& pm, CellKind owner, V value) {
  return pm.spec.cell == owner ? py::cast(value) : py::none();
}

std::string repr(const PyModel& pm) {
  std::string s = fmt::format("rnnscope.Model(cell='{}', input_size={}, hidden_size={}, num_layers={}, bias={}",
                              to_string(pm.spec.cell), pm.spec.input_size, pm.spec.hidden_size, pm.spec.num_layers,
                              pm.spec.bias ? "True" : "False");
  if (pm.spec.cell == CellKind::ctrnn) s += fmt::format(", dt={}", pm.spec.dt);
  if (pm.spec.cell == CellKind::rnn_skip) s += fmt::format(", skip={}", pm.spec.skip);
  if (pm.spec.cell == CellKind::rnn_antisymmetric) s += fmt::format(", eps={}, gamma={}", pm.spec.eps, pm.spec.gamma);
  return s + fmt::format(", dtype={})", pm.dtype() == DType::f32 ? "float32" : "float64");
}

}  // namespace

TensorFile PyModel::file() const {
  return std::visit([&](const auto& m) { return save_model(m, spec); }, model);
}

PyModel model_from_file(const TensorFile& file) {
  require(!file.tensors.empty(), "the state_dict holds no tensors");
  const DType dtype = file.tensors.front().dtype;
  for (const auto& t : file.tensors)
    require(t.dtype == dtype, fmt::format("tensor '{}' is {} but '{}' is {}: use one dtype throughout", t.name,
                                          dtype_name(t.dtype), file.tensors.front().name, dtype_name(dtype)));
  const ModelSpec spec = read_model_spec(file);
  if (dtype == DType::f32) return PyModel{spec, load_model<float>(file)};
  return PyModel{spec, load_model<double>(file)};
}

void register_model(py::module_& m) {
  using namespace pybind11::literals;
  py::class_<PyModel>(m, "Model",
                      "A recurrent model: a stack of num_layers layers of one cell (rnn_tanh, rnn_relu, rnn_sigmoid, "
                      "lstm, gru, ctrnn, rnn_residual, rnn_skip, rnn_antisymmetric) with PyTorch's parameter names, in "
                      "float32 or float64. Build one with "
                      "Model.from_torch, Model.from_state_dict or load_model.")
      .def_static("from_torch", &from_torch, "module"_a,
                  "The model of a torch.nn.RNN (tanh or relu), nn.LSTM or nn.GRU, read through its state_dict and "
                  "attributes (torch is not imported), in the dtype of its parameters. Bidirectional, proj_size and "
                  "batch_first modules raise ValueError. Dropout is not applied (as in eval mode).")
      .def_static("from_state_dict", &from_state_dict, "state_dict"_a, py::kw_only(), "cell"_a, "dt"_a = py::none(),
                  "skip"_a = py::none(), "eps"_a = py::none(), "gamma"_a = py::none(),
                  "A model from PyTorch-named numpy arrays (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ... "
                  "per layer, and weight_skip_l0 ... for rnn_skip), all float32 or all float64. cell: rnn_tanh, "
                  "rnn_relu, rnn_sigmoid, lstm, gru, ctrnn, rnn_residual, rnn_skip or rnn_antisymmetric; dt: the "
                  "Euler step, for ctrnn only; skip: K, for rnn_skip only; eps and gamma: for rnn_antisymmetric only. "
                  "Sizes, layers and bias are read off the tensors.")
      .def_property_readonly("cell", [](const PyModel& pm) { return std::string(to_string(pm.spec.cell)); })
      .def_property_readonly("input_size", [](const PyModel& pm) { return pm.spec.input_size; })
      .def_property_readonly("hidden_size", [](const PyModel& pm) { return pm.spec.hidden_size; })
      .def_property_readonly("num_layers", [](const PyModel& pm) { return pm.spec.num_layers; })
      .def_property_readonly("bias", [](const PyModel& pm) { return pm.spec.bias; })
      .def_property_readonly("dt", [](const PyModel& pm) { return shape_of(pm, CellKind::ctrnn, pm.spec.dt); })
      .def_property_readonly("skip", [](const PyModel& pm) { return shape_of(pm, CellKind::rnn_skip, pm.spec.skip); })
      .def_property_readonly("eps",
                             [](const PyModel& pm) { return shape_of(pm, CellKind::rnn_antisymmetric, pm.spec.eps); })
      .def_property_readonly(
          "gamma", [](const PyModel& pm) { return shape_of(pm, CellKind::rnn_antisymmetric, pm.spec.gamma); })
      .def_property_readonly(
          "dtype", [](const PyModel& pm) { return py::dtype(pm.dtype() == DType::f32 ? "float32" : "float64"); })
      .def("state_dict", &state_dict, "The parameters as numpy arrays under PyTorch's names (copies).")
      .def(
          "save", [](const PyModel& pm, const std::filesystem::path& path) { write_safetensors(path, pm.file()); },
          "path"_a,
          "Writes the model file (safetensors state_dict with the cell in __metadata__) that the rnnscope command "
          "and load_model read, and that PyTorch's load_state_dict accepts.")
      .def(
          "forward",
          [](const PyModel& pm, const py::array& input, const OptArray& h0, const OptArray& c0, int threads) {
            const Inputs in{state_tensor("h0", h0, pm.dtype()), state_tensor("c0", c0, pm.dtype()), {}, {}};
            return pm.dtype() == DType::f32 ? forward_in<float>(pm, input, in, threads)
                                            : forward_in<double>(pm, input, in, threads);
          },
          "input"_a, "h0"_a = py::none(), "c0"_a = py::none(), py::kw_only(), "threads"_a = 0,
          "Runs the model on input (T, B, I) from h0 and, for an LSTM, c0 (L, B, H) (zeros when None), as "
          "PyTorch's module does: returns (output (T, B, H), h_n), with h_n = (h_n, c_n) for an LSTM. threads: "
          "as the command's --threads (0: OMP_NUM_THREADS, else every core).")
      .def(
          "grad",
          [](const PyModel& pm, const py::array& input, const OptArray& h0, const OptArray& c0,
             const OptArray& grad_output, const OptArray& grad_h_n, const OptArray& grad_c_n, int threads) {
            const DType d = pm.dtype();
            const Inputs in{state_tensor("h0", h0, d), state_tensor("c0", c0, d), state_tensor("grad_h_n", grad_h_n, d),
                            state_tensor("grad_c_n", grad_c_n, d)};
            return d == DType::f32 ? grad_in<float>(pm, input, grad_output, in, threads)
                                   : grad_in<double>(pm, input, grad_output, in, threads);
          },
          "input"_a, "h0"_a = py::none(), "c0"_a = py::none(), "grad_output"_a = py::none(), "grad_h_n"_a = py::none(),
          "grad_c_n"_a = py::none(), py::kw_only(), "threads"_a = 0,
          "Outputs and exact gradients through time: the vector-Jacobian product autograd computes for the "
          "cotangents grad_output (T, B, H), grad_h_n and grad_c_n (L, B, H) (zeros when None). Returns a dict "
          "with the names of `rnnscope grad`'s file: output, h_n, c_n (LSTM), grad.<param> (PyTorch's names), "
          "grad.input, grad.h0, grad.c0 (LSTM). Every array must have the model's dtype. The GIL is released "
          "while it computes.")
      .def(
          "_library_grad_seconds",
          [](const PyModel& pm, const py::array& input, const OptArray& h0, const OptArray& c0,
             const OptArray& grad_output, int repeats, int threads) {
            const DType d = pm.dtype();
            const Inputs in{state_tensor("h0", h0, d), state_tensor("c0", c0, d), {}, {}};
            return d == DType::f32 ? library_grad_seconds<float>(pm, input, grad_output, in, repeats, threads)
                                   : library_grad_seconds<double>(pm, input, grad_output, in, repeats, threads);
          },
          "input"_a, "h0"_a = py::none(), "c0"_a = py::none(), "grad_output"_a = py::none(), "repeats"_a = 5,
          py::kw_only(), "threads"_a = 0,
          "The library's own seconds for grad's computation, once per repeat, on inputs converted once "
          "(bench/python_vs_torch.py compares model.grad with it).")
      .def("__repr__", &repr);
  m.def(
      "load_model", [](const std::filesystem::path& path) { return model_from_file(read_safetensors(path)); }, "path"_a,
      "Reads a model file (safetensors state_dict with __metadata__ cell), as the rnnscope command does.");
}

}  // namespace rnnscope::python
