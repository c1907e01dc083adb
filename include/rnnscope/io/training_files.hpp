// The files of training (docs/formats.md):
//   a trainable model   a model file (model_file.hpp) plus, optionally, the
//                       readout as nn.Linear's tensors readout.weight (O, H)
//                       and readout.bias (O);
//   a data file         input (T, N, I) and target: (N, O) or (T, N, O) for
//                       the MSE losses, class indices (N) or (T, N) for the
//                       cross-entropy losses, as I64 or integral F32/F64;
//   a checkpoint        everything a run needs to continue bit for bit: the
//                       parameters (model.<name>), the optimiser's state
//                       (optim.<name>.<buffer>), the learning curve and the
//                       gradient flow so far, and in __metadata__ the step, the
//                       options (spec, JSON) and the run's counters.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "rnnscope/io/safetensors.hpp"
#include "rnnscope/training/trainer.hpp"

namespace rnnscope {

template <Scalar S>
struct TrainableModel {
  ModelSpec spec;
  Model<S> model;
  std::optional<Readout<S>> readout;  ///< none when the file has no readout tensors
};

/// Loads a model file and its readout if it has one (both tensors or
/// neither; shapes (O, H) and (O)). Throws InvalidInput naming what is wrong.
template <Scalar S>
TrainableModel<S> load_trainable(const TensorFile& file);

/// The model's state_dict (save_model) followed by readout.weight and readout.bias;
/// spec gives the cell kind and dt, the sizes are read off the model.
template <Scalar S>
TensorFile save_trainable(const Model<S>& model, const Readout<S>& readout, const ModelSpec& spec);

/// The user's data for `loss`. classes: the number of classes of a
/// cross-entropy loss (the readout's outputs), or 0 to take the largest label
/// + 1. Throws InvalidInput naming the tensor whose shape disagrees with the
/// loss, a non-finite value, or a class index out of range.
template <Scalar S>
Dataset<S> load_dataset(const TensorFile& file, TrainLoss loss, Index classes);

/// The options of a run as JSON (every field of TrainSpec), and back.
nlohmann::json to_json(const TrainSpec& spec);
/// Throws InvalidInput naming a missing or malformed field.
TrainSpec train_spec_from_json(const nlohmann::json& j);

/// The checkpoint of a run: spec, the model spec of its model, the state,
/// and `extra` metadata (the front end's: data file, thread count).
template <Scalar S>
TensorFile checkpoint_file(const TrainSpec& spec, const ModelSpec& model_spec, const TrainState<S>& state,
                           const std::map<std::string, std::string>& extra = {});

/// The options stored in a checkpoint; throws InvalidInput if `file` is not one.
TrainSpec checkpoint_spec(const TensorFile& file);
/// The dtype of a checkpoint's parameters.
DType checkpoint_dtype(const TensorFile& file);

/// The state a checkpoint holds, for `spec` (checkpoint_spec(file), with
/// steps possibly raised). Throws InvalidInput naming a missing or malformed entry.
template <Scalar S>
TrainState<S> restore_checkpoint(const TensorFile& file, const TrainSpec& spec, const Dataset<S>* data = nullptr);

}  // namespace rnnscope
