// libFuzzer target: the reader of a learnability study's runs.csv and
// blocks.csv, the files a resume trusts. The input is runs.csv, a zero byte,
// then blocks.csv (no zero byte: blocks.csv is empty), read against a fixed
// small study (two arms, T = 5 and 10, two seeds). Any outcome but rows or
// InvalidInput is a bug; rows that were accepted must write out and read back
// to the same files.
//
// Built with the library by scripts/fuzz.sh; tests/test_fuzz_corpus.cpp replays
// the committed corpus fuzz/corpus_runs_csv through it.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "rnnscope/core/error.hpp"
#include "rnnscope/io/learnability_files.hpp"

namespace rnnscope_fuzz {

// study.json of `rnnscope learnability --cells rnn_tanh,lstm --inits pytorch --T 5,10 --seeds 2 --steps 3
// --hidden 4 --batch 4 --eval-size 8`.
inline const rnnscope::LearnabilitySpec& runs_csv_study() {
  static const rnnscope::LearnabilitySpec spec = rnnscope::learnability_spec_from_json(nlohmann::json::parse(
      R"({"arms":[{"cell":"rnn_tanh","init":"pytorch"},{"cell":"lstm","init":"pytorch"}],"dtype":"f32",)"
      R"("format":"rnnscope-learnability","lengths":[5,10],"seeds":2,"train":{"batch":4,)"
      R"("checkpoint_every":500,"chrono":false,"chrono_tmax":0.0,"clip":{"norm":1.0,"value":0.0},)"
      R"("data_loss":"mse_last","eval_every":100,"eval_size":8,"forget_bias":0.0,"init":"pytorch",)"
      R"("model":{"bias":true,"cell":"rnn_tanh","dt":0.1,"eps":0.1,"gamma":0.01,"hidden_size":4,)"
      R"("input_size":1,"num_layers":1,"skip":10},"optimizer":{"alpha":0.99,"beta1":0.9,"beta2":0.999,)"
      R"("dampening":0.0,"eps":1e-08,"kind":"adam","lr":0.01,"momentum":0.0,"nesterov":false,)"
      R"("weight_decay":0.0},"scale":1.0,"seed":1,"steps":3,"task":{"T":100,"kind":"adding","lag":-1}},)"
      R"("version":1})"));
  return spec;
}

}  // namespace rnnscope_fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rnnscope;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::size_t zero = input.find('\0');
  const std::string runs = input.substr(0, zero);
  const std::string blocks = zero == std::string::npos ? std::string() : input.substr(zero + 1);
  const LearnabilitySpec& spec = rnnscope_fuzz::runs_csv_study();
  std::vector<LearnabilityRow> rows;
  try {
    rows = read_learnability_rows(spec, runs, blocks);
  } catch (const InvalidInput&) {
    return 0;
  }
  const std::string runs_again = runs_table(spec, rows).to_string();
  const std::string blocks_again = blocks_table(rows).to_string();
  const auto reread = read_learnability_rows(spec, runs_again, blocks_again);
  if (runs_table(spec, reread).to_string() != runs_again || blocks_table(reread).to_string() != blocks_again)
    std::abort();
  return 0;
}
