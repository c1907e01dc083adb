// libFuzzer target: the model loader, a file's bytes to a working cell stack.
// parse_safetensors, read_model_spec and load_model (float and double), then
// a forward pass of the loaded stack over two steps of a zero input (which may
// only be refused as overflowing: finite weights can exceed the dtype). Any
// outcome but a model or InvalidInput (a crash, a sanitizer report, another
// exception) is a bug. An accepted model must also save and load back to the
// same parameters.
//
// Built with the library by scripts/fuzz.sh (Debian's clang, AddressSanitizer
// and UndefinedBehaviorSanitizer); tests/test_fuzz_corpus.cpp replays the
// committed corpus fuzz/corpus_model_file through it.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "rnnscope/core/error.hpp"
#include "rnnscope/io/model_file.hpp"
#include "rnnscope/io/safetensors.hpp"
#include "rnnscope/io/training_files.hpp"

namespace rnnscope_fuzz {

template <class S>
void load_and_run(const rnnscope::TensorFile& file) {
  using namespace rnnscope;
  std::optional<Model<S>> loaded;
  ModelSpec spec;
  try {
    spec = read_model_spec(file);
    loaded.emplace(load_model<S>(file));
  } catch (const InvalidInput&) {
    return;
  }
  const Model<S>& model = *loaded;
  std::visit(
      [&](const auto& stack) {
        const Index batch = 1, steps = 2;
        const Mat<S> x = Mat<S>::Zero(stack.input_size(), steps * batch);
        try {
          const auto cache = stack.forward(x, batch);
          if (stack.output(cache).cols() != steps * batch) std::abort();
        } catch (const InvalidInput& e) {
          // Finite weights can still overflow the dtype (a bias near its largest value, a relu layer feeding
          // the next): the only refusal a loaded model's forward pass may give is that, by name.
          if (std::string(e.what()).find("non-finite") == std::string::npos) std::abort();
        }
      },
      model);
  // What loaded writes out and loads back to the same parameters.
  const std::string bytes = serialize_safetensors(save_model(model, spec));
  const Model<S> reloaded = load_model<S>(
      parse_safetensors(std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(bytes.data()),
                                                       bytes.size())));
  if (serialize_safetensors(save_model(reloaded, spec)) != bytes) std::abort();
  try {
    (void)load_trainable<S>(file);
  } catch (const InvalidInput&) {
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
  rnnscope_fuzz::load_and_run<double>(file);
  rnnscope_fuzz::load_and_run<float>(file);
  return 0;
}
