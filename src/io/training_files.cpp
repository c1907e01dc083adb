#include "rnnscope/io/training_files.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <bit>
#include <cmath>
#include <limits>

#include "rnnscope/core/error.hpp"
#include "rnnscope/core/hash.hpp"
#include "rnnscope/io/model_file.hpp"
#include "rnnscope/io/number_text.hpp"

namespace rnnscope {

namespace {

/// Refuses a tensor holding a non-finite value, naming its first such entry by its index in the tensor's own
/// shape, so that the user finds it in the file: "input has a non-finite value, inf at (3, 1, 0) of (T, N, I) =
/// (10, 8, 2)".
void require_finite(const NamedTensor& t, const std::string& axes) {
  for (std::size_t k = 0; k < t.values.size(); ++k) {
    if (std::isfinite(t.values[k])) continue;
    throw InvalidInput(fmt::format("{} has a non-finite value, {} at {} of {} = {}", t.name, number_text(t.values[k]),
                                   t.position_string(k), axes, t.shape_string()));
  }
}

constexpr const char* kFormat = "rnnscope-checkpoint";
constexpr int kCurveColumns = 7;

/// Class indices from a tensor of integers (I64, or integral F32/F64).
std::vector<int> class_indices(const NamedTensor& t) {
  const std::vector<std::int64_t> v = to_integers(t);
  std::vector<int> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    require(v[i] >= 0 && v[i] < (std::int64_t{1} << 30),
            fmt::format("{}: entry {} is class {}, a class index must be >= 0", t.name, i, v[i]));
    out[i] = static_cast<int>(v[i]);
  }
  return out;
}

/// The file's tensors whose names start with prefix, with it removed.
TensorFile with_prefix(const TensorFile& file, const std::string& prefix) {
  TensorFile out;
  for (const auto& [k, v] : file.metadata)
    if (k.rfind(prefix, 0) == 0) out.metadata[k.substr(prefix.size())] = v;
  for (const auto& t : file.tensors)
    if (t.name.rfind(prefix, 0) == 0) {
      NamedTensor c = t;
      c.name = t.name.substr(prefix.size());
      out.tensors.push_back(std::move(c));
    }
  return out;
}

template <class T>
T field(const nlohmann::json& j, const char* name) {
  try {
    return j.at(name).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw InvalidInput(fmt::format("checkpoint options: missing or malformed '{}'", name));
  }
}

}  // namespace

template <Scalar S>
TrainableModel<S> load_trainable(const TensorFile& file) {
  TrainableModel<S> m{read_model_spec(file), load_model<S>(file), std::nullopt};
  const NamedTensor* w = file.find("readout.weight");
  const NamedTensor* b = file.find("readout.bias");
  require((w == nullptr) == (b == nullptr), "a readout needs both readout.weight and readout.bias");
  if (w != nullptr) {
    require(w->shape.size() == 2 && w->shape[1] == m.spec.hidden_size,
            fmt::format("readout.weight must be (O, {}), the hidden size; got {}", m.spec.hidden_size,
                        w->shape_string()));
    check_tensor_shape(*b, {w->shape[0]});
    Readout<S> r;
    r.weight = to_matrix<S>(*w);
    r.bias = to_vector<S>(*b);
    require(r.weight.allFinite() && r.bias.allFinite(), "the readout holds a non-finite value");
    m.readout = std::move(r);
  }
  return m;
}

template <Scalar S>
TensorFile save_trainable(const Model<S>& model, const Readout<S>& readout, const ModelSpec& spec) {
  ModelSpec sizes = spec;  // the sizes are the model's own
  std::visit(
      [&](const auto& stack) {
        sizes.input_size = stack.input_size();
        sizes.hidden_size = stack.output_size();
        sizes.num_layers = stack.num_layers();
      },
      model);
  TensorFile f = save_model(model, sizes);
  f.tensors.push_back(from_matrix<S>("readout.weight", readout.weight));
  f.tensors.push_back(from_vector<S>("readout.bias", readout.bias));
  return f;
}

template <Scalar S>
Dataset<S> load_dataset(const TensorFile& file, TrainLoss loss, Index classes) {
  for (const auto& t : file.tensors)
    require(t.name == "input" || t.name == "target",
            fmt::format("unexpected tensor '{}' in the data file (it holds input and target)", t.name));
  const NamedTensor& input = file.at("input");
  const NamedTensor& target = file.at("target");
  require(input.shape.size() == 3 && input.numel() > 0,
          fmt::format("input must be a non-empty (T, N, I) tensor, got {}", input.shape_string()));
  const std::int64_t T = input.shape[0], N = input.shape[1];
  Dataset<S> d;
  d.all.batch = N;
  require_finite(input, "(T, N, I)");
  d.all.input = to_sequence<S>(input);
  const bool last = is_last_step(loss);
  if (is_cross_entropy(loss)) {
    const std::vector<std::int64_t> want = last ? std::vector<std::int64_t>{N} : std::vector<std::int64_t>{T, N};
    require(target.shape == want,
            fmt::format("target for --loss {} must be class indices {}, got {}", to_string(loss),
                        last ? fmt::format("(N) = ({})", N) : fmt::format("(T, N) = ({}, {})", T, N),
                        target.shape_string()));
    d.all.labels = class_indices(target);
    int top = 0;
    for (size_t i = 0; i < d.all.labels.size(); ++i) {
      const int c = d.all.labels[i];
      require(c >= 0 && (classes == 0 || c < classes),
              fmt::format("target entry {} is class {}, outside 0..{}", i, c,
                          classes > 0 ? std::to_string(classes - 1) : std::string("")));
      top = std::max(top, c);
    }
    d.classes = classes > 0 ? classes : top + 1;
    require(d.classes >= 2, "a cross-entropy target needs at least two classes");
  } else {
    if (last) {
      require(target.shape.size() == 2 && target.shape[0] == N,
              fmt::format("target for --loss {} must be (N, O) with N = {}, got {}", to_string(loss), N,
                          target.shape_string()));
      d.all.target = to_matrix<S>(target).transpose();
    } else {
      require(target.shape.size() == 3 && target.shape[0] == T && target.shape[1] == N,
              fmt::format("target for --loss {} must be (T, N, O) with T = {}, N = {}, got {}", to_string(loss), T, N,
                          target.shape_string()));
      d.all.target = to_sequence<S>(target);
    }
    require(d.all.target.size() > 0, "target must be non-empty");
    require_finite(target, last ? "(N, O)" : "(T, N, O)");
  }
  static_assert(std::endian::native == std::endian::little, "the fingerprint hashes the values' bytes in memory");
  std::uint64_t h = kFnv1aOffset;  // over the values' bits, least significant byte first
  for (const NamedTensor* t : {&input, &target}) h = fnv1a(t->values.data(), t->values.size() * sizeof(double), h);
  d.fingerprint = h;
  return d;
}

nlohmann::json to_json(const TrainSpec& s) {
  const auto& o = s.optimizer;
  return {{"task", {{"kind", to_string(s.task.kind)}, {"T", s.task.T}, {"lag", s.task.lag}}},
          {"data_loss", to_string(s.data_loss)},
          {"model",
           {{"cell", to_string(s.model.cell)},
            {"input_size", s.model.input_size},
            {"hidden_size", s.model.hidden_size},
            {"num_layers", s.model.num_layers},
            {"bias", s.model.bias},
            {"dt", s.model.dt},
            {"skip", s.model.skip},
            {"eps", s.model.eps},
            {"gamma", s.model.gamma}}},
          {"init", to_string(s.init)},
          {"scale", s.scale},
          {"forget_bias", s.forget_bias},
          {"chrono", s.chrono},
          {"chrono_tmax", s.chrono_tmax},
          {"optimizer",
           {{"kind", to_string(o.kind)},
            {"lr", o.lr},
            {"momentum", o.momentum},
            {"dampening", o.dampening},
            {"nesterov", o.nesterov},
            {"weight_decay", o.weight_decay},
            {"beta1", o.beta1},
            {"beta2", o.beta2},
            {"eps", o.eps},
            {"alpha", o.alpha}}},
          {"clip", {{"norm", s.clip.norm}, {"value", s.clip.value}}},
          {"batch", s.batch},
          {"steps", s.steps},
          {"eval_every", s.eval_every},
          {"eval_size", s.eval_size},
          {"checkpoint_every", s.checkpoint_every},
          {"seed", s.seed}};
}

TrainSpec train_spec_from_json(const nlohmann::json& j) {
  TrainSpec s;
  const auto& task = j.at("task");
  const std::string kind = field<std::string>(task, "kind");
  s.task.kind = kind == "data" ? TaskKind::data : parse_task(kind);
  s.task.T = field<Index>(task, "T");
  s.task.lag = field<Index>(task, "lag");
  s.data_loss = parse_train_loss(field<std::string>(j, "data_loss"));
  const auto& m = j.at("model");
  s.model.cell = parse_cell(field<std::string>(m, "cell"));
  s.model.input_size = field<Index>(m, "input_size");
  s.model.hidden_size = field<Index>(m, "hidden_size");
  s.model.num_layers = field<Index>(m, "num_layers");
  s.model.bias = field<bool>(m, "bias");
  s.model.dt = field<double>(m, "dt");
  // Written since the skip and antisymmetric cells; a folder from before has none of the three.
  if (m.contains("skip")) s.model.skip = field<Index>(m, "skip");
  if (m.contains("eps")) s.model.eps = field<double>(m, "eps");
  if (m.contains("gamma")) s.model.gamma = field<double>(m, "gamma");
  s.init = parse_init(field<std::string>(j, "init"));
  s.scale = field<double>(j, "scale");
  s.forget_bias = field<double>(j, "forget_bias");
  s.chrono = field<bool>(j, "chrono");
  s.chrono_tmax = field<double>(j, "chrono_tmax");
  const auto& o = j.at("optimizer");
  s.optimizer.kind = parse_optimizer(field<std::string>(o, "kind"));
  s.optimizer.lr = field<double>(o, "lr");
  s.optimizer.momentum = field<double>(o, "momentum");
  s.optimizer.dampening = field<double>(o, "dampening");
  s.optimizer.nesterov = field<bool>(o, "nesterov");
  s.optimizer.weight_decay = field<double>(o, "weight_decay");
  s.optimizer.beta1 = field<double>(o, "beta1");
  s.optimizer.beta2 = field<double>(o, "beta2");
  s.optimizer.eps = field<double>(o, "eps");
  s.optimizer.alpha = field<double>(o, "alpha");
  s.clip.norm = field<double>(j.at("clip"), "norm");
  s.clip.value = field<double>(j.at("clip"), "value");
  s.batch = field<Index>(j, "batch");
  s.steps = field<Index>(j, "steps");
  s.eval_every = field<Index>(j, "eval_every");
  s.eval_size = field<Index>(j, "eval_size");
  s.checkpoint_every = field<Index>(j, "checkpoint_every");
  s.seed = field<std::uint64_t>(j, "seed");
  return s;
}

template <Scalar S>
TensorFile checkpoint_file(const TrainSpec& spec, const ModelSpec& model_spec, const TrainState<S>& state,
                           const std::map<std::string, std::string>& extra) {
  TensorFile f;
  const TensorFile model = save_trainable(state.model, state.readout, model_spec);
  for (const auto& [k, v] : model.metadata) f.metadata["model." + k] = v;
  for (const auto& t : model.tensors) {
    NamedTensor c = t;
    c.name = "model." + t.name;
    f.tensors.push_back(std::move(c));
  }
  for (const auto& [name, buffer] : state.optimizer.state())
    f.tensors.push_back(from_vector<S>("optim." + name, *buffer));
  if (!state.curve.empty()) {
    Mat<double> curve(static_cast<Index>(state.curve.size()), kCurveColumns);
    for (size_t i = 0; i < state.curve.size(); ++i) {
      const CurveRow& r = state.curve[i];
      curve.row(static_cast<Index>(i)) << static_cast<double>(r.step), r.train_loss, r.eval_loss, r.eval_metric,
          r.grad_norm, r.clipped ? 1.0 : 0.0, r.seconds;
    }
    f.tensors.push_back(from_matrix<double>("curve", curve));
  }
  if (!state.flow.empty()) {
    const Index T = static_cast<Index>(state.flow.front().log10_ratio.size());
    Vec<double> steps(static_cast<Index>(state.flow.size()));
    Mat<double> ratio(static_cast<Index>(state.flow.size()), T);
    for (size_t i = 0; i < state.flow.size(); ++i) {
      steps[static_cast<Index>(i)] = static_cast<double>(state.flow[i].step);
      for (Index d = 0; d < T; ++d) ratio(static_cast<Index>(i), d) = state.flow[i].log10_ratio[static_cast<size_t>(d)];
    }
    f.tensors.push_back(from_vector<double>("flow.steps", steps));
    f.tensors.push_back(from_matrix<double>("flow.log10_ratio", ratio));
  }
  f.metadata["format"] = kFormat;
  f.metadata["version"] = "1";
  f.metadata["spec"] = to_json(spec).dump();
  f.metadata["state"] = nlohmann::json{{"step", state.step},
                                       {"optimizer_steps", state.optimizer.steps()},
                                       {"seconds", state.seconds},
                                       {"max_grad_norm", state.max_grad_norm},
                                       {"solved_at", state.solved_at ? nlohmann::json(*state.solved_at) : nullptr}}
                            .dump();
  for (const auto& [k, v] : extra) f.metadata[k] = v;
  return f;
}

TrainSpec checkpoint_spec(const TensorFile& file) {
  const auto it = file.metadata.find("format");
  require(it != file.metadata.end() && it->second == kFormat, "not an rnnscope training checkpoint");
  try {
    return train_spec_from_json(nlohmann::json::parse(file.metadata_at("spec")));
  } catch (const nlohmann::json::exception& e) {
    throw InvalidInput(fmt::format("checkpoint options are not readable: {}", e.what()));
  }
}

DType checkpoint_dtype(const TensorFile& file) {
  return file.at("model.weight_hh_l0").dtype;
}

namespace {

/// A step stored as a double (a curve or flow row): a whole number in 0..limit, else InvalidInput naming it.
/// Converting a double outside Index's range to it would be undefined behaviour (found by the fuzz target).
Index stored_step(double v, Index limit, const std::string& what) {
  require(std::isfinite(v) && v >= 0 && v <= static_cast<double>(limit) && v == std::floor(v),
          fmt::format("checkpoint: {} holds the step {}, not a whole number in 0..{}", what, v, limit));
  return static_cast<Index>(v);
}

/// An integer of the checkpoint's state JSON, in 0..limit (a JSON float or a huge value is refused by name,
/// not converted).
Index json_step(const nlohmann::json& j, const std::string& key, Index limit) {
  // Missing, the key is refused by name here: a caller may read it outside its catch of JSON's exceptions (a
  // state without optimizer_steps ended the process: found by the fuzz target).
  require(j.is_object() && j.contains(key), fmt::format("checkpoint state: missing field '{}'", key));
  const nlohmann::json& v = j.at(key);
  require(v.is_number_integer() && v.get<std::int64_t>() >= 0 && v.get<std::int64_t>() <= limit,
          fmt::format("checkpoint state: {} must be a whole number in 0..{}, got {}", key, limit, v.dump()));
  return static_cast<Index>(v.get<std::int64_t>());
}

}  // namespace

template <Scalar S>
TrainState<S> restore_checkpoint(const TensorFile& file, const TrainSpec& spec, const Dataset<S>* data) {
  TrainableModel<S> m = load_trainable<S>(with_prefix(file, "model."));
  require(m.readout.has_value(), "checkpoint: the readout is missing");
  TrainState<S> state = initial_state<S>(spec, std::move(m.model), std::move(m.readout), data);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(file.metadata_at("state"));
    state.step = json_step(j, "step", spec.steps);
    state.seconds = j.at("seconds").get<double>();
    state.max_grad_norm = j.at("max_grad_norm").get<double>();
    if (!j.at("solved_at").is_null()) state.solved_at = json_step(j, "solved_at", spec.steps);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidInput(fmt::format("checkpoint state is not readable: {}", e.what()));
  }
  require(state.step >= 0 && state.step <= spec.steps,
          fmt::format("checkpoint is at step {}, beyond the {} steps asked for", state.step, spec.steps));
  std::vector<ParamSlot<S>> slots;
  std::visit([&](auto& stack) {
    stack.for_each_param([&](const char* name, auto& t) { slots.push_back({name, t.data(), nullptr, t.size()}); });
  }, state.model);
  state.readout.for_each([&](const char* name, auto& t) { slots.push_back({name, t.data(), nullptr, t.size()}); });
  state.optimizer.restore(std::span<const ParamSlot<S>>(slots), json_step(j, "optimizer_steps", Index{1} << 52),
                          [&](const std::string& name) -> const std::vector<double>* {
                            const NamedTensor* t = file.find("optim." + name);
                            return t != nullptr ? &t->values : nullptr;
                          });
  if (const NamedTensor* c = file.find("curve")) {
    require(c->shape.size() == 2 && c->shape[1] == kCurveColumns, "checkpoint: curve must be (rows, 7)");
    for (std::int64_t i = 0; i < c->shape[0]; ++i) {
      const double* r = &c->values[static_cast<size_t>(i * kCurveColumns)];
      state.curve.push_back({stored_step(r[0], spec.steps, "curve"), r[1], r[2], r[3], r[4], r[5] != 0, r[6]});
    }
  }
  if (const NamedTensor* steps = file.find("flow.steps")) {
    const NamedTensor& ratio = file.at("flow.log10_ratio");
    require(ratio.shape.size() == 2 && ratio.shape[0] == steps->numel(),
            "checkpoint: flow.log10_ratio must have a row per entry of flow.steps");
    const std::int64_t T = ratio.shape[1];
    for (std::int64_t i = 0; i < ratio.shape[0]; ++i)
      state.flow.push_back({stored_step(steps->values[static_cast<size_t>(i)], spec.steps, "flow.steps"),
                            std::vector<double>(ratio.values.begin() + i * T, ratio.values.begin() + (i + 1) * T)});
  }
  return state;
}

template TrainableModel<float> load_trainable(const TensorFile&);
template TrainableModel<double> load_trainable(const TensorFile&);
template TensorFile save_trainable(const Model<float>&, const Readout<float>&, const ModelSpec&);
template TensorFile save_trainable(const Model<double>&, const Readout<double>&, const ModelSpec&);
template Dataset<float> load_dataset(const TensorFile&, TrainLoss, Index);
template Dataset<double> load_dataset(const TensorFile&, TrainLoss, Index);
template TensorFile checkpoint_file(const TrainSpec&, const ModelSpec&, const TrainState<float>&,
                                    const std::map<std::string, std::string>&);
template TensorFile checkpoint_file(const TrainSpec&, const ModelSpec&, const TrainState<double>&,
                                    const std::map<std::string, std::string>&);
template TrainState<float> restore_checkpoint(const TensorFile&, const TrainSpec&, const Dataset<float>*);
template TrainState<double> restore_checkpoint(const TensorFile&, const TrainSpec&, const Dataset<double>*);

}  // namespace rnnscope
