// Plain stochastic gradient descent: theta <- theta - lr * dL/dtheta for every
// parameter tensor of a cell (any Params struct with for_each).
#pragma once

#include <vector>

namespace rnnscope {

template <class Params, class S>
void sgd_update(Params& params, const Params& grads, S learning_rate) {
  std::vector<const S*> g;
  grads.for_each([&](const char*, const auto& t) { g.push_back(t.data()); });
  size_t k = 0;
  params.for_each([&](const char*, auto& t) {
    const S* d = g[k++];
    for (Eigen::Index i = 0; i < t.size(); ++i) t.data()[i] -= learning_rate * d[i];
  });
}

}  // namespace rnnscope
