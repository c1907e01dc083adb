// rnnscope analyze: every diagnostic, layer by layer, of a given model on a given input.
#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/core/gemm.hpp"
#include "rnnscope/io/model_file.hpp"

namespace rnnscope::cli {

namespace {

struct Options : RunOptions {
  std::uint64_t seed = 1;
  std::string model, input;
  int max_batch = 8;
  int max_power = 50;
  int top = 0;
};

void run(const Options& o) {
  // Everything is read and checked before the output folder is touched.
  const TensorFile model_file = read_safetensors(o.model);
  const TensorFile input_file = read_safetensors(o.input);
  const ModelSpec spec = read_model_spec(model_file);
  AnalysisSpec analysis{load_model<double>(model_file), spec.cell, {}, 0, {}, {}};
  check_input_names(input_file);
  const NamedTensor& input = input_file.at("input");
  require(input.shape.size() == 3, fmt::format("input: expected a (T, B, I) tensor, got {}", input.shape_string()));
  const Index T = static_cast<Index>(input.shape[0]), B = static_cast<Index>(input.shape[1]);
  require(T > 0 && B > 0, fmt::format("input: empty sequence or batch, shape {}", input.shape_string()));
  check_tensor_shape(input, {T, B, spec.input_size});
  analysis.x = to_sequence<double>(input);
  analysis.batch = B;
  analysis.state0 = state_from_pytorch<double>(analysis.model, input_file.find("h0"), input_file.find("c0"), B);
  analysis.options = {o.max_batch, o.max_power, o.top, o.seed};
  analysis.validate();

  Progress progress(o.quiet);
  const Execution e = execution(o, &progress);
  OutputFolder out(o.out, o.force);
  progress.begin(fmt::format("analysing {} layer(s) of {}", spec.num_layers, to_string(spec.cell)),
                 static_cast<int>(spec.num_layers));
  const auto layers = analyse_model(analysis, e);
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
  print_sections(sections, out);
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
  add_seed_option(cmd, opts->seed);
  add_run_options(cmd, *opts, "rnnscope-analysis");
  cmd->callback([opts] { run(*opts); });
}

}  // namespace rnnscope::cli
