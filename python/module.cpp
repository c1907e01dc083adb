// The Python module rnnscope: the library's models, gradients and studies on
// numpy arrays (docs/python.md). This file: the module, its errors, and the
// conversions between numpy arrays and the library's tensors.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "bindings.hpp"
#include "rnnscope/core/error.hpp"

namespace rnnscope::python {

namespace {

std::string shape_text(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) s += (d ? ", " : "") + std::to_string(a.shape(d));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

std::atomic<int> g_active{0}, g_peak{0};

}  // namespace

DType array_dtype(const std::string& name, const py::array& a) {
  if (a.dtype().is(py::dtype::of<float>())) return DType::f32;
  if (a.dtype().is(py::dtype::of<double>())) return DType::f64;
  throw InvalidInput(fmt::format("{}: dtype {} is neither float32 nor float64", name, std::string(py::str(a.dtype()))));
}

NamedTensor to_named_tensor(const std::string& name, const py::array& a) {
  NamedTensor t;
  t.name = name;
  t.dtype = array_dtype(name, a);
  for (py::ssize_t d = 0; d < a.ndim(); ++d) t.shape.push_back(a.shape(d));
  t.values.resize(static_cast<std::size_t>(a.size()));
  // A C-ordered copy whatever the array's layout, read in row-major order.
  if (t.dtype == DType::f32) {
    const auto c = py::array_t<float, py::array::c_style>::ensure(a);
    std::copy(c.data(), c.data() + c.size(), t.values.begin());
  } else {
    const auto c = py::array_t<double, py::array::c_style>::ensure(a);
    std::copy(c.data(), c.data() + c.size(), t.values.begin());
  }
  return t;
}

py::array to_array(const NamedTensor& t) {
  std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end());
  auto fill = [&](auto tag) {
    using T = decltype(tag);
    py::array_t<T> a(shape);
    std::transform(t.values.begin(), t.values.end(), a.mutable_data(), [](double v) { return static_cast<T>(v); });
    return py::array(a);
  };
  if (t.dtype == DType::f32) return fill(float{});
  if (t.dtype == DType::f64) return fill(double{});
  return fill(std::int64_t{});
}

template <Scalar S>
void to_sequence(const std::string& name, const py::array& a, Index steps, Index batch, Index features, Mat<S>& m) {
  require(array_dtype(name, a) == dtype_of<S>, fmt::format("{} is {} but the model is {}: use one dtype throughout",
                                                           name, std::string(py::str(a.dtype())), dtype_text<S>));
  const auto dim = [](Index n, const char* letter) { return n > 0 ? std::to_string(n) : std::string(letter); };
  const bool ok = a.ndim() == 3 && a.shape(0) > 0 && a.shape(1) > 0 && a.shape(2) == features &&
                  (steps == 0 || a.shape(0) == steps) && (batch == 0 || a.shape(1) == batch);
  require(ok, fmt::format("{}: expected shape ({}, {}, {}), got {}", name, dim(steps, "T"), dim(batch, "B"), features,
                          shape_text(a)));
  // C-ordered (T, B, F) is column-major (F, T*B): one memcpy (a strided array is made contiguous first).
  const auto c = py::array_t<S, py::array::c_style>::ensure(a);
  m.resize(features, a.shape(0) * a.shape(1));
  std::memcpy(m.data(), c.data(), sizeof(S) * static_cast<std::size_t>(m.size()));
}

template <Scalar S>
Mat<S> to_sequence(const std::string& name, const py::array& a, Index steps, Index batch, Index features) {
  Mat<S> m;
  to_sequence<S>(name, a, steps, batch, features, m);
  return m;
}

template <Scalar S>
py::array matrix_array(Mat<S>&& m, Index batch) {
  auto* owned = new Mat<S>(std::move(m));
  py::capsule owner(owned, [](void* p) { delete static_cast<Mat<S>*>(p); });
  const auto size = static_cast<py::ssize_t>(sizeof(S));
  const py::ssize_t R = owned->rows(), C = owned->cols();
  if (batch > 0)
    return py::array_t<S>({C / batch, static_cast<py::ssize_t>(batch), R}, {size * R * batch, size * R, size},
                          owned->data(), owner);
  return py::array_t<S>({R, C}, {size, size * R}, owned->data(), owner);
}

template <Scalar S>
py::array vector_array(Vec<S>&& v) {
  auto* owned = new Vec<S>(std::move(v));
  py::capsule owner(owned, [](void* p) { delete static_cast<Vec<S>*>(p); });
  return py::array_t<S>({static_cast<py::ssize_t>(owned->size())}, {static_cast<py::ssize_t>(sizeof(S))}, owned->data(),
                        owner);
}

template Mat<float> to_sequence<float>(const std::string&, const py::array&, Index, Index, Index);
template Mat<double> to_sequence<double>(const std::string&, const py::array&, Index, Index, Index);
template void to_sequence<float>(const std::string&, const py::array&, Index, Index, Index, Mat<float>&);
template void to_sequence<double>(const std::string&, const py::array&, Index, Index, Index, Mat<double>&);
template py::array matrix_array<float>(Mat<float>&&, Index);
template py::array matrix_array<double>(Mat<double>&&, Index);
template py::array vector_array<float>(Vec<float>&&);
template py::array vector_array<double>(Vec<double>&&);

Execution execution(int threads) {
  Execution e{threads, nullptr};
  e.validate();
  return e;
}

Computing::Computing() {
  const int now = ++g_active;
  int peak = g_peak.load();
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
  }
}
Computing::~Computing() { --g_active; }
int Computing::active_peak() { return g_peak.load(); }
void Computing::reset_peak() { g_peak = g_active.load(); }

}  // namespace rnnscope::python

PYBIND11_MODULE(rnnscope, m) {
  namespace py = pybind11;
  using namespace rnnscope::python;
  m.doc() =
      "Exact gradients through time of recurrent networks (Elman, LSTM, GRU, CT-RNN) and the diagnostics of "
      "vanishing gradients, on numpy arrays. Sequences are time-major (T, B, F) as in PyTorch; float32 and "
      "float64 are computed as given. See docs/python.md.";
  // The library's InvalidInput is a ValueError carrying its message; any other
  // C++ exception becomes RuntimeError (pybind11's default), never an abort.
  py::register_exception<rnnscope::InvalidInput>(m, "InvalidInput", PyExc_ValueError);
  register_model(m);
  register_studies(m);
  register_training(m);
  m.def("_active_peak", &Computing::active_peak,
        "The most library computations seen running at once since _reset_active_peak() (tests).");
  m.def("_reset_active_peak", &Computing::reset_peak, "Starts counting _active_peak() again.");
  m.attr("__version__") = RNNSCOPE_VERSION;
}
