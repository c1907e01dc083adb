// rnnscope analyze: every diagnostic, layer by layer, of a given model on a given input.
#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/core/gemm.hpp"
#include "rnnscope/io/model_file.hpp"
#include "sections.hpp"

namespace rnnscope::cli {

namespace {

struct Options : RunOptions {
  std::string model, input;
  int max_batch = 8;
  int max_power = 50;
  int top = 0;
};

void run(const Options& o) {
  apply_run_options(o);
  require(o.max_batch >= 1, fmt::format("--max-batch must be >= 1, got {}", o.max_batch));
  require(o.max_power >= 1, fmt::format("--max-power must be >= 1, got {}", o.max_power));
  require(o.top >= 0, fmt::format("--top must be >= 0, got {}", o.top));
  // Everything is read and checked before the output folder is touched.
  const TensorFile model_file = read_safetensors(o.model);
  const TensorFile input_file = read_safetensors(o.input);
  const ModelSpec spec = read_model_spec(model_file);
  const Model<double> model = load_model<double>(model_file);
  check_input_names(input_file);
  const NamedTensor& input = input_file.at("input");
  require(input.shape.size() == 3, fmt::format("input: expected a (T, B, I) tensor, got {}", input.shape_string()));
  const Index T = static_cast<Index>(input.shape[0]), B = static_cast<Index>(input.shape[1]);
  require(T > 0 && B > 0, fmt::format("input: empty sequence or batch, shape {}", input.shape_string()));
  check_tensor_shape(input, {T, B, spec.input_size});
  const Mat<double> x = to_sequence<double>(input);
  const Mat<double> state0 = state_from_pytorch<double>(model, input_file.find("h0"), input_file.find("c0"), B);
  const Index state = spec.cell == CellKind::lstm ? 2 * spec.hidden_size : spec.hidden_size;
  require(o.top <= state, fmt::format("--top must be at most the layer state size {}, got {}", state, o.top));

  OutputFolder out(o.out, o.force);
  Progress progress(o.quiet);
  progress.begin(fmt::format("analysing {} layer(s) of {}", spec.num_layers, to_string(spec.cell)));
  AnalysisOptions ao;
  ao.max_batch = o.max_batch;
  ao.max_power = o.max_power;
  ao.lyapunov_k = o.top;
  ao.seed = o.seed;
  const auto layers = analyse_model(model, spec.cell, x, B, state0, ao);
  progress.end();
  progress.begin("writing tables and figures", static_cast<int>(layers.size()));
  std::vector<Section> sections;
  const std::string name = cell_label(spec);
  for (const auto& layer : layers) {
    sections.push_back(layer_section(out, layer, name));
    progress.advance();
  }
  progress.end();
  const nlohmann::json facts = {{"model", o.model},
                                {"input", o.input},
                                {"cell", std::string(to_string(spec.cell))},
                                {"layers", spec.num_layers},
                                {"hidden", spec.hidden_size},
                                {"input_size", spec.input_size},
                                {"T", T},
                                {"batch", B},
                                {"batch_elements_analysed", std::min<Index>(B, o.max_batch)},
                                {"seed", o.seed},
                                {"matrix_kernel", gemm_kernel_description()}};
  write_index(out, "rnnscope analyze: " + o.model,
              fmt::format("{}, {} layer(s), H = {}, on an input of T = {} steps x B = {}", name, spec.num_layers,
                          spec.hidden_size, T, B),
              facts, sections);
  for (const auto& s : sections) fmt::print("{}\n", s.screen);
  fmt::print("{}\n", files_written(out));
}

}  // namespace

void register_analyze(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("analyze",
                                 "the diagnostics of a model (safetensors state_dict) on an input, layer by layer: "
                                 "Jacobian-chain norms with the bound, spectra of W_hh, Lyapunov spectrum, "
                                 "contributions by distance; JSON, CSV, figures and index.html");
  cmd->add_option("--model", opts->model, "model file: state_dict + __metadata__ cell")->required();
  cmd->add_option("--input", opts->input, "input file: input (T, B, I); optional h0, c0 (L, B, H)")->required();
  cmd->add_option("--max-batch", opts->max_batch, "batch elements analysed (the first ones)")->capture_default_str();
  cmd->add_option("--max-power", opts->max_power, "largest power n of W^n")->capture_default_str();
  cmd->add_option("--top", opts->top, "Lyapunov exponents per layer, largest first (0: all)")->capture_default_str();
  add_run_options(cmd, *opts, "rnnscope-analysis");
  cmd->callback([opts] { run(*opts); });
}

}  // namespace rnnscope::cli
