// Initialisations of a cell's weights, the knob of the look-back and spectrum
// studies. Recurrent matrices made of gate blocks ((G, H) with G = kH) are
// initialised block by block, as each block multiplies h_{t-1} on its own.
//
//   pytorch     every tensor U(-1/sqrt(H), 1/sqrt(H)) (PyTorch's default)
//   xavier      W_hh and W_ih blocks U(-a, a), a = sqrt(6/(fan_in + fan_out)); biases 0
//   orthogonal  W_hh blocks orthogonal (QR of a Gaussian, signs fixed by diag R) times scale; W_ih xavier
//   identity    W_hh blocks scale * I (Le, Jaitly and Hinton 2015); W_ih xavier
//   scaled      W_hh blocks N(0, scale^2/H), spectral radius near scale (circular law); W_ih xavier
//   critical    as scaled, with scale the mean-field g_c at which chi = 1 for the cell and its inputs
//               (diagnostics/mean_field.hpp: critical_scale, resolve_scale; initialise_model is given it)
#pragma once

#include <string>
#include <string_view>

#include "rnnscope/core/random.hpp"
#include "rnnscope/core/tensor.hpp"
#include "rnnscope/sequence/model.hpp"

namespace rnnscope {

enum class Init { pytorch, xavier, orthogonal, identity, scaled, critical };

std::string_view to_string(Init i);
/// Throws InvalidInput naming the unknown initialisation and the choices.
Init parse_init(std::string_view name);

/// An (n, n) orthogonal matrix drawn from the Haar measure.
template <Scalar S>
Mat<S> random_orthogonal(Index n, Rng& rng);

/// Fills one matrix: `recurrent` selects the W_hh rule, otherwise the W_ih rule.
template <Scalar S>
void init_matrix(Mat<S>& m, Init init, double scale, bool recurrent, Rng& rng);

/// Initialises every tensor of a cell's parameters (weight_hh* recurrent,
/// weight_ih* input, bias* zero; `pytorch` leaves the tensor rule to PyTorch's).
template <class Params>
void initialise(Params& params, Init init, double scale, Rng& rng) {
  using S = typename std::remove_reference_t<decltype(params.weight_hh)>::Scalar;
  params.for_each([&](const char* name, auto& t) {
    const std::string n = name;
    if (init == Init::pytorch) {
      const Index H = params.weight_hh.cols();
      const double k = 1.0 / std::sqrt(static_cast<double>(H));
      t = rng.uniform_matrix<S>(t.rows(), t.cols(), -k, k);
    } else if (n.rfind("bias", 0) == 0) {
      t.setZero();
    } else {
      Mat<S> m = t;
      init_matrix(m, init, scale, n.find("hh") != std::string::npos, rng);
      t = m;
    }
  });
}

/// Initialises every layer of a model by `init` (as initialise) and adds
/// forget_bias to each LSTM layer's forget-gate bias (bias_ih's second block).
template <Scalar S>
void initialise_model(Model<S>& model, Init init, double scale, double forget_bias, Rng& rng);

/// The chrono initialisation of Tallec and Ollivier (2018) of every LSTM
/// layer's gate biases: the forget gate's log(u), u ~ U[1, tmax - 1], and the
/// input gate's -log(u), drawn per unit. PyTorch has two bias vectors: bias_ih
/// carries the values and bias_hh's input and forget blocks are set to zero,
/// so each gate's total bias is exactly chrono's (writing it into both, as
/// some published code does, doubles it). Throws InvalidInput unless the
/// model is an LSTM with biases and tmax > 2.
template <Scalar S>
void chrono_biases(Model<S>& model, double tmax, Rng& rng);

}  // namespace rnnscope
