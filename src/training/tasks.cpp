#include "rnnscope/training/tasks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "rnnscope/core/error.hpp"

namespace rnnscope {

namespace {

constexpr Index kCopySymbols = 10;   // remembered symbols of the copy task
constexpr int kCopyCategories = 10;  // 0..7 symbols, 8 blank, 9 delimiter
constexpr int kBlank = 8, kDelimiter = 9;
constexpr double kTolerance = 0.04;  // Hochreiter and Schmidhuber's accuracy threshold

/// An index uniform on 0..n-1 from one draw.
Index uniform_index(Rng& rng, Index n) {
  return std::min<Index>(n - 1, static_cast<Index>(rng.uniform() * static_cast<double>(n)));
}

}  // namespace

std::string_view to_string(TaskKind k) {
  switch (k) {
    case TaskKind::adding: return "adding";
    case TaskKind::copy: return "copy";
    case TaskKind::recall: return "recall";
    case TaskKind::data: return "data";
  }
  return "?";
}

TaskKind parse_task(std::string_view name) {
  for (TaskKind k : {TaskKind::adding, TaskKind::copy, TaskKind::recall})
    if (name == to_string(k)) return k;
  throw InvalidInput(fmt::format("unknown task '{}' (expected adding, copy or recall, or --data FILE)", name));
}

std::string_view to_string(TrainLoss k) {
  switch (k) {
    case TrainLoss::mse_last: return "mse_last";
    case TrainLoss::mse_all: return "mse_all";
    case TrainLoss::ce_last: return "ce_last";
    case TrainLoss::ce_all: return "ce_all";
  }
  return "?";
}

TrainLoss parse_train_loss(std::string_view name) {
  for (TrainLoss k : {TrainLoss::mse_last, TrainLoss::mse_all, TrainLoss::ce_last, TrainLoss::ce_all})
    if (name == to_string(k)) return k;
  throw InvalidInput(fmt::format("unknown loss '{}' (expected mse_last, mse_all, ce_last or ce_all)", name));
}

void TaskSpec::validate() const {
  require(kind != TaskKind::data, "a generated task cannot be 'data'");
  require(T >= 2 && T <= 1'000'000, fmt::format("--T must be in 2..1000000, got {}", T));
  if (kind == TaskKind::recall)
    require(lag == -1 || (lag >= 0 && lag <= T - 1),
            fmt::format("--lag must be in 0..T-1 = 0..{}, got {}", T - 1, lag));
  else
    require(lag == -1, fmt::format("--lag is an option of the recall task, not of {}", to_string(kind)));
}

Index TaskSpec::sequence_length() const { return kind == TaskKind::copy ? T + 20 : T; }
Index TaskSpec::input_size() const {
  return kind == TaskKind::adding ? 2 : kind == TaskKind::copy ? kCopyCategories : 1;
}
Index TaskSpec::output_size() const { return kind == TaskKind::copy ? kCopyCategories : 1; }
TrainLoss TaskSpec::loss() const { return kind == TaskKind::copy ? TrainLoss::ce_all : TrainLoss::mse_last; }
double TaskSpec::baseline() const {
  switch (kind) {
    case TaskKind::adding: return 1.0 / 6.0;
    case TaskKind::copy: return static_cast<double>(kCopySymbols) * std::log(8.0) / static_cast<double>(T + 20);
    case TaskKind::recall: return 1.0;
    case TaskKind::data: break;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

template <Scalar S>
Batch<S> make_batch(const TaskSpec& task, Index B, Rng& rng) {
  task.validate();
  require(B >= 1, "a batch needs at least one sequence");
  const Index T = task.T, L = task.sequence_length();
  Batch<S> out;
  out.batch = B;
  out.input = Mat<S>::Zero(task.input_size(), L * B);
  switch (task.kind) {
    case TaskKind::adding: {
      out.target.resize(1, B);
      const Index half = T / 2;
      for (Index b = 0; b < B; ++b) {
        for (Index t = 0; t < T; ++t) out.input(0, t * B + b) = static_cast<S>(rng.uniform());
        const Index m1 = uniform_index(rng, half), m2 = half + uniform_index(rng, T - half);
        out.input(1, m1 * B + b) = 1;
        out.input(1, m2 * B + b) = 1;
        out.target(0, b) = out.input(0, m1 * B + b) + out.input(0, m2 * B + b);
      }
      break;
    }
    case TaskKind::copy: {
      out.labels.assign(static_cast<size_t>(L * B), kBlank);
      for (Index b = 0; b < B; ++b) {
        for (Index t = 0; t < L; ++t) {
          int symbol = kBlank;
          if (t < kCopySymbols) {
            symbol = static_cast<int>(uniform_index(rng, 8));
            out.labels[static_cast<size_t>((T + kCopySymbols + t) * B + b)] = symbol;
          } else if (t == T + 9) {
            symbol = kDelimiter;
          }
          out.input(symbol, t * B + b) = 1;
        }
      }
      break;
    }
    case TaskKind::recall: {
      out.input = rng.normal_matrix<S>(1, T * B);
      const Index from = T - 1 - task.effective_lag();
      out.target = out.input.middleCols(from * B, B);
      break;
    }
    case TaskKind::data: break;
  }
  return out;
}

template <Scalar S>
Batch<S> Dataset<S>::select(const std::vector<Index>& idx) const {
  return select_batch(all, idx);
}

template <Scalar S>
Batch<S> select_batch(const Batch<S>& all, const std::vector<Index>& idx) {
  const Index N = all.batch, B = static_cast<Index>(idx.size()), T = all.steps();
  Batch<S> out;
  out.batch = B;
  out.input.resize(all.input.rows(), T * B);
  for (Index t = 0; t < T; ++t)
    for (Index b = 0; b < B; ++b) out.input.col(t * B + b) = all.input.col(t * N + idx[static_cast<size_t>(b)]);
  if (!all.labels.empty()) {
    const Index steps = static_cast<Index>(all.labels.size()) / N;
    out.labels.resize(static_cast<size_t>(steps * B));
    for (Index t = 0; t < steps; ++t)
      for (Index b = 0; b < B; ++b)
        out.labels[static_cast<size_t>(t * B + b)] =
            all.labels[static_cast<size_t>(t * N + idx[static_cast<size_t>(b)])];
  } else {
    const Index steps = all.target.cols() / N;
    out.target.resize(all.target.rows(), steps * B);
    for (Index t = 0; t < steps; ++t)
      for (Index b = 0; b < B; ++b) out.target.col(t * B + b) = all.target.col(t * N + idx[static_cast<size_t>(b)]);
  }
  return out;
}

template <Scalar S>
LossValue evaluate_outputs(TaskKind task, TrainLoss loss, const Mat<S>& y, const Batch<S>& batch, Mat<S>* d_y) {
  const Index B = batch.batch, cols = y.cols(), O = y.rows();
  require(cols == (is_last_step(loss) ? B : batch.steps() * B), "evaluate_outputs: outputs and batch disagree");
  LossValue v;
  if (d_y != nullptr) d_y->resize(O, cols);
  if (!is_cross_entropy(loss)) {
    check_shape("target", batch.target, O, cols);
    const double n = static_cast<double>(y.size());
    double sum = 0, sum_t = 0, sum_t2 = 0;
    Index close = 0;
    for (Index j = 0; j < cols; ++j)
      for (Index i = 0; i < O; ++i) {
        const double d = static_cast<double>(y(i, j)) - static_cast<double>(batch.target(i, j));
        sum += d * d;
        close += std::abs(d) < kTolerance ? 1 : 0;
        sum_t += static_cast<double>(batch.target(i, j));
        sum_t2 += static_cast<double>(batch.target(i, j)) * static_cast<double>(batch.target(i, j));
        if (d_y != nullptr) (*d_y)(i, j) = static_cast<S>(2.0 / n) * (y(i, j) - batch.target(i, j));
      }
    v.loss = sum / n;
    if (task == TaskKind::data) {
      const double mean = sum_t / n, variance = sum_t2 / n - mean * mean;
      v.metric = variance > 0 ? 1.0 - v.loss / variance : std::numeric_limits<double>::quiet_NaN();
    } else {
      v.metric = static_cast<double>(close) / n;
    }
    return v;
  }
  require(static_cast<Index>(batch.labels.size()) == cols, "evaluate_outputs: labels and outputs disagree");
  double sum = 0;
  std::vector<char> right(static_cast<size_t>(cols));
  for (Index j = 0; j < cols; ++j) {
    const int label = batch.labels[static_cast<size_t>(j)];
    Index arg = 0;
    double top = static_cast<double>(y(0, j));
    for (Index i = 1; i < O; ++i)
      if (static_cast<double>(y(i, j)) > top) top = static_cast<double>(y(i, j)), arg = i;
    double z = 0;
    for (Index i = 0; i < O; ++i) z += std::exp(static_cast<double>(y(i, j)) - top);
    const double log_z = top + std::log(z);
    sum += log_z - static_cast<double>(y(label, j));
    right[static_cast<size_t>(j)] = arg == label ? 1 : 0;
    if (d_y != nullptr)
      for (Index i = 0; i < O; ++i)
        (*d_y)(i, j) = static_cast<S>((std::exp(static_cast<double>(y(i, j)) - log_z) - (i == label ? 1.0 : 0.0)) /
                                      static_cast<double>(cols));
  }
  v.loss = sum / static_cast<double>(cols);
  if (task == TaskKind::copy) {
    const Index L = batch.steps(), T = L - 20;
    Index all_right = 0;
    for (Index b = 0; b < B; ++b) {
      bool ok = true;
      for (Index t = T + kCopySymbols; t < L; ++t) ok = ok && right[static_cast<size_t>(t * B + b)] != 0;
      all_right += ok ? 1 : 0;
    }
    v.metric = static_cast<double>(all_right) / static_cast<double>(B);
  } else {
    Index n_right = 0;
    for (char r : right) n_right += r;
    v.metric = static_cast<double>(n_right) / static_cast<double>(cols);
  }
  return v;
}

bool solves(TaskKind task, const LossValue& eval) {
  switch (task) {
    case TaskKind::adding:
    case TaskKind::recall: return eval.loss < 0.01;
    case TaskKind::copy: return eval.metric >= 0.99;
    case TaskKind::data: return false;
  }
  return false;
}

template Batch<float> make_batch(const TaskSpec&, Index, Rng&);
template Batch<double> make_batch(const TaskSpec&, Index, Rng&);
template Batch<float> select_batch(const Batch<float>&, const std::vector<Index>&);
template Batch<double> select_batch(const Batch<double>&, const std::vector<Index>&);
template struct Dataset<float>;
template struct Dataset<double>;
template LossValue evaluate_outputs(TaskKind, TrainLoss, const Mat<float>&, const Batch<float>&, Mat<float>*);
template LossValue evaluate_outputs(TaskKind, TrainLoss, const Mat<double>&, const Batch<double>&, Mat<double>*);

}  // namespace rnnscope
