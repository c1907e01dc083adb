// Replays the committed libFuzzer corpus (fuzz/corpus: the inputs that reached
// new code in the safetensors reader during fuzzing, docs/formats.md) through
// the fuzz target itself, so that every interesting input found stays checked:
// each is either rejected with InvalidInput or parsed into a file that writes
// and reads back to the same bytes. Anything else aborts the test binary.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "../fuzz/fuzz_safetensors.cpp"

namespace fs = std::filesystem;

TEST(FuzzCorpus, EveryInputIsRejectedCleanlyOrRoundTrips) {
  const fs::path corpus = fs::path(RNNSCOPE_TEST_DATA).parent_path().parent_path() / "fuzz" / "corpus";
  ASSERT_TRUE(fs::is_directory(corpus)) << corpus;
  size_t inputs = 0, accepted = 0, accepted_i64 = 0;
  for (const auto& entry : fs::directory_iterator(corpus)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
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
