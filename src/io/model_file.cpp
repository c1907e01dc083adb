#include "rnnscope/io/model_file.hpp"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "rnnscope/core/error.hpp"
#include "rnnscope/sequence/bptt.hpp"
#include "rnnscope/sequence/forward_check.hpp"

namespace rnnscope {

namespace {

Index parse_index(const std::string& key, const std::string& value) {
  try {
    size_t used = 0;
    const long long v = std::stoll(value, &used);
    if (used == value.size() && v > 0) return static_cast<Index>(v);
  } catch (const std::exception&) {
  }
  throw InvalidInput(fmt::format("metadata '{}' must be a positive integer, got '{}'", key, value));
}

// The number a metadata key holds (required); the cell checks its range.
double parse_number(const TensorFile& f, const std::string& key) {
  const std::string& value = f.metadata_at(key);
  try {
    size_t used = 0;
    const double v = std::stod(value, &used);
    if (used == value.size()) return v;
  } catch (const std::exception&) {
  }
  throw InvalidInput(fmt::format("metadata '{}' must be a number, got '{}'", key, value));
}

// Checks a metadata value against what the tensors say, when the key is present.
void agree(const TensorFile& f, const std::string& key, Index from_tensors) {
  const auto it = f.metadata.find(key);
  if (it != f.metadata.end() && parse_index(key, it->second) != from_tensors)
    throw InvalidInput(fmt::format("metadata '{}' = {} disagrees with the tensors ({})", key, it->second, from_tensors));
}

// Weights, inputs, states and cotangents are floating-point data: an I64 tensor
// (integers such as class indices) in their place is refused, not converted.
void require_floating(const NamedTensor& t, const char* file) {
  if (!is_floating(t.dtype))
    throw InvalidInput(fmt::format("tensor '{}' is {}, but the tensors of {} must be F32 or F64", t.name,
                                   dtype_name(t.dtype), file));
}

Index gate_count(CellKind k) { return k == CellKind::lstm ? 4 : k == CellKind::gru ? 3 : 1; }

template <class Stack>
constexpr bool is_lstm = std::is_same_v<typename Stack::Params, StackParams<LSTM<typename Stack::Scalar>>>;

}  // namespace

ModelSpec read_model_spec(const TensorFile& f) {
  ModelSpec s;
  s.cell = parse_cell(f.metadata_at("cell"));
  const NamedTensor& w_hh = f.at("weight_hh_l0");
  const NamedTensor& w_ih = f.at("weight_ih_l0");
  require(w_hh.shape.size() == 2 && w_ih.shape.size() == 2,
          "weight_hh_l0 and weight_ih_l0 must be 2-D tensors");
  s.hidden_size = static_cast<Index>(w_hh.shape[1]);
  s.input_size = static_cast<Index>(w_ih.shape[1]);
  require(s.hidden_size > 0 && s.input_size > 0, "weight_hh_l0 and weight_ih_l0 must not be empty");
  check_tensor_shape(w_hh, {gate_count(s.cell) * s.hidden_size, s.hidden_size});
  s.num_layers = 0;
  while (f.find(layer_name("weight_ih", static_cast<int>(s.num_layers)))) ++s.num_layers;
  s.bias = f.find("bias_ih_l0") != nullptr;
  agree(f, "hidden_size", s.hidden_size);
  agree(f, "input_size", s.input_size);
  agree(f, "num_layers", s.num_layers);
  if (const auto it = f.metadata.find("bias"); it != f.metadata.end()) {
    require(it->second == "true" || it->second == "false",
            fmt::format("metadata 'bias' must be true or false, got '{}'", it->second));
    require((it->second == "true") == s.bias,
            fmt::format("metadata 'bias' = {} disagrees with the tensors", it->second));
  }
  if (s.cell == CellKind::ctrnn) s.dt = parse_number(f, "dt");
  if (s.cell == CellKind::rnn_skip) s.skip = parse_index("skip", f.metadata_at("skip"));
  if (s.cell == CellKind::rnn_antisymmetric) {
    s.eps = parse_number(f, "eps");
    s.gamma = parse_number(f, "gamma");
  }
  return s;
}

template <Scalar S>
Model<S> load_model(const TensorFile& f) {
  const ModelSpec spec = read_model_spec(f);
  Model<S> model = make_model<S>(spec);
  std::set<std::string> expected;
  std::visit(
      [&](auto& stack) {
        stack.for_each_param([&](const char* name, auto& t) {
          expected.insert(name);
          const NamedTensor& src = f.at(name);
          require_floating(src, "a model file");
          if (t.cols() == 1 && std::is_same_v<std::decay_t<decltype(t)>, Vec<S>>) {
            check_tensor_shape(src, {t.rows()});
            t = to_vector<S>(src);
          } else {
            check_tensor_shape(src, {t.rows(), t.cols()});
            t = to_matrix<S>(src);
          }
        });
        for (Index l = 0; l < stack.num_layers(); ++l) stack.layer(l).validate();
      },
      model);
  for (const auto& t : f.tensors)
    if (!expected.count(t.name) && !is_readout_name(t.name))
      throw InvalidInput(fmt::format("unexpected tensor '{}' in a {} model with {} layer(s)", t.name,
                                     to_string(spec.cell), spec.num_layers));
  return model;
}

template <Scalar S>
TensorFile save_model(const Model<S>& model, const ModelSpec& spec) {
  TensorFile f;
  f.metadata = {{"cell", std::string(to_string(spec.cell))},
                {"num_layers", std::to_string(spec.num_layers)},
                {"hidden_size", std::to_string(spec.hidden_size)},
                {"input_size", std::to_string(spec.input_size)},
                {"bias", spec.bias ? "true" : "false"}};
  if (spec.cell == CellKind::ctrnn) f.metadata["dt"] = fmt::format("{}", spec.dt);
  if (spec.cell == CellKind::rnn_skip) f.metadata["skip"] = std::to_string(spec.skip);
  if (spec.cell == CellKind::rnn_antisymmetric) {
    f.metadata["eps"] = fmt::format("{}", spec.eps);
    f.metadata["gamma"] = fmt::format("{}", spec.gamma);
  }
  std::visit(
      [&](const auto& stack) {
        auto& s = const_cast<std::decay_t<decltype(stack)>&>(stack);  // for_each_param visits mutably
        s.for_each_param([&](const char* name, const auto& t) {
          if constexpr (std::is_same_v<std::decay_t<decltype(t)>, Vec<S>>)
            f.tensors.push_back(from_vector<S>(name, t));
          else
            f.tensors.push_back(from_matrix<S>(name, t));
        });
      },
      model);
  return f;
}

template <Scalar S>
Mat<S> state_from_pytorch(const Model<S>& model, const NamedTensor* h, const NamedTensor* c, Index batch) {
  return std::visit(
      [&](const auto& stack) {
        using St = std::decay_t<decltype(stack)>;
        const Index L = stack.num_layers(), H = stack.output_size();
        Mat<S> state = Mat<S>::Zero(stack.state_size(), batch);
        if (c && !is_lstm<St>) throw InvalidInput(fmt::format("'{}' is only for an LSTM", c->name));
        for (const NamedTensor* t : {h, c}) {
          if (!t) continue;
          check_tensor_shape(*t, {L, batch, H});
          const Mat<S> m = to_sequence<S>(*t);  // (H, L*B): column l*B + b
          check_finite(t->name, m);
          Index row = 0;
          for (Index l = 0; l < L; ++l) {
            const Index off = (t == c) ? H : 0;
            state.block(row + off, 0, H, batch) = m.middleCols(l * batch, batch);
            row += stack.layer_state_size(l);
          }
        }
        return state;
      },
      model);
}

template <Scalar S>
std::vector<NamedTensor> state_to_pytorch(const Model<S>& model, const Mat<S>& state, const std::string& h_name,
                                          const std::string& c_name) {
  return std::visit(
      [&](const auto& stack) {
        using St = std::decay_t<decltype(stack)>;
        const Index L = stack.num_layers(), H = stack.output_size(), B = state.cols();
        Mat<S> h(H, L * B), c(H, L * B);
        Index row = 0;
        for (Index l = 0; l < L; ++l) {
          h.middleCols(l * B, B) = state.block(row, 0, H, B);
          if constexpr (is_lstm<St>) c.middleCols(l * B, B) = state.block(row + H, 0, H, B);
          row += stack.layer_state_size(l);
        }
        std::vector<NamedTensor> out{from_sequence<S>(h_name, h, B)};
        if constexpr (is_lstm<St>) out.push_back(from_sequence<S>(c_name, c, B));
        return out;
      },
      model);
}

namespace {

template <Scalar S>
TensorFile grad_in(const TensorFile& model_file, const TensorFile& in, const Execution& limits) {
  const Model<S> model = load_model<S>(model_file);
  const NamedTensor& input = in.at("input");
  require(input.shape.size() == 3, fmt::format("input: expected a (T, B, I) tensor, got {}", input.shape_string()));
  const Index T = static_cast<Index>(input.shape[0]), B = static_cast<Index>(input.shape[1]);
  require(T > 0 && B > 0, fmt::format("input: empty sequence or batch, shape {}", input.shape_string()));
  const Index I = std::visit([](const auto& stack) { return stack.layer(0).input_size(); }, model);
  check_tensor_shape(input, {T, B, I});
  // BPTT, with the input, the output and their cotangents in the file's layout and the results' copies.
  const ModelSpec spec = read_model_spec(model_file);
  Cost cost = bptt_cost(spec, T, B, sizeof(S));
  cost.bytes += values(4.0 * static_cast<double>(T) * static_cast<double>(B) *
                           static_cast<double>(std::max(spec.input_size, spec.hidden_size)),
                       sizeof(S));
  check_cost(cost, limits);
  const Mat<S> x = to_sequence<S>(input);
  check_finite("input", x);
  const Mat<S> state0 = state_from_pytorch<S>(model, in.find("h0"), in.find("c0"), B);
  const Mat<S> d_final = state_from_pytorch<S>(model, in.find("grad_h_n"), in.find("grad_c_n"), B);
  return std::visit(
      [&](const auto& stack) {
        const Index H = stack.output_size();
        Mat<S> d_output = Mat<S>::Zero(H, T * B);
        if (const NamedTensor* g = in.find("grad_output")) {
          check_tensor_shape(*g, {T, B, H});
          d_output = to_sequence<S>(*g);
          check_finite("grad_output", d_output);
        }
        const auto cache = stack.forward(x, B, state0);
        require_finite_forward(stack, cache);
        const auto grads = bptt(stack, cache, d_output, d_final);
        TensorFile out;
        out.metadata = model_file.metadata;
        out.tensors.push_back(from_sequence<S>("output", Mat<S>(stack.output(cache)), B));
        for (auto& t : state_to_pytorch<S>(model, stack.final_state(cache), "h_n", "c_n")) out.tensors.push_back(t);
        grads.params.for_each([&](const char* name, const auto& t) {
          if constexpr (std::is_same_v<std::decay_t<decltype(t)>, Vec<S>>)
            out.tensors.push_back(from_vector<S>(std::string("grad.") + name, t));
          else
            out.tensors.push_back(from_matrix<S>(std::string("grad.") + name, t));
        });
        out.tensors.push_back(from_sequence<S>("grad.input", grads.d_input, B));
        for (auto& t : state_to_pytorch<S>(model, grads.d_state0, "grad.h0", "grad.c0")) out.tensors.push_back(t);
        return out;
      },
      model);
}

}  // namespace

void check_input_names(const TensorFile& input_file) {
  static const std::set<std::string> known = {"input", "h0", "c0", "grad_output", "grad_h_n", "grad_c_n"};
  for (const auto& t : input_file.tensors)
    require(known.count(t.name) == 1,
            fmt::format("unexpected tensor '{}' in the input file (it may hold input, h0, c0, grad_output, grad_h_n "
                        "and grad_c_n)",
                        t.name));
}

TensorFile grad_files(const TensorFile& model_file, const TensorFile& input_file, const Execution& limits) {
  require(!model_file.tensors.empty(), "the model file holds no tensors");
  check_input_names(input_file);
  for (const auto& t : model_file.tensors) require_floating(t, "a model file");
  for (const auto& t : input_file.tensors) require_floating(t, "an input file");
  // The results are written in this dtype, F32 or F64.
  const DType dtype = model_file.tensors.front().dtype;
  for (const auto* f : {&model_file, &input_file})
    for (const auto& t : f->tensors)
      require(t.dtype == dtype, fmt::format("tensor '{}' is {} but the model is {}: use one dtype throughout",
                                            t.name, dtype_name(t.dtype), dtype_name(dtype)));
  return dtype == DType::f32 ? grad_in<float>(model_file, input_file, limits)
                             : grad_in<double>(model_file, input_file, limits);
}

template Model<float> load_model<float>(const TensorFile&);
template Model<double> load_model<double>(const TensorFile&);
template TensorFile save_model<float>(const Model<float>&, const ModelSpec&);
template TensorFile save_model<double>(const Model<double>&, const ModelSpec&);
template Mat<float> state_from_pytorch<float>(const Model<float>&, const NamedTensor*, const NamedTensor*, Index);
template Mat<double> state_from_pytorch<double>(const Model<double>&, const NamedTensor*, const NamedTensor*, Index);
template std::vector<NamedTensor> state_to_pytorch<float>(const Model<float>&, const Mat<float>&, const std::string&,
                                                          const std::string&);
template std::vector<NamedTensor> state_to_pytorch<double>(const Model<double>&, const Mat<double>&,
                                                           const std::string&, const std::string&);

AnalysisSpec analysis_spec(const TensorFile& model_file, const TensorFile& input_file,
                           const AnalysisOptions& options) {
  const ModelSpec spec = read_model_spec(model_file);
  AnalysisSpec analysis{load_model<double>(model_file), spec.cell, {}, 0, {}, options, spec};
  check_input_names(input_file);
  for (const auto& t : input_file.tensors) require_floating(t, "an input file");
  const NamedTensor& input = input_file.at("input");
  require(input.shape.size() == 3, fmt::format("input: expected a (T, B, I) tensor, got {}", input.shape_string()));
  const Index T = static_cast<Index>(input.shape[0]), B = static_cast<Index>(input.shape[1]);
  require(T > 0 && B > 0, fmt::format("input: empty sequence or batch, shape {}", input.shape_string()));
  check_tensor_shape(input, {T, B, spec.input_size});
  analysis.x = to_sequence<double>(input);
  analysis.batch = B;
  analysis.state0 = state_from_pytorch<double>(analysis.model, input_file.find("h0"), input_file.find("c0"), B);
  analysis.validate();
  return analysis;
}

}  // namespace rnnscope
