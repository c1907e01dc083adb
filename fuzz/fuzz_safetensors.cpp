// libFuzzer target: parse_safetensors on arbitrary bytes, and on what parses
// the checkpoint reader and the data-file reader (train --data: F32/F64 inputs
// and targets, I64 class labels) under each loss. Any outcome but a parsed
// file (a restored training state, a data set) or InvalidInput (a crash, a
// sanitizer report, another exception) is a bug. A parsed file must also serialize and parse back to the same bytes.
//
// Built with the library by Debian's clang, not by CMake: scripts/fuzz.sh builds
// it and runs it (docs/formats.md, "Fuzzing"). tests/test_fuzz_corpus.cpp
// includes this file to replay the committed corpus fuzz/corpus through the
// same checks.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "rnnscope/core/error.hpp"
#include "rnnscope/io/safetensors.hpp"
#include "rnnscope/io/training_files.hpp"

namespace rnnscope_fuzz {

// A checkpoint's options, then its state in the checkpoint's own dtype.
inline void restore_if_checkpoint(const rnnscope::TensorFile& file) {
  using namespace rnnscope;
  try {
    const TrainSpec spec = checkpoint_spec(file);
    if (checkpoint_dtype(file) == DType::f64)
      (void)restore_checkpoint<double>(file, spec);
    else
      (void)restore_checkpoint<float>(file, spec);
  } catch (const InvalidInput&) {
  }
}

// A data file for each loss (the cross-entropy ones read I64 labels), in both precisions.
inline void load_if_data(const rnnscope::TensorFile& file) {
  using namespace rnnscope;
  for (const TrainLoss loss : {TrainLoss::mse_last, TrainLoss::mse_all, TrainLoss::ce_last, TrainLoss::ce_all}) {
    try {
      (void)load_dataset<float>(file, loss, 0);
    } catch (const InvalidInput&) {
    }
    try {
      (void)load_dataset<double>(file, loss, 3);
    } catch (const InvalidInput&) {
    }
  }
}

}  // namespace rnnscope_fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rnnscope::TensorFile file;
  try {
    file = rnnscope::parse_safetensors(std::span<const unsigned char>(data, size));
  } catch (const rnnscope::InvalidInput&) {
    return 0;
  }
  // What was accepted is a consistent file: writing it and reading it back is stable.
  std::string bytes;
  try {
    bytes = rnnscope::serialize_safetensors(file);
  } catch (const rnnscope::InvalidInput&) {
    std::abort();
  }
  const auto again = rnnscope::serialize_safetensors(rnnscope::parse_safetensors(
      std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size())));
  if (again != bytes) std::abort();
  rnnscope_fuzz::restore_if_checkpoint(file);
  rnnscope_fuzz::load_if_data(file);
  return 0;
}
