// The Elman cell's equations (elman.hpp): forward, backward and step Jacobian,
// called by RecurrentCellBase once it has checked their arguments.
#include "rnnscope/cells/elman.hpp"

#include "recurrent_cell.hpp"
#include "rnnscope/cells/batch_schedule.hpp"

namespace rnnscope {

template <Scalar S>
void forward_steps(const Elman<S>& cell, const Mat<S>& x, ElmanCache<S>& c) {
  const auto& params = cell.params;
  const Activation f = cell.nonlinearity();
  const Index T = c.steps, B = c.batch;
  const Vec<S> bias = summed_bias(params.bias_ih, params.bias_hh);
  // Blocks of steps (batch_schedule.hpp): the input projections of a block in
  // one GEMM, written where a_t will be, then W_hh h_{t-1} added step by step.
  forward_in_blocks(
      c.states.rightCols(T * B), params.weight_ih, x, bias, B,
      [&](Index b0, Index nb, Index t0, Index t1) {
        for (Index t = t0; t < t1; ++t) {
          // a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh,  h_t = f(a_t)
          auto a = c.states.middleCols((t + 1) * B + b0, nb);
          gemm(a, params.weight_hh, c.states.middleCols(t * B + b0, nb), true);
          activate_inplace(f, a);
        }
      });
}

// The cell's one local derivative is f'(a_t), read from h_t
// (multiply_by_derivative): backward multiplies the cotangent of h_t by it,
// and step_jacobian_of scales the rows of W_hh by it (multiplying ones, which
// gives f'(a_t) to the bit).

template <Scalar S>
void backward_steps(const Elman<S>& cell, const ElmanCache<S>& c, const OutputCotangent<S>& d_output, Mat<S>& g,
                    Index t0, Index t1, RecurrentGradients<S>& grads) {
  const Activation f = cell.nonlinearity();
  const Index B = c.batch;
  // Blocks of steps (batch_schedule.hpp): delta_t = dL/da_t of one block feeds
  // that block's weight-gradient GEMMs.
  one_state_backward(cell, c, d_output, g, t0, t1, grads, [&](Index t, Index b0, Index nb, auto& g_slice, auto& delta_t) {
    // h_t = f(a_t): delta_t = f'(a_t) (dL/dh_t + what step t + 1 sends back)
    multiply_by_derivative(f, delta_t, c.states.middleCols((t + 1) * B + b0, nb));
    // a_t = ... + W_hh h_{t-1}: dL/dh_{t-1} = W_hh^T delta_t
    gemm(g_slice, cell.params.weight_hh.transpose(), delta_t, false);
  });
}

template <Scalar S>
void step_jacobian_of(const Elman<S>& cell, const ElmanCache<S>& c, Index t, Index b, Mat<S>& J) {
  const auto h = c.states.col((t + 1) * c.batch + b);
  Vec<S> fprime = Vec<S>::Ones(h.size());
  multiply_by_derivative(cell.nonlinearity(), fprime, h);
  J.resize(h.size(), h.size());
  J.noalias() = fprime.asDiagonal() * cell.params.weight_hh;
}

template class RecurrentCellBase<Elman<float>, float, ElmanCache<float>>;
template class RecurrentCellBase<Elman<double>, double, ElmanCache<double>>;

}  // namespace rnnscope
