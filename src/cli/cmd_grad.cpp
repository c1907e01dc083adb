// rnnscope grad: outputs and exact gradients of a PyTorch model on an input,
// for given cotangents: the vector-Jacobian product autograd computes.
#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"
#include "rnnscope/io/model_file.hpp"

namespace rnnscope::cli {

namespace {

struct Options {
  std::string model, input, out, max_memory;
};

void run(const Options& o) {
  const TensorFile model = read_safetensors(o.model);
  const TensorFile input = read_safetensors(o.input);
  Execution limits;
  if (!o.max_memory.empty()) limits.max_memory = parse_bytes(o.max_memory);
  const TensorFile result = grad_files(model, input, limits);
  write_safetensors(o.out, result);
  fmt::print("{} ({}): wrote {} tensors to {}\n", model.metadata_at("cell"),
             dtype_name(model.tensors.front().dtype), result.tensors.size(), o.out);
}

}  // namespace

void register_grad(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "grad", "outputs and exact BPTT gradients of a model (safetensors state_dict) on an input file");
  cmd->add_option("--model", opts->model, "model file: state_dict + __metadata__ cell")->required();
  cmd->add_option("--input", opts->input,
                  "input file: input (T, B, I); optional h0, c0 (L, B, H), grad_output (T, B, H), grad_h_n, grad_c_n")
      ->required();
  cmd->add_option("--out", opts->out, "output file: output, h_n, c_n, grad.<param>, grad.input, grad.h0, grad.c0")
      ->required();
  add_max_memory_option(cmd, opts->max_memory);
  cmd->callback([opts] { run(*opts); });
}

}  // namespace rnnscope::cli
