#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <limits>

#include "cell_testing.hpp"
#include "rnnscope/cells/euler_rnn.hpp"
#include "rnnscope/cells/elman.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/sequence/gradcheck.hpp"

using namespace rnnscope;
using rnnscope::check::relative_difference;

namespace {

struct Shape {
  Index I, H, B, T;
};
const Shape shapes[] = {{3, 4, 2, 5}, {1, 1, 1, 1}, {2, 3, 1, 7}, {4, 1, 3, 1}, {5, 6, 4, 3}, {1, 5, 1, 2}};
const double steps[] = {0.1, 0.5, 1.0};

EulerRnn<double> random_cell(const Shape& s, double dt, Rng& rng, bool bias = true, double scale = 1.0) {
  EulerRnn<double> cell(s.I, s.H, dt, bias);
  cell.init_uniform(rng);
  cell.params.for_each([&](const char*, auto& t) { t *= scale; });
  return cell;
}

template <class S>
Elman<S> elman_twin(const EulerRnn<S>& c) {
  Elman<S> e(c.input_size(), c.state_size(), Activation::tanh, c.params.bias_ih.size() > 0);
  e.params.weight_ih = c.params.weight_ih;
  e.params.weight_hh = c.params.weight_hh;
  e.params.bias_ih = c.params.bias_ih;
  e.params.bias_hh = c.params.bias_hh;
  return e;
}

}  // namespace

TEST(EulerRnn, ForwardMatchesHandWrittenRecurrence) {
  // x_t[i] = x_{t-1}[i] + dt (tanh(sum_j W_hh[i,j] x_{t-1}[j] + b_hh[i] + sum_k W_ih[i,k] u_t[k] + b_ih[i]) - x_{t-1}[i])
  Rng rng(21);
  const Index I = 2, H = 3, B = 2, T = 4;
  for (double dt : {0.1, 0.37, 1.0, 1.5}) {
    auto cell = random_cell({I, H, B, T}, dt, rng, true, 2.0);
    const Mat<double> u = rng.normal_matrix<double>(I, T * B);
    const Mat<double> x0 = rng.normal_matrix<double>(H, B);
    const auto c = cell.forward(u, B, x0);
    const auto& p = cell.params;
    for (Index b = 0; b < B; ++b) {
      std::vector<double> x(x0.col(b).data(), x0.col(b).data() + H);
      for (Index t = 0; t < T; ++t) {
        std::vector<double> next(static_cast<size_t>(H));
        for (Index i = 0; i < H; ++i) {
          double a = p.bias_ih(i) + p.bias_hh(i);
          for (Index j = 0; j < H; ++j) a += p.weight_hh(i, j) * x[static_cast<size_t>(j)];
          for (Index k = 0; k < I; ++k) a += p.weight_ih(i, k) * u(k, t * B + b);
          const double xi = x[static_cast<size_t>(i)];
          next[static_cast<size_t>(i)] = xi + dt * (std::tanh(a) - xi);
        }
        x = next;
        for (Index i = 0; i < H; ++i)
          EXPECT_NEAR(cell.output(c)(i, t * B + b), x[static_cast<size_t>(i)], 1e-14)
              << "dt=" << dt << " t=" << t << " b=" << b << " i=" << i;
      }
      for (Index i = 0; i < H; ++i) EXPECT_NEAR(cell.final_state(c)(i, b), x[static_cast<size_t>(i)], 1e-14);
    }
  }
}

template <class S>
void expect_dt_one_is_elman_tanh(bool bias) {
  Rng rng(8);
  const Index I = 3, H = 5, B = 2, T = 6;
  EulerRnn<S> ct(I, H, 1.0, bias);
  ct.init_uniform(rng);
  ct.params.for_each([](const char*, auto& t) { t *= S(2); });
  const Elman<S> el = elman_twin(ct);
  const Mat<S> u = rng.normal_matrix<S>(I, T * B);
  const Mat<S> x0 = rng.normal_matrix<S>(H, B);
  const Mat<S> dy = rng.normal_matrix<S>(H, T * B);
  const Mat<S> dfinal = rng.normal_matrix<S>(H, B);
  const auto cc = ct.forward(u, B, x0);
  const auto ce = el.forward(u, B, x0);
  // The arithmetic is the same (the Euler update becomes 0 * x + 1 * y, the
  // leak term of the backward 0 * g), but Eigen picks packet or scalar kernels
  // by the alignment of each block, and the two caches place the steps
  // differently: the results agree to a few units in the last place, no more.
  const double tol = 16 * std::numeric_limits<S>::epsilon();
  auto rel = [](const auto& a, const auto& b) {
    return relative_difference(a.template cast<double>(), b.template cast<double>());
  };
  EXPECT_LT(rel(ct.output(cc), el.output(ce)), tol);
  for (Index window : {0, 2}) {
    const auto gc = bptt(ct, cc, dy, dfinal, window);
    const auto ge = bptt(el, ce, dy, dfinal, window);
    EXPECT_LT(relative_difference(check::flatten(gc.params), check::flatten(ge.params)), tol) << "window " << window;
    EXPECT_LT(rel(gc.d_input, ge.d_input), tol) << "window " << window;
    EXPECT_LT(rel(gc.d_state0, ge.d_state0), tol) << "window " << window;
  }
  for (Index t = 0; t < T; ++t) EXPECT_LT(rel(ct.step_jacobian(cc, t, 1), el.step_jacobian(ce, t, 1)), tol) << "t=" << t;
  // Control: a step just below 1 is visibly a different cell.
  EulerRnn<S> near(I, H, 0.999, bias);
  near.params = ct.params;
  EXPECT_GT(rel(near.output(near.forward(u, B, x0)), el.output(ce)), 1e-4);
}

TEST(EulerRnn, DtOneIsElmanTanh) {
  expect_dt_one_is_elman_tanh<double>(true);
  expect_dt_one_is_elman_tanh<double>(false);
  expect_dt_one_is_elman_tanh<float>(true);
}

TEST(EulerRnn, GradientsMatchFiniteDifferences) {
  Rng rng(7);
  for (double dt : steps)
    for (const Shape& s : shapes)
      for (bool bias : {true, false}) {
        auto cell = random_cell(s, dt, rng, bias, 1.5);
        const Mat<double> u = rng.normal_matrix<double>(s.I, s.T * s.B);
        const Mat<double> x0 = rng.normal_matrix<double>(s.H, s.B, 0.5);
        const auto report = check_cell_gradients(cell, u, s.B, x0, rng);
        EXPECT_LT(report.worst_relative_error(), 1e-6)
            << "dt=" << dt << " I=" << s.I << " H=" << s.H << " B=" << s.B << " T=" << s.T
            << " bias=" << bias << "\n" << report.to_string();
        EXPECT_EQ(report.tensors.size(), bias ? 6u : 4u);
      }
}

TEST(EulerRnn, TruncatedBpttMatchesItsDefinition) {
  Rng rng(5);
  const Shape s{2, 3, 2, 6};
  for (double dt : steps) {
    auto cell = random_cell(s, dt, rng, true, 1.5);
    const Mat<double> u = rng.normal_matrix<double>(s.I, s.T * s.B);
    const Mat<double> x0 = rng.normal_matrix<double>(s.H, s.B, 0.5);
    const Mat<double> dy = rng.normal_matrix<double>(s.H, s.T * s.B);
    const Mat<double> dfinal = rng.normal_matrix<double>(s.H, s.B);
    const auto cache = cell.forward(u, s.B, x0);
    for (Index K : {1, 2, 3, 5, 0}) {
      const auto g = bptt(cell, cache, dy, dfinal, K);
      const auto brute = check::brute_force_bptt(cell, u, s.B, x0, dy, dfinal, K);
      EXPECT_LT(relative_difference(check::flatten(g.params), brute.params), 1e-7) << "dt=" << dt << " K=" << K;
      EXPECT_LT(relative_difference(g.d_input, brute.d_input), 1e-7) << "dt=" << dt << " K=" << K;
      EXPECT_LT(relative_difference(g.d_state0, brute.d_state0), 1e-7) << "dt=" << dt << " K=" << K;
    }
    const auto full = bptt(cell, cache, dy, dfinal);
    const auto k1 = bptt(cell, cache, dy, dfinal, 1);
    EXPECT_GT(relative_difference(check::flatten(full.params), check::flatten(k1.params)), 1e-3) << "dt=" << dt;
  }
}

TEST(EulerRnn, StepJacobianMatchesFiniteDifferences) {
  Rng rng(4);
  const Shape s{3, 5, 2, 4};
  for (double dt : {0.1, 0.5, 1.0, 1.7}) {
    auto cell = random_cell(s, dt, rng, true, 1.5);
    const Mat<double> u = rng.normal_matrix<double>(s.I, s.T * s.B);
    const Mat<double> x0 = rng.normal_matrix<double>(s.H, s.B, 0.5);
    const auto c = cell.forward(u, s.B, x0);
    for (Index t = 0; t < s.T; ++t)
      for (Index b = 0; b < s.B; ++b) {
        const Mat<double> prev = t == 0 ? x0 : Mat<double>(cell.output(c).middleCols((t - 1) * s.B, s.B));
        const Mat<double> numeric = check::numeric_step_jacobian(cell, u.middleCols(t * s.B, s.B), prev, b);
        EXPECT_LT(relative_difference(cell.step_jacobian(c, t, b), numeric), 1e-7) << "dt=" << dt << " t=" << t;
      }
  }
}

TEST(EulerRnn, WithoutRecurrentWeightsOnlyTheLeakCarriesTheGradient) {
  // W_hh = 0: x_t = (1 - dt) x_{t-1} + dt tanh(W_ih u_t + b), so dx_{T-1}/dx_{-1} = (1 - dt)^T I.
  Rng rng(12);
  const Index I = 2, H = 3, B = 2, T = 9;
  for (double dt : {0.1, 0.5}) {
    auto cell = random_cell({I, H, B, T}, dt, rng);
    cell.params.weight_hh.setZero();
    const Mat<double> u = rng.normal_matrix<double>(I, T * B);
    const Mat<double> r = rng.normal_matrix<double>(H, B);
    const auto c = cell.forward(u, B);
    const auto g = bptt(cell, c, Mat<double>(), r);
    EXPECT_LT(relative_difference(g.d_state0, std::pow(1 - dt, double(T)) * r), 1e-14) << "dt=" << dt;
    EXPECT_LT(relative_difference(cell.step_jacobian(c, 3, 1), (1 - dt) * Mat<double>::Identity(H, H)), 1e-15);
  }
}

TEST(EulerRnn, FloatAgreesWithDouble) {
  Rng rng(2);
  const Shape s{8, 16, 4, 20};
  auto cd = random_cell(s, 0.2, rng);
  EulerRnn<float> cf(s.I, s.H, 0.2);
  cf.params.weight_ih = cd.params.weight_ih.cast<float>();
  cf.params.weight_hh = cd.params.weight_hh.cast<float>();
  cf.params.bias_ih = cd.params.bias_ih.cast<float>();
  cf.params.bias_hh = cd.params.bias_hh.cast<float>();
  const Mat<double> u = rng.normal_matrix<double>(s.I, s.T * s.B);
  const Mat<double> dy = rng.normal_matrix<double>(s.H, s.T * s.B);
  const auto c64 = cd.forward(u, s.B);
  const auto c32 = cf.forward(u.cast<float>(), s.B);
  EXPECT_LT(relative_difference(cd.output(c64), cf.output(c32).cast<double>()), 1e-5);
  const auto g64 = bptt(cd, c64, dy, Mat<double>());
  const auto g32 = bptt(cf, c32, dy.cast<float>(), Mat<float>());
  EXPECT_LT(relative_difference(check::flatten(g64.params), check::flatten(g32.params)), 1e-5);
  EXPECT_LT(relative_difference(g64.d_input, g32.d_input.cast<double>()), 1e-5);
  EXPECT_LT(relative_difference(cd.step_jacobian(c64, 7, 2), cf.step_jacobian(c32, 7, 2).cast<double>()), 1e-5);
}

TEST(EulerRnn, BadInputIsRejectedWithANamedError) {
  EulerRnn<double> cell(3, 4, 0.1);
  Rng rng(1);
  cell.init_uniform(rng);
  const Mat<double> u = rng.normal_matrix<double>(3, 10);
  auto message = [&](auto&& f) {
    try {
      f();
    } catch (const InvalidInput& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_DOUBLE_EQ(cell.dt(), 0.1);
  EXPECT_DOUBLE_EQ(EulerRnn<float>(2, 2).dt(), 0.1);
  EXPECT_EQ(message([&] { EulerRnn<double>(3, 4, 0.0); }), "EulerRnn: dt must be positive and finite, got 0");
  EXPECT_EQ(message([&] { EulerRnn<double>(3, 4, -0.5); }), "EulerRnn: dt must be positive and finite, got -0.5");
  EXPECT_EQ(message([&] { EulerRnn<double>(3, 4, NAN); }), "EulerRnn: dt must be positive and finite, got nan");
  EXPECT_EQ(message([&] { EulerRnn<float>(3, 4, INFINITY); }), "EulerRnn: dt must be positive and finite, got inf");
  EXPECT_EQ(message([&] { EulerRnn<double>(0, 4); }), "EulerRnn: input and hidden sizes must be positive");
  EXPECT_EQ(message([&] { cell.forward(Mat<double>(2, 10), 2); }), "input: expected shape (3, T*2), got (2, 10)");
  EXPECT_EQ(message([&] { cell.forward(u, 3); }), "input: expected shape (3, T*3), got (3, 10)");
  EXPECT_EQ(message([&] { cell.forward(Mat<double>(3, 0), 2); }), "input: empty sequence (no time steps)");
  EXPECT_EQ(message([&] { cell.forward(u, 0); }), "input: batch size must be positive, got 0");
  EXPECT_EQ(message([&] { cell.forward(u, 2, Mat<double>::Zero(4, 3)); }), "x0: expected shape (4, 2), got (4, 3)");
  Mat<double> un = u;
  un(1, 7) = NAN;
  EXPECT_EQ(message([&] { cell.forward(un, 2); }), "input has a non-finite value at (1, 7)");
  auto bad = cell;
  bad.params.weight_hh(0, 0) = INFINITY;
  EXPECT_EQ(message([&] { bad.forward(u, 2); }), "weight_hh has a non-finite value at (0, 0)");
  bad = cell;
  bad.params.weight_hh = Mat<double>::Zero(4, 5);
  EXPECT_EQ(message([&] { bad.forward(u, 2); }), "weight_hh: expected shape (4, 4), got (4, 5)");
  bad = cell;
  bad.params.weight_ih = Mat<double>::Zero(5, 3);
  EXPECT_EQ(message([&] { bad.forward(u, 2); }), "weight_ih: expected shape (4, 3), got (5, 3)");
  bad = cell;
  bad.params.bias_hh = Vec<double>::Zero(3);
  EXPECT_EQ(message([&] { bad.forward(u, 2); }), "bias_hh: expected shape (4, 1), got (3, 1)");
  bad = cell;
  bad.params.bias_ih = Vec<double>();
  EXPECT_EQ(message([&] { bad.forward(u, 2); }), "EulerRnn: bias_ih and bias_hh must both be present or both absent");
  const auto c = cell.forward(u, 2);
  EXPECT_EQ(message([&] { bptt(cell, c, Mat<double>::Zero(4, 9), Mat<double>()); }),
            "d_output: expected shape (4, 10), got (4, 9)");
  EXPECT_EQ(message([&] { bptt(cell, c, Mat<double>(), Mat<double>::Zero(3, 2)); }),
            "d_final: expected shape (4, 2), got (3, 2)");
  EXPECT_EQ(message([&] { cell.step_jacobian(c, 5, 0); }), "step_jacobian: step or batch out of range");
  auto grads = cell.zero_gradients(c);
  EXPECT_EQ(message([&] { cell.backward_range(c, Mat<double>(), Mat<double>(), 3, 3, grads); }),
            "EulerRnn::backward_range: bad step range");
}

static_assert(RecurrentCell<EulerRnn<float>> && RecurrentCell<EulerRnn<double>>);

TEST(EulerRnn, WronglyShapedGradientsAreRejectedWithTheirNames) {
  // backward_range accumulates into grads: each tensor must have its parameter's shape.
  Rng rng(2);
  const auto cell = check::make_cell<EulerRnn<double>>(3, 4, rng);
  EXPECT_EQ(check::gradient_shape_failure(cell, cell.forward(rng.normal_matrix<double>(3, 10), 2)), "");
}
