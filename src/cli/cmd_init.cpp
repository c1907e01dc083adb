// rnnscope init: a freshly initialised model written as a PyTorch state_dict
// (safetensors + __metadata__), ready for `grad`, `analyze` or load_state_dict.
#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <type_traits>
#include <variant>

#include "commands.hpp"
#include "common.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/diagnostics/mean_field.hpp"
#include "rnnscope/training/init.hpp"
#include "rnnscope/io/model_file.hpp"

namespace rnnscope::cli {

namespace {

struct Options {
  std::string cell = "rnn_tanh", init = "pytorch", dtype = "f32", out, max_memory;
  int input_size = 4, hidden = 32, layers = 1;
  bool bias = true;
  CellShape shape;
  double scale = 1.0, forget_bias = 0.0;
  std::uint64_t seed = 1;
};

template <Scalar S>
TensorFile initialised(const ModelSpec& spec, Init init, const Options& o) {
  Model<S> model = make_model<S>(spec);
  Rng rng(o.seed);
  initialise_model(model, init, resolve_scale(init, o.scale, spec, 1.0, o.forget_bias), o.forget_bias, rng);
  // A scale beyond the dtype's range gives inf weights: refused here, not written into a file that every reader
  // refuses.
  std::visit(
      [&](auto& stack) {
        stack.for_each_param([&](const char* name, auto& t) {
          if (!t.allFinite())
            throw InvalidInput(fmt::format("--scale {:g} gives {} entries beyond the range of {} (the largest finite "
                                           "is {:g}); use a smaller --scale{}",
                                           o.scale, name, std::is_same_v<S, float> ? "F32" : "F64",
                                           static_cast<double>(std::numeric_limits<S>::max()),
                                           std::is_same_v<S, float> ? " or --dtype f64" : ""));
        });
      },
      model);
  return save_model(model, spec);
}

void run(const Options& o, const CLI::App* cmd) {
  require(o.input_size > 0 && o.hidden > 0 && o.layers > 0, "--input-size, --hidden and --layers must be positive");
  require(o.input_size <= 65536 && o.hidden <= 16384 && o.layers <= 64,
          "--input-size <= 65536, --hidden <= 16384 and --layers <= 64");
  require(std::isfinite(o.scale) && std::isfinite(o.forget_bias), "--scale and --forget-bias must be finite");
  require(o.dtype == "f32" || o.dtype == "f64", fmt::format("--dtype must be f32 or f64, got '{}'", o.dtype));
  const Init init = parse_init(o.init);
  const ModelSpec spec = model_spec(o.cell, o.input_size, o.hidden, o.layers, o.bias, o.shape);
  refuse_inert_options(cmd, {spec.cell}, {init}, o.bias);
  // The model, its file's tensors and their bytes, and an orthogonal initialisation's (H, H) factors.
  Cost cost;
  const double H = static_cast<double>(o.hidden);
  cost.bytes = values(3 * parameter_values(spec) + 4 * H * H, o.dtype == "f32" ? 4 : 8);
  cost.flops = 10 * parameter_values(spec);
  cost.products = 4 * H * H * H * static_cast<double>(o.layers);
  cost.sizes = {{"hidden", H}, {"layers", static_cast<double>(o.layers)}};
  Execution limits;
  if (!o.max_memory.empty()) limits.max_memory = parse_bytes(o.max_memory);
  check_cost(cost, limits);
  const TensorFile file = o.dtype == "f32" ? initialised<float>(spec, init, o) : initialised<double>(spec, init, o);
  write_safetensors(o.out, file);
  fmt::print("{} x {} (I={}, H={}{}, init {}, {}): wrote {} tensors to {}\n", o.cell, o.layers, o.input_size,
             o.hidden, o.bias ? "" : ", no bias", o.init, o.dtype == "f32" ? "F32" : "F64", file.tensors.size(),
             o.out);
}

}  // namespace

void register_init(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("init",
                                 "write a freshly initialised model (PyTorch state_dict names and shapes, safetensors "
                                 "with __metadata__) for grad, analyze or torch's load_state_dict");
  cmd->add_option("--cell", opts->cell, cell_choices())->capture_default_str();
  cmd->add_option("--input-size", opts->input_size, "I")->capture_default_str();
  cmd->add_option("--hidden", opts->hidden, "hidden units H")->capture_default_str();
  cmd->add_option("--layers", opts->layers, "number of stacked layers (PyTorch's num_layers)")->capture_default_str();
  cmd->add_flag("!--no-bias", opts->bias, "no bias vectors (PyTorch's bias=False)");
  add_cell_shape_options(cmd, opts->shape);
  cmd->add_option("--init", opts->init, "pytorch, xavier, orthogonal, identity, scaled or critical (the mean-field g_c)")
      ->capture_default_str();
  cmd->add_option("--scale", opts->scale, "scale of the recurrent initialisation (orthogonal, identity, scaled)")
      ->capture_default_str();
  cmd->add_option("--forget-bias", opts->forget_bias, "added to the LSTM forget-gate bias")->capture_default_str();
  cmd->add_option("--dtype", opts->dtype, "f32 or f64")->capture_default_str();
  cmd->add_option("--seed", opts->seed, "random seed (same seed, same bytes)")->capture_default_str();
  cmd->add_option("--out", opts->out, "model file to write (.safetensors)")->required();
  add_max_memory_option(cmd, opts->max_memory);
  cmd->callback([opts, cmd] { run(*opts, cmd); });
}

}  // namespace rnnscope::cli
