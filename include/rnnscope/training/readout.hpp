// The linear readout of a trained model, y_t = W h_t + b on the top layer's
// outputs: PyTorch's nn.Linear(H, O), stored under its names with the prefix
// `readout.` (readout.weight (O, H), readout.bias (O)) beside the stack's.
#pragma once

#include <cmath>

#include "rnnscope/core/random.hpp"
#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

template <Scalar S>
struct Readout {
  Mat<S> weight;  ///< (O, H)
  Vec<S> bias;    ///< (O)

  Index input_size() const { return weight.cols(); }
  Index output_size() const { return weight.rows(); }

  /// nn.Linear's default initialisation: weight and bias U(-1/sqrt(H), 1/sqrt(H))
  /// (kaiming_uniform_ with a = sqrt(5) gives that bound for the weight).
  static Readout pytorch_default(Index hidden, Index outputs, Rng& rng) {
    const double k = 1.0 / std::sqrt(static_cast<double>(hidden));
    Readout r;
    r.weight = rng.uniform_matrix<S>(outputs, hidden, -k, k);
    r.bias = rng.uniform_matrix<S>(outputs, 1, -k, k);
    return r;
  }

  /// y (O, n) = W h + b for h (H, n).
  template <class H, class Y>
  void forward(const H& h, Y& y) const {
    y.noalias() = weight * h;
    y.colwise() += bias;
  }

  template <class F> void for_each(F&& f) {
    f("readout.weight", weight);
    f("readout.bias", bias);
  }
  template <class F> void for_each(F&& f) const {
    f("readout.weight", weight);
    f("readout.bias", bias);
  }
};

}  // namespace rnnscope
