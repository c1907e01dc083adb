// What the Python module's sources share: numpy arrays to and from the
// library's matrices, the Model class's C++ side, and the one way a call runs
// the library (GIL released, threads applied, counted).
//
// Layouts (core/tensor.hpp): numpy's C-ordered (T, B, F) array is the memory of
// the library's sequence matrix (F, T*B), and a C-ordered (R, C) array is an
// (R, C) matrix transposed, so a parameter (R, C) leaves as a Fortran-ordered
// array over the matrix's own memory.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <atomic>
#include <string>
#include <variant>

#include "rnnscope/core/execution.hpp"
#include "rnnscope/io/safetensors.hpp"
#include "rnnscope/sequence/model.hpp"

namespace rnnscope::python {

namespace py = pybind11;

/// The dtype of an array as the library names it; throws InvalidInput naming
/// the array unless it is float32 or float64.
DType array_dtype(const std::string& name, const py::array& a);

/// An array as a file's tensor (values copied, any layout): for the small
/// tensors (states, parameters) that the library reads through io/.
NamedTensor to_named_tensor(const std::string& name, const py::array& a);
/// A tensor as a new C-ordered array of its dtype (I64 as int64).
py::array to_array(const NamedTensor& t);

/// A (T, B, F) array of dtype S as the sequence matrix (F, T*B): one copy of
/// its memory (the library's functions take a Mat). Throws InvalidInput
/// naming the array unless its dtype is S and its shape (steps, batch,
/// features), where steps or batch 0 means any positive size.
template <Scalar S>
Mat<S> to_sequence(const std::string& name, const py::array& a, Index steps, Index batch, Index features);
/// The same into m, which keeps its memory when it has the size already.
template <Scalar S>
void to_sequence(const std::string& name, const py::array& a, Index steps, Index batch, Index features, Mat<S>& m);
/// "float32" or "float64".
template <Scalar S>
inline const char* dtype_text = std::is_same_v<S, float> ? "float32" : "float64";

/// A matrix handed to numpy without a copy: the array owns it. As (rows, cols)
/// Fortran-ordered, or as a sequence (T, B, F) C-ordered when batch > 0.
template <Scalar S>
py::array matrix_array(Mat<S>&& m, Index batch = 0);
/// A vector handed to numpy without a copy.
template <Scalar S>
py::array vector_array(Vec<S>&& v);

/// A model held by a Python rnnscope.Model: its spec and its parameters in
/// the dtype it was given.
struct PyModel {
  ModelSpec spec;
  std::variant<Model<float>, Model<double>> model;

  DType dtype() const { return model.index() == 0 ? DType::f32 : DType::f64; }
  /// The state_dict and metadata, as a model file holds them (io/model_file.hpp).
  TensorFile file() const;
};

/// Builds a model from a model file's tensors (io/model_file.hpp's checks and
/// messages), in the dtype every tensor shares (mixed: InvalidInput).
PyModel model_from_file(const TensorFile& file);

/// The execution of a call's threads= argument, validated.
Execution execution(int threads);

/// Releases the GIL for a computation and counts the computations running at
/// once (active_peak(): the most seen since reset_peak(); the test that two
/// threads compute together reads it).
class Computing {
 public:
  Computing();
  ~Computing();
  Computing(const Computing&) = delete;
  Computing& operator=(const Computing&) = delete;
  static int active_peak();
  static void reset_peak();

 private:
  py::gil_scoped_release release_;
};

void register_model(py::module_& m);
void register_studies(py::module_& m);
void register_training(py::module_& m);

}  // namespace rnnscope::python
