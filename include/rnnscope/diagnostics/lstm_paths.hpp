// The two routes a gradient takes back through an LSTM (seed 002, exercise 3).
// The state is s_t = [h_t; c_t] and its step Jacobian has the blocks
//
//   J_t = [ dh_t/dh_{t-1}   dh_t/dc_{t-1} ]     dc_t/dc_{t-1} = diag(f_t)  exactly,
//         [ dc_t/dh_{t-1}   dc_t/dc_{t-1} ]     since the gates read h_{t-1}, not c_{t-1}.
//
// For each look-back distance L = 0..T, with unit cotangents u_h on h_{T-1} and
// u_c on c_{T-1}, three log10 norms (each a ratio to the norm at L = 0, which is 1):
//   cell path    || diag(f_{T-L} ... f_{T-1}) u_c ||           the constant error carousel alone
//   hidden path  || J^hh_{T-L}^T ... J^hh_{T-1}^T u_h ||        h to h with the cell route cut
//   total        || J_{T-L}^T ... J_{T-1}^T [u_h; u_c] || / sqrt(2)   everything (the look-back ratio)
// Vectors are renormalised every step (the scale kept in log10), so thousands of
// steps neither underflow nor overflow.
#pragma once

#include <cmath>
#include <limits>
#include <vector>

#include "rnnscope/cells/lstm.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/core/tensor.hpp"
#include "rnnscope/diagnostics/jacobian_chain.hpp"

namespace rnnscope {

struct LstmPaths {
  std::vector<Index> distance;  // L = 0..T
  std::vector<double> cell_path_log10, hidden_path_log10, total_log10;
};

/// The three path norms above for batch element b of a forward cache.
template <Scalar S>
LstmPaths lstm_paths(const LSTM<S>& cell, const typename LSTM<S>::Cache& cache, Index b, const Vec<double>& u_h,
                     const Vec<double>& u_c) {
  const Index H = cell.output_size(), T = cache.steps;
  require(0 <= b && b < cache.batch, "lstm_paths: batch element out of range");
  check_shape("u_h", u_h, H, 1);
  check_shape("u_c", u_c, H, 1);
  require(u_h.norm() > 0 && u_c.norm() > 0, "lstm_paths: the cotangents u_h and u_c must be nonzero");
  Vec<double> cell_v = u_c.normalized(), hidden_v = u_h.normalized(), total_v(2 * H);
  total_v << u_h.normalized(), u_c.normalized();
  total_v /= std::sqrt(2.0);
  double cell_s = 0, hidden_s = 0, total_s = 0;
  LstmPaths p;
  auto record = [&](Index L) {
    p.distance.push_back(L);
    p.cell_path_log10.push_back(cell_s);
    p.hidden_path_log10.push_back(hidden_s);
    p.total_log10.push_back(total_s);
  };
  record(0);
  for (Index t = T - 1; t >= 0; --t) {
    const Mat<double> j = cell.step_jacobian(cache, t, b).template cast<double>();
    cell_v = cell_v.cwiseProduct(cell.cell_path_jacobian(cache, t, b).template cast<double>());
    hidden_v = j.topLeftCorner(H, H).transpose() * hidden_v;
    total_v = j.transpose() * total_v;
    detail::renormalise(cell_v, cell_s);
    detail::renormalise(hidden_v, hidden_s);
    detail::renormalise(total_v, total_s);
    record(T - t);
  }
  return p;
}

}  // namespace rnnscope
