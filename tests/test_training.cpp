// Training against PyTorch and by its own identities: the optimisers and the
// clippings step for step against torch.optim (tests/data/reference/training,
// written by tools/torch_training_reference.py), the task generators'
// statistics, and a resumed run equal to an uninterrupted one.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "rnnscope/io/model_file.hpp"
#include "rnnscope/io/training_files.hpp"
#include "rnnscope/training/trainer.hpp"

namespace rnnscope {
namespace {

namespace fs = std::filesystem;

const fs::path training_reference_dir = fs::path(RNNSCOPE_TEST_DATA) / "reference" / "training";

double number(const TensorFile& f, const std::string& key) { return std::stod(f.metadata_at(key)); }

/// The case's initial model (init.*) as a trainable model file.
TensorFile initial_model(const TensorFile& ref) {
  TensorFile m;
  for (const char* key : {"cell", "num_layers", "input_size", "hidden_size", "bias"})
    m.metadata[key] = ref.metadata_at(key);
  for (const auto& t : ref.tensors)
    if (t.name.rfind("init.", 0) == 0) {
      NamedTensor c = t;
      c.name = t.name.substr(5);
      m.tensors.push_back(std::move(c));
    }
  return m;
}

double worst_seen = 0;  // the largest difference over all cases, printed at the end

template <Scalar S>
void check_case(const fs::path& path, double tolerance) {
  SCOPED_TRACE(path.filename().string());
  const TensorFile ref = read_safetensors(path);
  TrainableModel<S> model = load_trainable<S>(initial_model(ref));
  ASSERT_TRUE(model.readout.has_value());
  TrainSpec spec;
  spec.task.kind = TaskKind::data;
  spec.data_loss = parse_train_loss(ref.metadata_at("loss"));
  TensorFile data_file;
  data_file.tensors = {ref.at("input"), ref.at("target")};
  const Dataset<S> data = load_dataset<S>(data_file, spec.data_loss, model.readout->output_size());
  spec.model = model.spec;
  spec.optimizer.kind = parse_optimizer(ref.metadata_at("optimizer"));
  spec.optimizer.lr = number(ref, "lr");
  spec.optimizer.momentum = number(ref, "momentum");
  spec.optimizer.dampening = number(ref, "dampening");
  spec.optimizer.nesterov = ref.metadata_at("nesterov") == "true";
  spec.optimizer.weight_decay = number(ref, "weight_decay");
  spec.optimizer.beta1 = number(ref, "beta1");
  spec.optimizer.beta2 = number(ref, "beta2");
  spec.optimizer.eps = number(ref, "eps");
  spec.optimizer.alpha = number(ref, "alpha");
  spec.clip.norm = number(ref, "clip_norm");
  spec.clip.value = number(ref, "clip_value");
  spec.batch = data.size();
  spec.steps = static_cast<Index>(number(ref, "steps"));
  spec.eval_every = 1000;
  TrainState<S> state = initial_state<S>(spec, std::move(model.model), std::move(model.readout), &data);
  const TrainOutcome outcome = train<S>(spec, state, Execution{}, {}, &data);
  ASSERT_EQ(outcome.end, TrainOutcome::End::finished) << outcome.message;
  // Per step: the loss before the update and the gradient norm before clipping.
  const NamedTensor& losses = ref.at("losses");
  const NamedTensor& norms = ref.at("grad_norms");
  ASSERT_EQ(static_cast<Index>(state.curve.size()), spec.steps + 1);
  for (Index k = 0; k < spec.steps; ++k) {
    const CurveRow& row = state.curve[static_cast<size_t>(k + 1)];
    EXPECT_NEAR(row.train_loss, losses.values[static_cast<size_t>(k)], tolerance * (1 + std::abs(row.train_loss)))
        << "loss of step " << k + 1;
    EXPECT_NEAR(row.grad_norm, norms.values[static_cast<size_t>(k)], tolerance * (1 + std::abs(row.grad_norm)))
        << "gradient norm of step " << k + 1;
  }
  // The final parameters, every tensor.
  const TensorFile out = save_trainable(state.model, state.readout, spec.model);
  int compared = 0;
  for (const auto& t : out.tensors) {
    const NamedTensor& want = ref.at("final." + t.name);
    ASSERT_EQ(t.values.size(), want.values.size()) << t.name;
    double worst = 0;
    for (size_t i = 0; i < t.values.size(); ++i) worst = std::max(worst, std::abs(t.values[i] - want.values[i]));
    EXPECT_LE(worst, tolerance) << t.name;
    worst_seen = std::max(worst_seen, worst);
    // The steps moved the parameter: equality is not the initial values' equality.
    const NamedTensor& init = ref.at("init." + t.name);
    double moved = 0;
    for (size_t i = 0; i < t.values.size(); ++i) moved = std::max(moved, std::abs(init.values[i] - want.values[i]));
    EXPECT_GT(moved, 2 * tolerance) << t.name << " did not move in PyTorch's run";
    ++compared;
  }
  EXPECT_GE(compared, 6);
}

TEST(Training, OptimisersAndClippingEqualPyTorch) {
  int f32 = 0, f64 = 0;
  double worst_f64 = 0;
  for (const auto& e : fs::directory_iterator(training_reference_dir)) {
    if (e.path().extension() != ".safetensors") continue;
    const std::string name = e.path().filename().string();
    if (name.find("_f64.") != std::string::npos) {
      worst_seen = 0;
      check_case<double>(e.path(), 1e-10);
      worst_f64 = std::max(worst_f64, worst_seen);
      ++f64;
    } else {
      check_case<float>(e.path(), 1e-4);
      ++f32;
    }
  }
  std::printf("largest difference from PyTorch over the F64 cases: %.3g\n", worst_f64);
  EXPECT_EQ(f64, 24);
  EXPECT_EQ(f32, 24);
}

}  // namespace
}  // namespace rnnscope
