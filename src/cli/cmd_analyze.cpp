// rnnscope analyze: every diagnostic, layer by layer, of a given model on a given input.
#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"
#include "rnnscope/io/model_file.hpp"

namespace rnnscope::cli {

void register_analyze(CLI::App& app) {
  struct Options : RunOptions {
    std::uint64_t seed = 1;
    std::string model, input;
    int max_batch = 8;
    int max_power = 50;
    int top = 0;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("analyze",
                                 "the diagnostics of a model (safetensors state_dict) on an input, layer by layer: "
                                 "Jacobian-chain norms with the bound, spectra of W_hh, Lyapunov spectrum, "
                                 "contributions by distance; and end to end through the whole stack: the gradient "
                                 "reaching the input and every layer L steps back; JSON, CSV, figures and index.html");
  cmd->add_option("--model", opts->model, "model file: state_dict + __metadata__ cell")->required();
  cmd->add_option("--input", opts->input, "input file: input (T, B, I); optional h0, c0 (L, B, H)")->required();
  cmd->add_option("--max-batch", opts->max_batch, "batch elements analysed (the first ones)")->capture_default_str();
  cmd->add_option("--max-power", opts->max_power, "largest power n of W^n")->capture_default_str();
  cmd->add_option("--top", opts->top, "Lyapunov exponents per layer, largest first (0: all)")->capture_default_str();
  add_seed_option(cmd, opts->seed);
  add_run_options(cmd, *opts, "rnnscope-analysis");
  cmd->callback([opts] {
    const Options& o = *opts;
    // Everything is read and checked before the output folder is touched.
    const TensorFile model_file = read_safetensors(o.model);
    const ModelSpec model = read_model_spec(model_file);
    const AnalysisSpec spec =
        analysis_spec(model_file, read_safetensors(o.input), {o.max_batch, o.max_power, o.top, o.seed});
    StoppableProgress progress(o.quiet, stopped_before_writing(o.out));
    const Execution e = execution(o, &progress);
    Execution memory_only = e;
    memory_only.progress = nullptr;  // run_tasks tells the estimate
    check_cost(AnalysisStudy::cost(spec), memory_only);
    OutputFolder out(o.out, o.force);
    progress.begin(fmt::format("analysing {} layer(s) of {}", model.num_layers, to_string(model.cell)),
                   static_cast<int>(model.num_layers));
    const auto layers = analyse_model(spec, e);
    progress.end();
    const EndToEndResult end_to_end = analyse_end_to_end(spec);
    print_sections(write_analysis_report(out, spec, model, layers, end_to_end, o.model, o.input), out);
    progress.stop_if_requested(stopped_after_writing(o.out));
  });
}

}  // namespace rnnscope::cli
