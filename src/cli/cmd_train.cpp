// rnnscope train: trains a recurrent model with a linear readout on a
// long-range task or the user's data (training/trainer.hpp), writing the model,
// a checkpoint to resume from, the learning curve and the gradient flow
// recorded while it learned. SIGINT and SIGTERM stop it after the current step
// with a checkpoint written; --resume DIR continues bit for bit.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>

#include "commands.hpp"
#include "common.hpp"
#include "processes.hpp"
#include "stop_signals.hpp"
#include "training_options.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/io/model_file.hpp"
#include "rnnscope/io/training_files.hpp"
#include "rnnscope/report/training.hpp"

namespace rnnscope::cli {

namespace {

namespace fs = std::filesystem;

struct Options {
  RunOptions run;
  TrainingOptions train;
  std::string task = "adding", cell = "lstm", init = "pytorch", model, data, loss = "mse_last", resume;
  Index T = 100, lag = -1, checkpoint_every = 500;
};

TrainSpec spec_of(const Options& o, const CLI::App* cmd) {
  TrainSpec s = training_spec(o.train, cmd, o.init == "chrono");
  if (!o.data.empty()) {
    require(!given(cmd, "--task"), "--task and --data exclude each other: --data is the task");
    s.task.kind = TaskKind::data;
    s.data_loss = parse_train_loss(o.loss);
  } else {
    require(!given(cmd, "--loss"), "--loss is for --data; a task has its own loss");
    s.task.kind = parse_task(o.task);
    s.task.T = o.T;
    s.task.lag = o.lag;
    s.task.validate();
  }
  s.model.cell = parse_cell(o.cell);
  if (o.init == "chrono") {
    s.init = Init::pytorch;
    s.chrono = true;
  } else {
    s.init = parse_init(o.init);
  }
  s.checkpoint_every = o.checkpoint_every;
  if (o.model.empty()) refuse_inert_options(cmd, {s.model.cell}, {s.chrono ? Init::pytorch : s.init}, s.model.bias);
  return s;
}

/// Everything a run needs, read and validated before the output folder is touched.
template <Scalar S>
struct Prepared {
  TrainSpec spec;
  ModelSpec model_spec;  // the names and metadata model.safetensors is written with
  std::optional<Dataset<S>> data;
  std::string data_path;
  std::optional<TrainState<S>> state;
  std::optional<OutputFolder> out;
};

/// Each process trains on a share of every minibatch: at least one sequence.
void check_batch_for_processes(const TrainSpec& spec) {
  require(spec.batch >= Processes::size(),
          fmt::format("--batch {} is smaller than the {} processes: each needs at least one sequence of every "
                      "minibatch; lower -np or raise --batch",
                      spec.batch, Processes::size()));
}

template <Scalar S>
Dataset<S> read_data(const std::string& path, TrainLoss loss, Index classes) {
  try {
    return load_dataset<S>(read_safetensors(path), loss, classes);
  } catch (const InvalidInput& e) {
    throw InvalidInput(fmt::format("--data {}: {}", path, e.what()));
  }
}

template <Scalar S>
Prepared<S> prepare_fresh(const Options& o, const CLI::App* cmd, bool writer) {
  Prepared<S> p;
  p.spec = spec_of(o, cmd);
  std::optional<TrainableModel<S>> file_model;
  if (!o.model.empty()) {
    for (const char* option : {"--cell", "--hidden", "--layers", "--no-bias", "--dt", "--init", "--scale",
                               "--forget-bias", "--chrono-tmax"})
      require(!given(cmd, option), fmt::format("{} does not apply with --model, which holds the model", option));
    try {
      file_model = load_trainable<S>(read_safetensors(o.model));
    } catch (const InvalidInput& e) {
      throw InvalidInput(fmt::format("--model {}: {}", o.model, e.what()));
    }
    p.spec.model = file_model->spec;
  }
  if (p.spec.task.kind == TaskKind::data) {
    const Index classes = file_model && file_model->readout ? file_model->readout->output_size() : 0;
    p.data = read_data<S>(o.data, p.spec.data_loss, classes);
    p.data_path = fs::absolute(o.data).string();
  }
  const Dataset<S>* data = p.data ? &*p.data : nullptr;
  p.spec.model.input_size = data ? data->all.input.rows() : p.spec.task.input_size();
  // The run's memory against --max-memory before the model is initialised (train() tells the time).
  p.spec.validate(data ? data->size() : 0);
  Execution memory_only = execution(o.run);
  check_cost(train_cost<S>(p.spec, nullptr, data), memory_only);
  if (file_model)
    p.state = initial_state<S>(p.spec, std::move(file_model->model), std::move(file_model->readout), data);
  else
    p.state = initial_state<S>(p.spec, std::nullopt, std::nullopt, data);
  p.model_spec = p.spec.model;
  check_batch_for_processes(p.spec);
  if (writer) p.out.emplace(o.run.out, o.run.force);
  return p;
}

template <Scalar S>
Prepared<S> prepare_resume(const Options& o, const CLI::App* cmd, const TensorFile& checkpoint, bool writer) {
  Prepared<S> p;
  p.spec = checkpoint_spec(checkpoint);
  if (given(cmd, "--steps")) p.spec.steps = o.train.steps;
  p.model_spec = read_model_spec([&] {
    TensorFile m;
    for (const auto& [k, v] : checkpoint.metadata)
      if (k.rfind("model.", 0) == 0) m.metadata[k.substr(6)] = v;
    for (const auto& t : checkpoint.tensors)
      if (t.name.rfind("model.", 0) == 0 && t.name.find("readout.") == std::string::npos) {
        NamedTensor c = t;
        c.name = t.name.substr(6);
        m.tensors.push_back(std::move(c));
      }
    return m;
  }());
  if (p.spec.task.kind == TaskKind::data) {
    p.data_path = checkpoint.metadata_at("data_file");
    p.data = read_data<S>(p.data_path, p.spec.data_loss, 0);
    require(fmt::format("{:016x}", p.data->fingerprint) == checkpoint.metadata_at("data_fingerprint"),
            fmt::format("--data {} has changed since the run began; a resume needs the same data", p.data_path));
  }
  p.state = restore_checkpoint<S>(checkpoint, p.spec, p.data ? &*p.data : nullptr);
  check_batch_for_processes(p.spec);
  if (writer) p.out.emplace(OutputFolder::reopen(o.resume));
  return p;
}

/// A process other than 0 of a distributed run: trains its share of each
/// minibatch and writes nothing.
template <Scalar S>
void serve(Prepared<S>& p, const Options& o) {
  Execution e = execution(o.run);
  e.collective = Processes::collective();
  StopSignals signals;
  TrainHooks<S> hooks;
  hooks.stop_requested = [] { return StopSignals::requested(); };
  train<S>(p.spec, *p.state, e, hooks, p.data ? &*p.data : nullptr);
}

template <Scalar S>
void run_typed(Prepared<S>& p, const Options& o, const CLI::App* cmd, const TensorFile* checkpoint) {
  const TrainSpec& spec = p.spec;
  TrainState<S>& state = *p.state;
  OutputFolder& out = *p.out;
  const Dataset<S>* data = p.data ? &*p.data : nullptr;
  int threads = o.run.threads;
  if (checkpoint && !given(cmd, "--threads")) {
    const auto it = checkpoint->metadata.find("threads");
    if (it != checkpoint->metadata.end()) threads = std::stoi(it->second);
  }
  std::map<std::string, std::string> extra = {{"threads", std::to_string(threads)}};
  if (data) {
    extra["data_file"] = p.data_path;
    extra["data_fingerprint"] = fmt::format("{:016x}", data->fingerprint);
  }
  const auto save_checkpoint = [&](const TrainState<S>& s) {
    out.file("checkpoint.safetensors", serialize_safetensors(checkpoint_file(spec, p.model_spec, s, extra)));
    out.table("curve.csv", curve_table(s.curve));
  };

  Progress progress(o.run.quiet);
  RunOptions run = o.run;
  run.threads = threads;
  Execution e = execution(run, &progress);
  e.collective = Processes::collective();
  const Index first = state.step;
  progress.begin("training", static_cast<int>(std::max<Index>(1, spec.steps - first)));
  const auto start = std::chrono::steady_clock::now();
  double recent_loss = 0;
  Index recent = 0;
  TrainHooks<S> hooks;
  StopSignals signals;
  hooks.stop_requested = [] { return StopSignals::requested(); };
  hooks.checkpoint = save_checkpoint;
  hooks.on_step = [&](const CurveRow& row) {
    if (row.step == 0) {
      progress.note(fmt::format("step 0: eval loss {:.4g}, metric {:.3f}", row.eval_loss, row.eval_metric));
      return;
    }
    recent_loss += row.train_loss;
    ++recent;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = elapsed > 0 ? static_cast<double>(row.step - first) / elapsed : 0.0;
    progress.status(fmt::format("loss {:.4g}, {:.0f} steps/s", row.train_loss, rate));
    progress.advance(1);
    if (!std::isnan(row.eval_loss)) {
      progress.note(fmt::format("step {}: train loss {:.4g}, eval loss {:.4g}, metric {:.3f}, {:.0f} steps/s",
                                row.step, recent_loss / static_cast<double>(recent), row.eval_loss, row.eval_metric,
                                rate));
      recent_loss = 0;
      recent = 0;
    }
  };
  const TrainOutcome outcome = train<S>(spec, state, e, hooks, data);
  progress.end();

  std::string stopped;
  if (outcome.end == TrainOutcome::End::interrupted) stopped = fmt::format("interrupted at step {}", state.step);
  if (outcome.end == TrainOutcome::End::diverged) stopped = outcome.message;
  if (outcome.end != TrainOutcome::End::diverged) {
    out.file("model.safetensors", serialize_safetensors(save_trainable(state.model, state.readout, p.model_spec)));
    save_checkpoint(state);
  }
  const TrainingRecord record = training_record(spec, state, sequence_length(spec, data), stopped);
  Section s = training_section(out, record);
  s.summary["options"] = to_json(spec);  // every option, as the checkpoint holds them
  nlohmann::json facts = {
      {"command", "train"},
      {"task", spec.task.kind == TaskKind::data ? p.data_path : std::string(to_string(spec.task.kind))},
      {"cell", std::string(to_string(p.model_spec.cell))},
      {"hidden", p.model_spec.hidden_size},
      {"layers", p.model_spec.num_layers},
      {"optimizer", std::string(to_string(spec.optimizer.kind))},
      {"lr", spec.optimizer.lr},
      {"batch", spec.batch},
      {"steps", spec.steps},
      {"dtype", std::is_same_v<S, double> ? "f64" : "f32"},
      {"init", spec.chrono ? std::string("chrono") : std::string(to_string(spec.init))},
      {"clip-norm", spec.clip.norm},
      {"seed", spec.seed}};
  write_index(out, "rnnscope train", s.html.title, facts, {s});
  print_sections({s}, out);
  if (outcome.end == TrainOutcome::End::interrupted)
    throw Interrupted(fmt::format("stopped at step {} with a checkpoint; continue with: rnnscope train --resume {} "
                                  "--steps {}",
                                  state.step, out.dir().string(), spec.steps));
  if (outcome.end == TrainOutcome::End::diverged)
    throw CommandFailed(outcome.message + fmt::format("; the last checkpoint in {} is kept", out.dir().string()));
}

/// Reads and validates everything the run needs (the checkpoint, the model,
/// the data) and, on the writing process, opens the output folder; returns
/// the training itself.
template <Scalar S>
std::function<void()> prepared_run(const Options& o, const CLI::App* cmd,
                                   const std::shared_ptr<const TensorFile>& checkpoint,
                                   bool writer) {
  auto p = std::make_shared<Prepared<S>>(checkpoint ? prepare_resume<S>(o, cmd, *checkpoint, writer)
                                                    : prepare_fresh<S>(o, cmd, writer));
  if (!writer) return [p, &o] { serve<S>(*p, o); };
  return [p, &o, cmd, checkpoint] { run_typed<S>(*p, o, cmd, checkpoint.get()); };
}

std::function<void()> prepare(const Options& o, const CLI::App* cmd, bool writer) {
  if (!o.resume.empty()) {
    refuse_with_resume(cmd, {"--steps", "--threads", "--quiet", "--max-memory"}, "run");
    const fs::path path = fs::path(o.resume) / "checkpoint.safetensors";
    require(fs::exists(path), fmt::format("--resume {}: no checkpoint.safetensors there", o.resume));
    auto checkpoint = std::make_shared<const TensorFile>(read_safetensors(path));
    checkpoint_spec(*checkpoint);  // is it one?
    if (checkpoint_dtype(*checkpoint) == DType::f64) return prepared_run<double>(o, cmd, checkpoint, writer);
    return prepared_run<float>(o, cmd, checkpoint, writer);
  }
  require(o.train.dtype == "f32" || o.train.dtype == "f64",
          fmt::format("--dtype must be f32 or f64, got '{}'", o.train.dtype));
  if (o.train.dtype == "f64") return prepared_run<double>(o, cmd, nullptr, writer);
  return prepared_run<float>(o, cmd, nullptr, writer);
}

/// Process 0 reads and validates everything and opens the folder first (its
/// errors end every process with its message); then the others read the
/// same files (a resume's checkpoint, --model, --data) and all train.
void run(const Options& o, const CLI::App* cmd) {
  const bool writer = Processes::rank() == 0;
  std::function<void()> training;
  if (writer) {
    Processes::agree([&] { training = prepare(o, cmd, true); });
  } else {
    Processes::agree({});
    training = prepare(o, cmd, false);
  }
  training();
}

}  // namespace

void register_train(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "train",
      "train a recurrent model with a linear readout on a long-range task (adding, copy, recall) or your data, with "
      "PyTorch's optimisers and clipping; writes the model, a checkpoint, the learning curve and the gradient flow "
      "recorded while it learned");
  cmd->add_option("--task", o->task, "adding, copy or recall")->capture_default_str();
  cmd->add_option("--T", o->T, "sequence length (copy: the delay; its sequences are T + 20 long)")
      ->capture_default_str();
  cmd->add_option("--lag", o->lag, "recall: the target is the input lag steps before the last (default T - 1)");
  cmd->add_option("--data", o->data, "your data instead of a task: safetensors with input (T, N, I) and target");
  cmd->add_option("--loss", o->loss, "with --data: mse_last, mse_all, ce_last or ce_all")->capture_default_str();
  cmd->add_option("--cell", o->cell, cell_choices())->capture_default_str();
  cmd->add_option("--init", o->init,
                  "pytorch, xavier, orthogonal, identity, scaled, critical (the mean-field g_c) or chrono (lstm)")
      ->capture_default_str();
  cmd->add_option("--model", o->model, "start from this model file (its readout too, if it has one)");
  add_training_options(cmd, o->train, "training steps in all (with --resume: the new total)");
  cmd->add_option("--checkpoint-every", o->checkpoint_every, "steps between checkpoints")->capture_default_str();
  cmd->add_option("--resume", o->resume, "continue the run in this folder (to --steps in all)");
  add_run_options(cmd, o->run, "train_out");
  cmd->callback([o, cmd] { run(*o, cmd); });
}

}  // namespace rnnscope::cli
