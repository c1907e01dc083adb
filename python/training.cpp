// rnnscope.train and rnnscope.learnability: the library's training loop
// (training/trainer.hpp) and learnability study (studies/learnability.hpp), as
// `rnnscope train` and `rnnscope learnability` run them, with a Python callable
// told of every step or run.
#include <fmt/format.h>
#include <pybind11/stl.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

#include "bindings.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/io/learnability_files.hpp"
#include "rnnscope/io/training_files.hpp"
#include "rnnscope/report/learnability.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace rnnscope::python {

namespace {

using namespace pybind11::literals;

// A dict as JSON, through Python's own encoder (numbers, strings, booleans, nested dicts).
nlohmann::json to_json_value(const py::object& o) {
  return nlohmann::json::parse(std::string(py::str(py::module_::import("json").attr("dumps")(o))));
}

py::object from_json_value(const nlohmann::json& j) { return py::module_::import("json").attr("loads")(j.dump()); }

// The spec of a run: `rnnscope train`'s defaults (the Options of src/cli/cmd_train.cpp, where the library's
// TrainSpec leaves a field at a placeholder such as hidden_size 1) with `options` merged in (RFC 7386),
// validated; the model's input size is the task's. As with the command's --optimizer, an optimiser chosen
// without a weight decay gets its torch.optim default.
TrainSpec train_spec(const py::dict& options) {
  nlohmann::json j = to_json(TrainSpec{});
  j.merge_patch({{"task", {{"kind", "adding"}, {"T", 100}}},
                 {"model", {{"cell", "lstm"}, {"hidden_size", 128}}},
                 {"optimizer", {{"kind", "adam"}, {"lr", 1e-2}}},
                 {"clip", {{"norm", 1.0}}},
                 {"batch", 50},
                 {"steps", 2000},
                 {"eval_every", 100},
                 {"eval_size", 500},
                 {"checkpoint_every", 500}});
  const nlohmann::json patch = to_json_value(options);
  j.merge_patch(patch);
  TrainSpec spec = train_spec_from_json(j);
  const auto optimizer = patch.find("optimizer");
  if (optimizer != patch.end() && optimizer->is_object() && !optimizer->contains("weight_decay"))
    spec.optimizer.weight_decay = OptimizerSpec::default_weight_decay(spec.optimizer.kind);
  if (spec.task.kind != TaskKind::data) spec.model.input_size = spec.task.input_size();
  return spec;
}

py::dict curve_columns(const std::vector<CurveRow>& curve) {
  std::vector<std::int64_t> step;
  std::vector<double> train_loss, eval_loss, eval_metric, grad_norm, clipped, seconds;
  for (const auto& r : curve) {
    step.push_back(r.step);
    train_loss.push_back(r.train_loss);
    eval_loss.push_back(r.eval_loss);
    eval_metric.push_back(r.eval_metric);
    grad_norm.push_back(r.grad_norm);
    clipped.push_back(r.step > 0 ? (r.clipped ? 1.0 : 0.0) : NAN);  // empty at step 0 in curve.csv
    seconds.push_back(r.seconds);
  }
  const auto arr = [](const auto& v) { return py::array(static_cast<py::ssize_t>(v.size()), v.data()); };
  return py::dict("step"_a = arr(step), "train_loss"_a = arr(train_loss), "eval_loss"_a = arr(eval_loss),
                  "eval_metric"_a = arr(eval_metric), "grad_norm"_a = arr(grad_norm), "clipped"_a = arr(clipped),
                  "seconds"_a = arr(seconds));
}

py::dict row_dict(const CurveRow& r) {
  return py::dict("step"_a = r.step, "train_loss"_a = r.train_loss, "eval_loss"_a = r.eval_loss,
                  "eval_metric"_a = r.eval_metric, "grad_norm"_a = r.grad_norm, "clipped"_a = r.clipped,
                  "seconds"_a = r.seconds);
}

// A table as a dict of its columns: a column of numbers (an empty cell: NaN) as float64, any other as strings.
py::dict columns(const CsvTable& t) {
  py::dict out;
  for (size_t c = 0; c < t.header.size(); ++c) {
    std::vector<double> numbers;
    std::vector<std::string> text;
    bool numeric = true;
    for (const auto& row : t.rows) {
      const std::string& cell = row[c];
      char* end = nullptr;
      const double v = cell.empty() ? NAN : std::strtod(cell.c_str(), &end);
      numeric = numeric && (cell.empty() || (end != cell.c_str() && *end == '\0'));
      numbers.push_back(v);
      text.push_back(cell);
    }
    out[py::str(t.header[c])] = numeric
                                    ? py::object(py::array(static_cast<py::ssize_t>(numbers.size()), numbers.data()))
                                    : py::module_::import("numpy").attr("array")(text);
  }
  return out;
}

py::dict learnability(const std::vector<std::string>& cells, const std::vector<std::string>& inits,
                      const std::vector<Index>& lengths, int seeds, const py::dict& options, bool f64,
                      const py::object& progress, int threads) {
  LearnabilitySpec spec;
  spec.arms = parse_arms(cells, inits);
  spec.lengths = lengths;
  spec.seeds = seeds;
  spec.train = train_spec(options);
  spec.f64 = f64;
  const auto grid = LearnabilityStudy::tasks(spec);  // validates
  require(threads >= 0 && threads <= 1024, fmt::format("threads must be in 0..1024, got {}", threads));
#ifdef _OPENMP
  const int processors = omp_get_max_threads();  // OMP_NUM_THREADS, else every core
#else
  const int processors = 1;
#endif
  const int workers = threads > 0 ? threads : processors;
  require(progress.is_none() || PyCallable_Check(progress.ptr()), "progress must be None or a callable taking a dict");
  // A Python exception in the callable (KeyboardInterrupt included) starts no more runs and is raised after.
  std::optional<py::error_already_set> raised;
  LearnabilityHooks hooks;
  hooks.stop_requested = [&] {
    py::gil_scoped_acquire gil;
    if (!raised && PyErr_CheckSignals() != 0) raised.emplace();
    return raised.has_value();
  };
  hooks.on_row = [&](const LearnabilityRow& r) {
    if (progress.is_none()) return;
    py::gil_scoped_acquire gil;
    if (raised) return;
    try {
      progress(py::dict("cell"_a = r.cell, "init"_a = r.init, "T"_a = r.T, "seed"_a = r.seed, "solved"_a = r.solved,
                        "end"_a = r.end, "steps"_a = r.steps, "seconds"_a = r.seconds));
    } catch (py::error_already_set& err) {
      raised.emplace(std::move(err));
    }
  };
  std::vector<LearnabilityRow> rows;
  {
    Computing computing;
    rows = run_learnability(spec, grid, workers, hooks);
  }
  if (raised) throw std::move(*raised);
  const LearnabilityResult result = LearnabilityStudy::reduce(spec, std::move(rows));
  return py::dict("runs"_a = columns(runs_table(spec, result.rows)), "blocks"_a = columns(blocks_table(result.rows)),
                  "rates"_a = columns(rates_table(spec, result)), "study"_a = from_json_value(to_json(spec)));
}

template <Scalar S>
py::dict train_in(TrainSpec spec, const std::optional<PyModel>& start, const std::optional<py::dict>& data_arrays,
                  const py::object& progress, int threads) {
  std::optional<Dataset<S>> data;
  if (spec.task.kind == TaskKind::data) {
    require(data_arrays.has_value(), "a 'data' task needs data={'input': (T, N, I), 'target': ...}");
    TensorFile f;
    for (const auto& [key, value] : *data_arrays) {
      const std::string name = py::str(key);
      require(py::isinstance<py::array>(value), fmt::format("data '{}' is not a numpy array", name));
      const auto a = py::cast<py::array>(value);
      const bool integral = a.dtype().kind() == 'i';
      NamedTensor t = integral ? NamedTensor{name, DType::i64, {}, {}} : to_named_tensor(name, a);
      if (integral) {
        const auto c = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
        for (py::ssize_t d = 0; d < c.ndim(); ++d) t.shape.push_back(c.shape(d));
        t.values.assign(c.data(), c.data() + c.size());
      }
      f.tensors.push_back(std::move(t));
    }
    const Index classes = 0;
    data = load_dataset<S>(f, spec.data_loss, classes);
  } else {
    require(!data_arrays.has_value(), "data= is only for the task kind 'data'");
  }
  const Dataset<S>* d = data ? &*data : nullptr;
  spec.model.input_size = d ? d->all.input.rows() : spec.task.input_size();
  std::optional<TrainState<S>> state;
  if (start) {
    spec.model = start->spec;
    state = initial_state<S>(spec, std::get<Model<S>>(start->model), std::nullopt, d);
  } else {
    state = initial_state<S>(spec, std::nullopt, std::nullopt, d);
  }
  const Execution e = execution(threads);

  // tqdm's bar when progress is True and tqdm is installed; a callable is called with each step's row.
  py::object bar = py::none(), callback = py::none();
  if (py::isinstance<py::bool_>(progress)) {
    if (progress.cast<bool>()) {
      try {
        bar = py::module_::import("tqdm").attr("tqdm")("total"_a = spec.steps - state->step, "unit"_a = "step");
      } catch (const py::error_already_set&) {
        // tqdm is not installed: no bar.
      }
    }
  } else if (!progress.is_none()) {
    require(PyCallable_Check(progress.ptr()), "progress must be None, True or a callable taking a dict");
    callback = progress;
  }
  // A Python exception in the callback (KeyboardInterrupt included) stops the run and is raised after it.
  std::optional<py::error_already_set> raised;
  bool interrupted = false;
  TrainHooks<S> hooks;
  hooks.stop_requested = [&] {
    py::gil_scoped_acquire gil;
    if (!interrupted && PyErr_CheckSignals() != 0) {
      raised.emplace();
      interrupted = true;
    }
    return interrupted;
  };
  hooks.on_step = [&](const CurveRow& row) {
    if (callback.is_none() && bar.is_none()) return;
    py::gil_scoped_acquire gil;
    if (interrupted) return;
    try {
      if (!bar.is_none() && row.step > 0) {  // step 0 is the evaluation before the first step
        bar.attr("update")(1);
        if (!std::isnan(row.train_loss)) bar.attr("set_postfix")("loss"_a = row.train_loss);
      }
      if (!callback.is_none()) callback(row_dict(row));
    } catch (py::error_already_set& err) {
      raised.emplace(std::move(err));
      interrupted = true;
    }
  };
  TrainOutcome outcome;
  {
    Computing computing;
    outcome = train<S>(spec, *state, e, hooks, d);
  }
  if (!bar.is_none()) bar.attr("close")();
  if (raised) throw std::move(*raised);

  std::vector<std::int64_t> flow_step, flow_d;
  std::vector<double> flow_ratio;
  for (const auto& r : state->flow)
    for (size_t i = 0; i < r.log10_ratio.size(); ++i) {
      flow_step.push_back(r.step);
      flow_d.push_back(static_cast<std::int64_t>(i));
      flow_ratio.push_back(r.log10_ratio[i]);
    }
  const auto arr = [](const auto& v) { return py::array(static_cast<py::ssize_t>(v.size()), v.data()); };
  const char* end = outcome.end == TrainOutcome::End::finished      ? "finished"
                    : outcome.end == TrainOutcome::End::interrupted ? "interrupted"
                                                                    : "diverged";
  py::dict out;
  out["model"] = PyModel{spec.model, std::move(state->model)};
  out["readout.weight"] = matrix_array<S>(std::move(state->readout.weight));
  out["readout.bias"] = vector_array<S>(std::move(state->readout.bias));
  out["curve"] = curve_columns(state->curve);
  out["gradient_flow"] = py::dict("step"_a = arr(flow_step), "d"_a = arr(flow_d), "log10_ratio"_a = arr(flow_ratio));
  out["end"] = end;
  out["message"] = outcome.message;
  out["step"] = state->step;
  out["solved_at"] = state->solved_at ? py::object(py::int_(*state->solved_at)) : py::none();
  out["spec"] = from_json_value(to_json(spec));
  return out;
}

}  // namespace

void register_training(py::module_& m) {
  m.def("learnability", &learnability, py::kw_only(), py::arg("cells"), py::arg("inits"), py::arg("T"),
        py::arg("seeds") = 3, py::arg("options") = py::dict(), py::arg("f64") = false, py::arg("progress") = py::none(),
        py::arg("threads") = 0,
        "The learnability study of `rnnscope learnability`: a grid of training runs, every cell and initialisation "
        "(cells, inits as --cells and --inits, e.g. ['lstm', 'rnn_tanh'], ['pytorch', 'rnn_tanh:orthogonal']) at "
        "every length T (a list) with `seeds` seeds, each run as train(options) gives it (the task's kind, the "
        "sizes, the optimiser, the steps of each run at most), in float32 or, with f64, float64; on `threads` "
        "workers (0: OMP_NUM_THREADS, else every core), one run per thread. progress: a callable called with each "
        "finished run's row. Returns the tables runs, blocks and rates (runs.csv, blocks.csv and rates.csv's "
        "columns) and study (study.json).");
  m.def(
      "train_spec", [](const py::dict& options) { return from_json_value(to_json(train_spec(options))); },
      py::arg("options") = py::dict(),
      "The spec of a training run as `rnnscope train` stores it (task, model, init, optimizer, clip, batch, "
      "steps, eval_every, eval_size, seed, ...): the command's defaults with `options` merged in (nested dicts "
      "merge), validated.");
  m.def(
      "train",
      [](const py::dict& options, const std::optional<PyModel>& model, const std::optional<py::dict>& data,
         const std::string& dtype, const py::object& progress, int threads) {
        const TrainSpec spec = train_spec(options);
        require(dtype == "float32" || dtype == "float64",
                fmt::format("dtype must be 'float32' or 'float64', got '{}'", dtype));
        const bool f32 = model ? model->dtype() == DType::f32 : dtype == "float32";
        return f32 ? train_in<float>(spec, model, data, progress, threads)
                   : train_in<double>(spec, model, data, progress, threads);
      },
      py::arg("options") = py::dict(), py::kw_only(), py::arg("model") = py::none(), py::arg("data") = py::none(),
      py::arg("dtype") = "float32", py::arg("progress") = py::none(), py::arg("threads") = 0,
      "Trains a recurrent model with a linear readout, as `rnnscope train` does. options: the run's spec as "
      "train_spec() gives it, only the keys that differ (e.g. {'task': {'kind': 'adding', 'T': 50}, "
      "'model': {'cell': 'lstm', 'hidden_size': 32}, 'steps': 500}). model: a Model to start from (its cell and "
      "sizes, and its dtype, win). data: for the task kind 'data', {'input': (T, N, I), 'target': ...} as the "
      "command's data file. progress: a callable called with each step's row (step, train_loss, eval_loss, "
      "eval_metric, grad_norm, clipped, seconds), or True for a tqdm bar when tqdm is installed; an exception it "
      "raises (and Ctrl-C) stops the run and is raised. Returns model, readout.weight, readout.bias, curve "
      "(curve.csv's columns), gradient_flow (gradient_flow.csv's), end (finished, interrupted, diverged), "
      "message, step, solved_at and spec.");
}

}  // namespace rnnscope::python
