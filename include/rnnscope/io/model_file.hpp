// Model files: a PyTorch state_dict (weight_ih_l0, weight_hh_l0, bias_ih_l0,
// bias_hh_l0, ... per layer) in safetensors, with __metadata__ naming what the
// state_dict leaves out: cell (rnn_tanh, rnn_relu, rnn_sigmoid, lstm, gru,
// ctrnn), and where needed dt; num_layers, hidden_size, input_size and bias are
// written too and, when absent, read off the tensors. The same layout is what
// rnnscope writes, and PyTorch's load_state_dict accepts it.
//
// Initial and final states travel as PyTorch's h (L, B, H) and, for the LSTM,
// c (L, B, H); inside rnnscope a stack's state is [s^0; s^1; ...] with
// s^l = h^l, or [h^l; c^l] for the LSTM.
#pragma once

#include "rnnscope/io/safetensors.hpp"
#include "rnnscope/sequence/model.hpp"
#include "rnnscope/studies/analysis.hpp"

namespace rnnscope {

/// The model's kind and sizes from the metadata and the tensors; checks they agree.
ModelSpec read_model_spec(const TensorFile& file);

/// The readout of a trained model (readout.weight, readout.bias; training/readout.hpp).
inline bool is_readout_name(const std::string& name) { return name == "readout.weight" || name == "readout.bias"; }

/// Builds the model of `file` and loads every parameter, checking each shape
/// and that its dtype is F32 or F64 (not I64); a missing or unexpected tensor
/// is an error naming it. A trained model's readout tensors are not the
/// recurrent model's and are passed over (load_trainable in
/// io/training_files.hpp reads them).
template <Scalar S>
Model<S> load_model(const TensorFile& file);

/// The state_dict and metadata of a model.
template <Scalar S>
TensorFile save_model(const Model<S>& model, const ModelSpec& spec);

/// A stack state (sum of layer states, B) from PyTorch's h (L, B, H) and c (L, B, H)
/// (either may be null: zeros). Checks shapes, naming the tensor.
template <Scalar S>
Mat<S> state_from_pytorch(const Model<S>& model, const NamedTensor* h, const NamedTensor* c, Index batch);

/// PyTorch's h (L, B, H) and, for the LSTM, c (L, B, H) from a stack state,
/// named prefix_h + suffix ("h_n", "grad.h0", ...).
template <Scalar S>
std::vector<NamedTensor> state_to_pytorch(const Model<S>& model, const Mat<S>& state, const std::string& h_name,
                                          const std::string& c_name);

/// Checks that an input file holds only the tensors `grad` and `analyze` read
/// (input, h0, c0, grad_output, grad_h_n, grad_c_n): a misspelt name would
/// otherwise be a silently zero state or cotangent. Throws InvalidInput naming it.
void check_input_names(const TensorFile& input_file);

/// rnnscope grad: outputs and the vector-Jacobian product of a model on an
/// input file (input, optional h0, c0, grad_output, grad_h_n, grad_c_n), in the
/// files' dtype: every tensor of both files must have the same one, F32 or F64
/// (an I64 tensor is an error naming it). Returns output, h_n (c_n),
/// grad.<param>, grad.input, grad.h0 (grad.c0). First checks the cost of the
/// computation against limits.max_memory (core/cost.hpp: MemoryLimitExceeded).
TensorFile grad_files(const TensorFile& model_file, const TensorFile& input_file, const Execution& limits = {});

/// The analysis of a model file on an input file (rnnscope analyze): the
/// model in double, the input (T, B, I) as (I, T*B), the initial state from
/// h0 and c0 where given, and the options; validated. Throws InvalidInput
/// naming the file's tensor or the option that is wrong (an I64 tensor among
/// them included).
AnalysisSpec analysis_spec(const TensorFile& model_file, const TensorFile& input_file,
                           const AnalysisOptions& options);

}  // namespace rnnscope
