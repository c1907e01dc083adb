// Replays the committed libFuzzer corpora (fuzz/corpus*: the inputs that
// reached new code during fuzzing, docs/formats.md) through the fuzz targets
// themselves, so that every interesting input found stays checked: each is
// either rejected with InvalidInput or accepted and written back unchanged (a
// safetensors file, a checkpoint's state, a model that runs, a study's rows).
// Anything else aborts the test binary.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "../fuzz/fuzz_safetensors.cpp"
// The other targets' entry points under their own names.
#define LLVMFuzzerTestOneInput fuzz_model_file_one_input
#include "../fuzz/fuzz_model_file.cpp"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_runs_csv_one_input
#include "../fuzz/fuzz_runs_csv.cpp"
#undef LLVMFuzzerTestOneInput

namespace fs = std::filesystem;

namespace {

fs::path corpus_dir(const std::string& name) {
  return fs::path(RNNSCOPE_TEST_DATA).parent_path().parent_path() / "fuzz" / name;
}

std::vector<unsigned char> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<unsigned char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST(FuzzCorpus, EveryInputIsRejectedCleanlyOrRoundTrips) {
  const fs::path corpus = corpus_dir("corpus");
  ASSERT_TRUE(fs::is_directory(corpus)) << corpus;
  size_t inputs = 0, accepted = 0, accepted_i64 = 0;
  for (const auto& entry : fs::directory_iterator(corpus)) {
    const std::vector<unsigned char> bytes = read_bytes(entry.path());
    EXPECT_EQ(LLVMFuzzerTestOneInput(bytes.data(), bytes.size()), 0) << entry.path();
    try {
      const auto file = rnnscope::parse_safetensors(std::span<const unsigned char>(bytes.data(), bytes.size()));
      ++accepted;
      for (const auto& t : file.tensors)
        if (t.dtype == rnnscope::DType::i64) {
          ++accepted_i64;
          break;
        }
    } catch (const rnnscope::InvalidInput&) {
    }
    ++inputs;
  }
  EXPECT_GE(inputs, 500u);
  // The corpus exercises both sides of the reader.
  EXPECT_GT(accepted, 0u);
  EXPECT_LT(accepted, inputs);
  // Including an I64 tensor (a hand-written input; another one holds a value beyond 2^53).
  EXPECT_GT(accepted_i64, 0u);
}

TEST(FuzzCorpus, EveryCheckpointInTheCorpusRestoresOrIsRejectedCleanly) {
  size_t checkpoints = 0;
  for (const auto& entry : fs::directory_iterator(corpus_dir("corpus"))) {
    const std::vector<unsigned char> bytes = read_bytes(entry.path());
    try {
      const auto file = rnnscope::parse_safetensors(std::span<const unsigned char>(bytes.data(), bytes.size()));
      const rnnscope::TrainSpec spec = rnnscope::checkpoint_spec(file);
      if (rnnscope::checkpoint_dtype(file) == rnnscope::DType::f64)
        (void)rnnscope::restore_checkpoint<double>(file, spec);
      else
        (void)rnnscope::restore_checkpoint<float>(file, spec);
      ++checkpoints;
    } catch (const rnnscope::InvalidInput&) {
    }
  }
  // A float Adam checkpoint and a double SGD-with-momentum one, at least, restore.
  EXPECT_GE(checkpoints, 2u);
}

TEST(FuzzCorpus, EveryModelFileIsRejectedCleanlyOrRuns) {
  size_t inputs = 0, loaded = 0;
  for (const auto& entry : fs::directory_iterator(corpus_dir("corpus_model_file"))) {
    const std::vector<unsigned char> bytes = read_bytes(entry.path());
    EXPECT_EQ(fuzz_model_file_one_input(bytes.data(), bytes.size()), 0) << entry.path();
    try {
      (void)rnnscope::load_model<double>(
          rnnscope::parse_safetensors(std::span<const unsigned char>(bytes.data(), bytes.size())));
      ++loaded;
    } catch (const rnnscope::InvalidInput&) {
    }
    ++inputs;
  }
  // Every cell, one and two layers, is among the accepted ones; the rest are rejected.
  EXPECT_GE(loaded, 19u);
  EXPECT_GT(inputs, loaded);
}

TEST(FuzzCorpus, EveryRunsCsvIsRejectedCleanlyOrRoundTrips) {
  size_t inputs = 0, accepted = 0;
  for (const auto& entry : fs::directory_iterator(corpus_dir("corpus_runs_csv"))) {
    const std::vector<unsigned char> bytes = read_bytes(entry.path());
    EXPECT_EQ(fuzz_runs_csv_one_input(bytes.data(), bytes.size()), 0) << entry.path();
    const std::string input(bytes.begin(), bytes.end());
    const std::size_t zero = input.find('\0');
    try {
      (void)rnnscope::read_learnability_rows(rnnscope_fuzz::runs_csv_study(), input.substr(0, zero),
                                             zero == std::string::npos ? std::string() : input.substr(zero + 1));
      ++accepted;
    } catch (const rnnscope::InvalidInput&) {
    }
    ++inputs;
  }
  EXPECT_GT(accepted, 0u);
  EXPECT_GT(inputs, accepted);
}
