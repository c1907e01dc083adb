// The end-to-end gradient of a stack (diagnostics/end_to_end.hpp, studies/end_to_end.hpp): against PyTorch's
// autograd on the same two-layer models and cotangents (tools/end_to_end_reference.py), and, for one layer, the
// identity with the look-back study's ratio.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "cli_testing.hpp"
#include "rnnscope/diagnostics/end_to_end.hpp"
#include "rnnscope/io/model_file.hpp"
#include "rnnscope/io/safetensors.hpp"
#include "rnnscope/studies/end_to_end.hpp"
#include "rnnscope/studies/lookback.hpp"

using namespace rnnscope;

namespace {

const std::filesystem::path data_dir = std::filesystem::path(RNNSCOPE_TEST_DATA) / "end_to_end";

// The worst |got / want - 1| of rnnscope's log10 norms against PyTorch's norms (T, B), row-major in the file.
double worst_relative(const Mat<double>& got_log10, const NamedTensor& want) {
  const Index T = got_log10.rows(), B = got_log10.cols();
  EXPECT_EQ(want.shape, (std::vector<std::int64_t>{T, B})) << want.name;
  double worst = 0;
  for (Index t = 0; t < T; ++t)
    for (Index b = 0; b < B; ++b) {
      const double w = want.values[static_cast<size_t>(t * B + b)];
      EXPECT_GT(w, 0) << want.name << " at t = " << t;  // every step of these models reaches the loss
      worst = std::max(worst, std::abs(std::pow(10.0, got_log10(t, b) - std::log10(w)) - 1));
    }
  return worst;
}

void check_against_pytorch(const std::string& stem) {
  const TensorFile ref = read_safetensors(data_dir / (stem + ".safetensors"));
  TensorFile model_file;
  model_file.metadata = ref.metadata;
  for (const auto& t : ref.tensors)
    if (t.name.rfind("weight_", 0) == 0 || t.name.rfind("bias_", 0) == 0) model_file.tensors.push_back(t);
  const Model<double> model = load_model<double>(model_file);
  const NamedTensor& input = ref.at("input");
  const Index T = input.shape[0], B = input.shape[1];
  const Mat<double> x = to_sequence<double>(input);
  const NamedTensor &last = ref.at("grad_last"), &every = ref.at("grad_every");
  const Index H = last.shape[1];
  Mat<double> d_last = Mat<double>::Zero(H, T * B), d_every(H, T * B);
  for (Index b = 0; b < B; ++b)
    for (Index h = 0; h < H; ++h) d_last(h, (T - 1) * B + b) = last.values[static_cast<size_t>(b * H + h)];
  for (Index t = 0; t < T; ++t)
    for (Index b = 0; b < B; ++b)
      for (Index h = 0; h < H; ++h) d_every(h, t * B + b) = every.values[static_cast<size_t>((t * B + b) * H + h)];
  std::visit(
      [&](const auto& stack) {
        ASSERT_EQ(stack.num_layers(), 2);
        const auto cache = stack.forward(x, B);
        for (const auto& [loss, d] :
             {std::pair<std::string, const Mat<double>*>{"last", &d_last}, {"every", &d_every}}) {
          const StackGradientNorms n = stack_gradient_norms(stack, cache, *d);
          EXPECT_LT(worst_relative(n.input_log10, ref.at("norm.input." + loss)), 1e-10) << stem << " " << loss;
          for (int l = 0; l < 2; ++l)
            EXPECT_LT(worst_relative(n.hidden_log10[static_cast<size_t>(l)],
                                     ref.at("norm.h" + std::to_string(l) + "." + loss)),
                      1e-10)
                << stem << " " << loss << " h" << l;
        }
      },
      model);
}

}  // namespace

TEST(EndToEnd, TwoLayerLstmEqualsPyTorchAutograd) { check_against_pytorch("lstm_l2"); }
TEST(EndToEnd, TwoLayerElmanTanhEqualsPyTorchAutograd) { check_against_pytorch("rnn_tanh_l2"); }

// One layer, a cotangent on the last step: the h measure is the look-back study's ratio, on the same network
// with the same cotangents, here far below the smallest double (the renormalised sweep keeps its digits).
TEST(EndToEnd, OneLayerLastStepIsTheLookbackRatio) {
  LookbackSpec spec;
  spec.model.cell = CellKind::rnn_tanh;
  spec.model.hidden_size = 8;
  spec.init = Init::scaled;
  spec.scale = 0.2;
  spec.steps = 450;
  spec.batch = 3;
  spec.seeds = 1;
  const LookbackResult want = lookback_study(spec);
  ASSERT_LT(want.mean_log10[static_cast<size_t>(spec.steps - 1)], -330);  // past the double range

  Rng rng = seed_rng(spec, 0);
  const DrawnNetwork d = draw_network(spec, rng);
  const Index T = spec.steps, B = spec.batch, H = spec.model.hidden_size;
  Mat<double> d_output = Mat<double>::Zero(H, T * B);
  for (Index b = 0; b < B; ++b) d_output.col((T - 1) * B + b) = rng.normal_matrix<double>(H, 1);  // as the study
  EndToEndSamples samples;
  std::visit(
      [&](const auto& stack) {
        const auto cache = stack.forward(d.x, B);
        add_end_to_end_samples(stack_gradient_norms(stack, cache, d_output), EndToEndLoss::last, B, samples);
        add_end_to_end_samples(stack_gradient_norms(stack, cache, d_output), EndToEndLoss::every, B, samples);
      },
      d.model);
  const EndToEndResult r = reduce_end_to_end({samples});
  const EndToEndCurve& h = r.curve(EndToEndLoss::last, 0);
  ASSERT_EQ(h.mean_log10.size(), static_cast<size_t>(T));
  for (Index L = 0; L < T; ++L)
    EXPECT_NEAR(h.mean_log10[static_cast<size_t>(L)], want.mean_log10[static_cast<size_t>(L)], 1e-9) << "L = " << L;
  EXPECT_EQ(h.zero_share.back(), 0.0);
  // The verdict: the first distance below 1e-3, and the attenuation at L = T-1.
  Index first = -1;
  for (Index L = 0; L < T && first < 0; ++L)
    if (want.mean_log10[static_cast<size_t>(L)] < -3) first = L;
  EXPECT_EQ(h.half_life, first);
  EXPECT_GT(first, 0);
  EXPECT_DOUBLE_EQ(h.final_log10, h.mean_log10.back());
}

// A measure that never falls below 1e-3 within T says so (-1).
TEST(EndToEnd, HalfLifeNeverWithinT) {
  EndToEndSamples s;
  StackGradientNorms n;
  n.input_log10 = Mat<double>::Constant(5, 2, -1.0);
  n.hidden_log10 = {Mat<double>::Constant(5, 2, 2.0)};
  n.hidden_log10[0](0, 1) = -4.5;  // sequence 1's h at t = 0: 10^-6.5 of its last step's
  add_end_to_end_samples(n, EndToEndLoss::last, 2, s);
  add_end_to_end_samples(n, EndToEndLoss::every, 2, s);
  const EndToEndResult r = reduce_end_to_end({s});
  EXPECT_EQ(r.layers, 1);
  EXPECT_EQ(r.curve(EndToEndLoss::last, -1).half_life, -1);
  EXPECT_EQ(r.curve(EndToEndLoss::last, -1).final_log10, 0.0);
  EXPECT_EQ(r.curve(EndToEndLoss::every, 0).half_life, 4);  // the mean at L = 4 is (0 - 6.5) / 2
  EXPECT_DOUBLE_EQ(r.curve(EndToEndLoss::every, 0).final_log10, -3.25);
}

// lookback --layers: 1..8, the end-to-end measure for a stack only.
TEST(EndToEnd, LookbackLayersOption) {
  using namespace cli_testing;
  for (const std::string bad : {"0", "9"}) {
    const auto out = fresh_dir("e2e_bad");
    const auto r = run("lookback --quiet --layers " + bad + " --out " + out.string());
    EXPECT_EQ(r.code, 2) << bad << r.out;
    EXPECT_NE(r.out.find("layers must be in 1..8, got " + bad), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(out)) << bad;
  }
  const auto one = fresh_dir("e2e_one");
  const auto r1 = run("lookback --quiet --cell lstm --hidden 4 --T 20 --seeds 1 --batch 2 --out " + one.string());
  ASSERT_EQ(r1.code, 0) << r1.out;
  EXPECT_EQ(r1.out.find("end to end"), std::string::npos) << r1.out;
  EXPECT_FALSE(fs::exists(one / "lookback_end_to_end_lstm.csv"));
  const auto two = fresh_dir("e2e_two");
  const auto r2 =
      run("lookback --quiet --cell lstm --layers 2 --hidden 4 --T 20 --seeds 2 --batch 2 --out " + two.string());
  ASSERT_EQ(r2.code, 0) << r2.out;
  EXPECT_NE(r2.out.find("end to end through the 2-layer stack (LSTM 2 layers)"), std::string::npos) << r2.out;
  EXPECT_NE(r2.out.find("verdict, loss on every step: the input 19 steps back"), std::string::npos) << r2.out;
  check_folder(two);
  const std::string csv = read(two / "lookback_end_to_end_lstm_2_layers.csv");
  EXPECT_EQ(csv.rfind("loss,quantity,L,mean_log10_ratio,", 0), 0u) << csv.substr(0, 200);
  EXPECT_NE(csv.find("\nevery,h1,19,"), std::string::npos);
  EXPECT_TRUE(fs::exists(two / "lookback_end_to_end_lstm_2_layers.png"));
  fs::remove_all(one);
  fs::remove_all(two);
}
