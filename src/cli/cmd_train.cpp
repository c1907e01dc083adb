// rnnscope train: trains a recurrent model with a linear readout on a
// long-range task or the user's data (training/trainer.hpp), writing the model,
// a checkpoint to resume from, the learning curve and the gradient flow
// recorded while it learned. SIGINT and SIGTERM stop it after the current step
// with a checkpoint written; --resume DIR continues bit for bit.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <limits>

#include "commands.hpp"
#include "common.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/io/model_file.hpp"
#include "rnnscope/io/training_files.hpp"
#include "rnnscope/report/training.hpp"

namespace rnnscope::cli {

namespace {

namespace fs = std::filesystem;

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) { g_stop = 1; }

/// Installs the SIGINT/SIGTERM handlers for its lifetime.
class StopSignals {
 public:
  StopSignals() {
    g_stop = 0;
    struct sigaction sa{};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_{}, old_term_{};
};

struct Options {
  RunOptions run;
  std::string task = "adding", cell = "lstm", init = "pytorch", model, data, loss = "mse_last";
  std::string optimizer = "adam", dtype = "f32", resume;
  Index T = 100, lag = -1, hidden = 128, layers = 1;
  bool no_bias = false;
  double dt = 0.1, scale = 1.0, forget_bias = 0.0, chrono_tmax = 0.0;
  // The defaults solve the adding problem at T = 100 with the LSTM in about a
  // thousand steps (docs/training.md): Adam's lr 0.001 (torch's default) took
  // more than 3000 on the same runs.
  double lr = 1e-2, momentum = 0, dampening = 0, weight_decay = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8,
         alpha = 0.99;
  bool nesterov = false;
  double clip_norm = 1.0, clip_value = 0.0;
  Index batch = 50, steps = 2000, eval_every = 100, eval_size = 500, checkpoint_every = 500;
  std::uint64_t seed = 1;
};

/// Whether the option was given on the command line.
bool given(const CLI::App* cmd, const std::string& name) { return cmd->get_option(name)->count() > 0; }


TrainSpec spec_of(const Options& o, const CLI::App* cmd) {
  TrainSpec s;
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
  require(o.hidden >= 1 && o.hidden <= 16384, fmt::format("--hidden must be in 1..16384, got {}", o.hidden));
  require(o.layers >= 1 && o.layers <= 64, fmt::format("--layers must be in 1..64, got {}", o.layers));
  s.model = model_spec(o.cell, 1, static_cast<int>(o.hidden), static_cast<int>(o.layers), !o.no_bias, o.dt);
  if (o.init == "chrono") {
    s.init = Init::pytorch;
    s.chrono = true;
  } else {
    s.init = parse_init(o.init);
    require(!given(cmd, "--chrono-tmax"), "--chrono-tmax is an option of --init chrono");
  }
  s.scale = o.scale;
  s.forget_bias = o.forget_bias;
  s.chrono_tmax = o.chrono_tmax;
  s.optimizer.kind = parse_optimizer(o.optimizer);
  s.optimizer.lr = o.lr;
  s.optimizer.momentum = o.momentum;
  s.optimizer.dampening = o.dampening;
  s.optimizer.nesterov = o.nesterov;
  s.optimizer.weight_decay =
      given(cmd, "--weight-decay") ? o.weight_decay : OptimizerSpec::default_weight_decay(s.optimizer.kind);
  s.optimizer.beta1 = o.beta1;
  s.optimizer.beta2 = o.beta2;
  s.optimizer.eps = o.eps;
  s.optimizer.alpha = o.alpha;
  s.clip.norm = o.clip_norm;
  s.clip.value = o.clip_value;
  s.batch = o.batch;
  s.steps = o.steps;
  s.eval_every = o.eval_every;
  s.eval_size = o.eval_size;
  s.checkpoint_every = o.checkpoint_every;
  s.seed = o.seed;
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

template <Scalar S>
Dataset<S> read_data(const std::string& path, TrainLoss loss, Index classes) {
  try {
    return load_dataset<S>(read_safetensors(path), loss, classes);
  } catch (const InvalidInput& e) {
    throw InvalidInput(fmt::format("--data {}: {}", path, e.what()));
  }
}

template <Scalar S>
Prepared<S> prepare_fresh(const Options& o, const CLI::App* cmd) {
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
  if (file_model)
    p.state = initial_state<S>(p.spec, std::move(file_model->model), std::move(file_model->readout), data);
  else
    p.state = initial_state<S>(p.spec, std::nullopt, std::nullopt, data);
  p.model_spec = p.spec.model;
  p.out.emplace(o.run.out, o.run.force);
  return p;
}

template <Scalar S>
Prepared<S> prepare_resume(const Options& o, const CLI::App* cmd, const TensorFile& checkpoint) {
  Prepared<S> p;
  p.spec = checkpoint_spec(checkpoint);
  if (given(cmd, "--steps")) p.spec.steps = o.steps;
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
  p.out.emplace(OutputFolder::reopen(o.resume));
  return p;
}

template <Scalar S>
void run_typed(const Options& o, const CLI::App* cmd, const TensorFile* checkpoint) {
  Prepared<S> p = checkpoint ? prepare_resume<S>(o, cmd, *checkpoint) : prepare_fresh<S>(o, cmd);
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
  const Execution e = execution(run, &progress);
  const Index first = state.step;
  progress.begin("training", static_cast<int>(std::max<Index>(1, spec.steps - first)));
  const auto start = std::chrono::steady_clock::now();
  double recent_loss = 0;
  Index recent = 0;
  TrainHooks<S> hooks;
  StopSignals signals;
  hooks.stop_requested = [] { return g_stop != 0; };
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

void run(const Options& o, const CLI::App* cmd) {
  if (!o.resume.empty()) {
    for (const auto* opt : cmd->get_options()) {
      const std::string name = opt->get_name();
      if (opt->count() == 0 || name == "--resume" || name == "--steps" || name == "--threads" || name == "--quiet" ||
          name == "--help")
        continue;
      throw InvalidInput(fmt::format("{} cannot be changed by --resume, which continues the run with its own options "
                                     "(only --steps, --threads and --quiet may be given)",
                                     name));
    }
    const fs::path path = fs::path(o.resume) / "checkpoint.safetensors";
    require(fs::exists(path), fmt::format("--resume {}: no checkpoint.safetensors there", o.resume));
    const TensorFile checkpoint = read_safetensors(path);
    checkpoint_spec(checkpoint);  // is it one?
    if (checkpoint_dtype(checkpoint) == DType::f64)
      run_typed<double>(o, cmd, &checkpoint);
    else
      run_typed<float>(o, cmd, &checkpoint);
    return;
  }
  require(o.dtype == "f32" || o.dtype == "f64", fmt::format("--dtype must be f32 or f64, got '{}'", o.dtype));
  if (o.dtype == "f64")
    run_typed<double>(o, cmd, nullptr);
  else
    run_typed<float>(o, cmd, nullptr);
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
  cmd->add_option("--cell", o->cell, "rnn_tanh, rnn_relu, rnn_sigmoid, lstm, gru or ctrnn")->capture_default_str();
  cmd->add_option("--hidden", o->hidden, "hidden units H")->capture_default_str();
  cmd->add_option("--layers", o->layers, "stacked layers")->capture_default_str();
  cmd->add_flag("--no-bias", o->no_bias, "no bias vectors in the recurrent layers");
  cmd->add_option("--dt", o->dt, "Euler step of the ctrnn cell")->capture_default_str();
  cmd->add_option("--init", o->init, "pytorch, xavier, orthogonal, identity, scaled or chrono (lstm)")
      ->capture_default_str();
  cmd->add_option("--scale", o->scale, "scale of the recurrent initialisation (orthogonal, identity, scaled)")
      ->capture_default_str();
  cmd->add_option("--forget-bias", o->forget_bias, "added to the LSTM forget-gate bias")->capture_default_str();
  cmd->add_option("--chrono-tmax", o->chrono_tmax, "T_max of --init chrono (default: the sequence length)");
  cmd->add_option("--model", o->model, "start from this model file (its readout too, if it has one)");
  cmd->add_option("--optimizer", o->optimizer, "sgd, adam, adamw or rmsprop (torch.optim's equations)")
      ->capture_default_str();
  cmd->add_option("--lr", o->lr, "learning rate (torch's default for adam is 0.001; see docs/training.md)")
      ->capture_default_str();
  cmd->add_option("--momentum", o->momentum, "sgd, rmsprop")->capture_default_str();
  cmd->add_option("--dampening", o->dampening, "sgd")->capture_default_str();
  cmd->add_flag("--nesterov", o->nesterov, "sgd: Nesterov momentum");
  cmd->add_option("--weight-decay", o->weight_decay, "L2 penalty (default: 0.01 for adamw, else 0)");
  cmd->add_option("--beta1", o->beta1, "adam, adamw")->capture_default_str();
  cmd->add_option("--beta2", o->beta2, "adam, adamw")->capture_default_str();
  cmd->add_option("--eps", o->eps, "adam, adamw, rmsprop")->capture_default_str();
  cmd->add_option("--alpha", o->alpha, "rmsprop's smoothing constant")->capture_default_str();
  cmd->add_option("--clip-norm", o->clip_norm, "clip_grad_norm_ over every parameter (0: off)")->capture_default_str();
  cmd->add_option("--clip-value", o->clip_value, "clip_grad_value_ (0: off)")->capture_default_str();
  cmd->add_option("--batch", o->batch, "sequences per step")->capture_default_str();
  cmd->add_option("--steps", o->steps, "training steps in all (with --resume: the new total)")->capture_default_str();
  cmd->add_option("--eval-every", o->eval_every, "steps between evaluations (and gradient-flow records)")
      ->capture_default_str();
  cmd->add_option("--eval-size", o->eval_size, "held-out evaluation sequences of a task")->capture_default_str();
  cmd->add_option("--checkpoint-every", o->checkpoint_every, "steps between checkpoints")->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "f32 or f64")->capture_default_str();
  cmd->add_option("--resume", o->resume, "continue the run in this folder (to --steps in all)");
  add_seed_option(cmd, o->seed);
  add_run_options(cmd, o->run, "train_out");
  cmd->callback([o, cmd] { run(*o, cmd); });
}

}  // namespace rnnscope::cli
