#include "rnnscope/training/init.hpp"

#include <fmt/format.h>

#include <cmath>

#include "rnnscope/core/error.hpp"

namespace rnnscope {

std::string_view to_string(Init i) {
  switch (i) {
    case Init::pytorch: return "pytorch";
    case Init::xavier: return "xavier";
    case Init::orthogonal: return "orthogonal";
    case Init::identity: return "identity";
    case Init::scaled: return "scaled";
    case Init::critical: return "critical";
  }
  return "?";
}

Init parse_init(std::string_view name) {
  for (Init i : {Init::pytorch, Init::xavier, Init::orthogonal, Init::identity, Init::scaled, Init::critical})
    if (name == to_string(i)) return i;
  throw InvalidInput(fmt::format(
      "unknown initialisation '{}' (expected pytorch, xavier, orthogonal, identity, scaled or critical)", name));
}

template <Scalar S>
Mat<S> random_orthogonal(Index n, Rng& rng) {
  const Mat<double> g = rng.normal_matrix<double>(n, n);
  Eigen::HouseholderQR<Mat<double>> qr(g);
  Mat<double> q = qr.householderQ();
  const Mat<double> r = qr.matrixQR().template triangularView<Eigen::Upper>();
  for (Index j = 0; j < n; ++j)
    if (r(j, j) < 0) q.col(j) *= -1.0;  // makes the distribution Haar (Mezzadri 2007)
  return q.cast<S>();
}

template <Scalar S>
void init_matrix(Mat<S>& m, Init init, double scale, bool recurrent, Rng& rng) {
  require(std::isfinite(scale), "initialisation scale must be finite");
  const Index cols = m.cols();
  // A (G, H) recurrent matrix is G/H square blocks; an input matrix (G, I) likewise has G/H blocks.
  const Index blocks = (recurrent && m.rows() % cols == 0) ? m.rows() / cols : 1;
  const Index rows = m.rows() / blocks;
  for (Index k = 0; k < blocks; ++k) {
    auto block = m.middleRows(k * rows, rows);
    const double a = std::sqrt(6.0 / static_cast<double>(rows + cols));
    if (!recurrent || init == Init::xavier) {
      block = rng.uniform_matrix<S>(rows, cols, -a, a);
    } else if (init == Init::orthogonal) {
      block = static_cast<S>(scale) * random_orthogonal<S>(cols, rng);
    } else if (init == Init::identity) {
      block = static_cast<S>(scale) * Mat<S>::Identity(rows, cols);
    } else if (init == Init::scaled || init == Init::critical) {
      block = rng.normal_matrix<S>(rows, cols, scale / std::sqrt(static_cast<double>(cols)));
    } else {
      const double bound = 1.0 / std::sqrt(static_cast<double>(cols));
      block = rng.uniform_matrix<S>(rows, cols, -bound, bound);
    }
  }
}

template Mat<float> random_orthogonal(Index, Rng&);
template Mat<double> random_orthogonal(Index, Rng&);
template void init_matrix(Mat<float>&, Init, double, bool, Rng&);
template void init_matrix(Mat<double>&, Init, double, bool, Rng&);

template <Scalar S>
void initialise_model(Model<S>& model, Init init, double scale, double forget_bias, Rng& rng) {
  std::visit(
      [&](auto& stack) {
        for (Index l = 0; l < stack.num_layers(); ++l) {
          auto& cell = stack.layer(l);
          initialise(cell.params, init, scale, rng);
          if constexpr (std::is_same_v<std::decay_t<decltype(cell)>, LSTM<S>>) {
            const Index H = cell.output_size();
            if (cell.params.bias_ih.size() > 0)
              cell.params.bias_ih.segment(H, H).array() += static_cast<S>(forget_bias);
          }
        }
      },
      model);
}

template <Scalar S>
void chrono_biases(Model<S>& model, double tmax, Rng& rng) {
  require(std::isfinite(tmax) && tmax > 2, fmt::format("chrono initialisation needs T_max > 2, got {}", tmax));
  auto* stack = std::get_if<Stack<LSTM<S>>>(&model);
  require(stack != nullptr, "the chrono initialisation is for the lstm cell");
  for (Index l = 0; l < stack->num_layers(); ++l) {
    auto& p = stack->layer(l).params;
    const Index H = stack->layer(l).output_size();
    require(p.bias_ih.size() > 0, "the chrono initialisation sets gate biases: the model has none (--no-bias)");
    for (Index j = 0; j < H; ++j) {
      const double b = std::log(rng.uniform(1.0, tmax - 1.0));
      p.bias_ih[j] = static_cast<S>(-b);     // input gate
      p.bias_ih[H + j] = static_cast<S>(b);  // forget gate
      p.bias_hh[j] = 0;
      p.bias_hh[H + j] = 0;
    }
  }
}

template void chrono_biases(Model<float>&, double, Rng&);
template void chrono_biases(Model<double>&, double, Rng&);
template void initialise_model(Model<float>&, Init, double, double, Rng&);
template void initialise_model(Model<double>&, Init, double, double, Rng&);

}  // namespace rnnscope
