// The PyTorch reference files (tests/data/reference, docs/formats.md): each
// holds a model, an input with cotangents, and PyTorch's results.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include "rnnscope/io/safetensors.hpp"

namespace rnnscope::check {

inline const std::filesystem::path reference_dir = std::filesystem::path(RNNSCOPE_TEST_DATA) / "reference";

/// input, h0, c0 and the cotangents grad_output, grad_h_n, grad_c_n.
inline bool is_input_name(const std::string& n) {
  return n == "input" || n == "h0" || n == "c0" || n.rfind("grad_", 0) == 0;
}
/// PyTorch's results: output, h_n, c_n and grad.<name>.
inline bool is_result_name(const std::string& n) {
  return n == "output" || n == "h_n" || n == "c_n" || n.rfind("grad.", 0) == 0;
}

/// ||a - b|| / max(||a||, ||b||) over the values of two tensors of one shape.
inline double relative_difference(const NamedTensor& a, const NamedTensor& b) {
  double d = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.values.size(); ++i) {
    d += (a.values[i] - b.values[i]) * (a.values[i] - b.values[i]);
    na += a.values[i] * a.values[i];
    nb += b.values[i] * b.values[i];
  }
  return std::sqrt(d) / std::max({std::sqrt(na), std::sqrt(nb), 1e-300});
}

/// A reference file split into what `rnnscope grad` reads and what it must produce.
struct ReferenceCase {
  TensorFile model, input, expected;
};

inline ReferenceCase split_reference(const std::filesystem::path& path) {
  const TensorFile ref = read_safetensors(path);
  ReferenceCase c;
  c.model.metadata = ref.metadata;
  c.input.metadata = {{"dtype", ref.metadata_at("dtype")}};
  for (const auto& t : ref.tensors) {
    if (is_input_name(t.name)) c.input.tensors.push_back(t);
    else if (is_result_name(t.name)) c.expected.tensors.push_back(t);
    else c.model.tensors.push_back(t);
  }
  return c;
}

}  // namespace rnnscope::check
