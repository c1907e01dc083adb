#include "rnnscope/training/trainer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#include "rnnscope/core/error.hpp"
#include "rnnscope/core/hash.hpp"
#include "rnnscope/diagnostics/mean_field.hpp"
#include "rnnscope/io/number_text.hpp"
#include "rnnscope/sequence/bptt.hpp"
#include "rnnscope/sequence/loss.hpp"

namespace rnnscope {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The generators of a run, one stream each, all from (seed, stream, index) alone.
enum Stream : std::uint64_t { kInit = 1, kEval = 2, kBatch = 3, kShuffle = 4 };

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

Rng stream_rng(std::uint64_t seed, Stream stream, std::uint64_t index) {
  return Rng(splitmix(splitmix(seed ^ splitmix(static_cast<std::uint64_t>(stream))) + index));
}

template <Scalar S>
bool all_finite(const std::vector<ParamSlot<S>>& slots) {
  for (const auto& s : slots)
    if (!Eigen::Map<const Vec<S>>(s.value, s.size).allFinite()) return false;
  return true;
}

/// The first non-finite entry of the parameters (or, with `grads`, of their gradients), named with its tensor
/// and flat index: "weight_hh (entry 3) is NaN"; empty when every entry is finite.
template <Scalar S>
std::string first_non_finite(const std::vector<ParamSlot<S>>& slots, bool grads) {
  for (const auto& s : slots) {
    const S* v = grads ? s.grad : s.value;
    for (Index i = 0; i < s.size; ++i)
      if (!std::isfinite(v[i])) return fmt::format("{} (entry {}) is {}", s.name, i, number_text(v[i]));
  }
  return {};
}

/// The parameter entry of largest magnitude, "weight_hh (entry 7) = 2.3e+06": what a diverging run grew.
template <Scalar S>
std::string largest_parameter(const std::vector<ParamSlot<S>>& slots) {
  std::string where;
  double top = -1;
  for (const auto& s : slots)
    for (Index i = 0; i < s.size; ++i)
      if (std::isfinite(s.value[i]) && std::abs(static_cast<double>(s.value[i])) > top) {
        top = std::abs(static_cast<double>(s.value[i]));
        where = fmt::format("{} (entry {}) = {}", s.name, i, number_text(s.value[i], 3));
      }
  return where;
}

/// Flushes subnormal floating-point numbers to zero (x86's FTZ and DAZ bits)
/// on the calling thread and every OpenMP thread for its lifetime, and
/// restores the previous modes after. A vanishing gradient passes through the
/// subnormal range (below 1.2e-38 in float) on its way to zero, and there each
/// operation is a slow microcode assist: an orthogonally initialised tanh RNN
/// on the adding problem ran ten times slower once its gradients got there.
/// Flushing is what torch.set_flush_denormal(True) does; it changes only
/// values below the smallest normal number.
class FlushSubnormals {
 public:
  FlushSubnormals() {
#if defined(__SSE__)
    constexpr unsigned kBits = 0x8040;  // FTZ (bit 15) and DAZ (bit 6) of MXCSR
    saved_ = _mm_getcsr();
    _mm_setcsr(saved_ | kBits);
#ifdef _OPENMP
#pragma omp parallel
    { _mm_setcsr(_mm_getcsr() | kBits); }
#endif
#endif
  }
  ~FlushSubnormals() {
#if defined(__SSE__)
    _mm_setcsr(saved_);
#ifdef _OPENMP
    const unsigned saved = saved_;
#pragma omp parallel
    { _mm_setcsr(saved); }
#endif
#endif
  }
  FlushSubnormals(const FlushSubnormals&) = delete;
  FlushSubnormals& operator=(const FlushSubnormals&) = delete;

 private:
  unsigned saved_ = 0;
};

template <class Net>
void forward_into(const Net& net, const Mat<typename Net::Scalar>& x, Index batch, typename Net::Cache& cache) {
  if constexpr (requires { net.forward(x, batch, x, cache); })
    net.forward(x, batch, Mat<typename Net::Scalar>(), cache);
  else
    cache = net.forward(x, batch);
}

/// The training loop over one network type: a cell (a one-layer model, the
/// fast path) or a stack of layers.
template <Scalar S, class Net>
class Loop {
 public:
  Loop(const TrainSpec& spec, TrainState<S>& state, const Dataset<S>* data, Net& net, Collective* collective)
      : spec_(spec),
        state_(state),
        data_(data),
        net_(net),
        loss_(spec.loss()),
        collective_(collective != nullptr && collective->size() > 1 ? collective : nullptr) {}

  TrainOutcome run(const TrainHooks<S>& hooks) {
    const auto start = std::chrono::steady_clock::now();
    const double before = state_.seconds;
    const auto seconds = [&] {
      return before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    prepare_evaluation();
    drop_unscheduled_evaluation();
    check_same_parameters("before its first step");
    if (state_.step == 0 && state_.curve.empty()) {
      CurveRow row{0, kNaN, kNaN, kNaN, kNaN, false, 0.0};
      evaluate(row);
      state_.curve.push_back(row);
      if (hooks.on_step) hooks.on_step(row);
    }
    TrainOutcome outcome;
    while (state_.step < spec_.steps) {
      bool stop = hooks.stop_requested && hooks.stop_requested();
      if (stop && collective_ == nullptr) {
        outcome.end = TrainOutcome::End::interrupted;
        break;
      }
      const Index s = state_.step + 1;
      double loss = gradients(training_batch(s));
      // The processes' shares of the minibatch summed, and a stop that any
      // of them was asked for taken by all before the update.
      if (collective_ != nullptr && share_gradients(loss, stop)) {
        outcome.end = TrainOutcome::End::interrupted;
        break;
      }
      const auto slots = parameter_slots();
      const double norm = gradient_norm<S>(slots);
      if (!std::isfinite(loss) || !std::isfinite(norm)) {
        outcome.end = TrainOutcome::End::diverged;
        // Named: the first non-finite gradient, and either the parameter an earlier update made non-finite or,
        // when all are finite, the largest (what grew until the forward pass overflowed).
        const std::string grad = first_non_finite(slots, true), param = first_non_finite(slots, false);
        outcome.message = fmt::format(
            "training diverged at step {}: the loss is {} and the gradient norm {}{}; {}; the largest finite "
            "gradient norm before it was {}",
            s, number_text(loss), number_text(norm),
            grad.empty() ? std::string() : fmt::format(" (the first non-finite gradient: {})", grad),
            param.empty() ? fmt::format("the parameters are finite, the largest {}", largest_parameter(slots))
                          : fmt::format("an earlier update made a parameter non-finite: {}", param),
            number_text(state_.max_grad_norm));
        break;
      }
      state_.max_grad_norm = std::max(state_.max_grad_norm, norm);
      const bool clipped = clip_gradients<S>(slots, spec_.clip, norm);
      state_.optimizer.step(slots);
      state_.step = s;
      CurveRow row{s, loss, kNaN, kNaN, norm, clipped, 0.0};
      if (s % spec_.eval_every == 0 || s == spec_.steps) evaluate(row);
      row.seconds = seconds();
      state_.curve.push_back(row);
      state_.seconds = row.seconds;
      if (hooks.on_step) hooks.on_step(row);
      // An update that made a parameter non-finite shows in the next step's
      // loss; before a checkpoint, and at the end, the parameters themselves
      // are checked, so that no saved state holds one.
      const bool checkpoint = hooks.checkpoint && s % spec_.checkpoint_every == 0 && s < spec_.steps;
      if ((checkpoint || s == spec_.steps) && !all_finite(parameter_slots())) {
        outcome.end = TrainOutcome::End::diverged;
        outcome.message = fmt::format(
            "training diverged by step {}: an update made a parameter non-finite: {} (the largest gradient norm seen "
            "was {})",
            s, first_non_finite(parameter_slots(), false), number_text(state_.max_grad_norm));
        break;
      }
      if (s % spec_.checkpoint_every == 0 || s == spec_.steps)
        check_same_parameters(fmt::format("after step {}", s));
      if (checkpoint) hooks.checkpoint(state_);
    }
    state_.seconds = seconds();
    return outcome;
  }

 private:
  Batch<S> evaluation_set() const {
    if (data_ != nullptr) return data_->all;
    Rng rng = stream_rng(spec_.seed, kEval, 0);
    return make_batch<S>(spec_.task, spec_.eval_size, rng);
  }

  Batch<S> training_batch(Index s) const {
    if (data_ == nullptr) {
      Rng rng = stream_rng(spec_.seed, kBatch, static_cast<std::uint64_t>(s));
      return make_batch<S>(spec_.task, spec_.batch, rng);
    }
    const Index N = data_->size(), B = spec_.batch;
    if (B == N) return data_->all;
    const Index per_epoch = N / B, epoch = (s - 1) / per_epoch, k = (s - 1) % per_epoch;
    std::vector<Index> perm(static_cast<size_t>(N));
    std::iota(perm.begin(), perm.end(), Index{0});
    Rng rng = stream_rng(spec_.seed, kShuffle, static_cast<std::uint64_t>(epoch));
    for (Index i = N - 1; i > 0; --i) {  // Fisher-Yates with the library's own draws
      const Index j = std::min<Index>(i, static_cast<Index>(rng.uniform() * static_cast<double>(i + 1)));
      std::swap(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(j)]);
    }
    return data_->select(std::vector<Index>(perm.begin() + k * B, perm.begin() + (k + 1) * B));
  }

  /// A run resumed to more steps does not keep the evaluation its earlier
  /// part made only because it ended there (off the eval_every schedule).
  void drop_unscheduled_evaluation() {
    const Index s = state_.step;
    if (s == 0 || s % spec_.eval_every == 0 || s >= spec_.steps || state_.curve.empty()) return;
    CurveRow& last = state_.curve.back();
    if (last.step != s) return;
    last.eval_loss = last.eval_metric = kNaN;
    if (!state_.flow.empty() && state_.flow.back().step == s) state_.flow.pop_back();
    if (state_.solved_at == s) state_.solved_at.reset();
  }

  /// The outputs the loss reads: the last step's columns, or all.
  auto scored(const MatRef<S>& h, Index T, Index B) const {
    return is_last_step(loss_) ? h.middleCols((T - 1) * B, B) : h.middleCols(0, T * B);
  }

  /// This process's share of a batch (all of it for one process): the
  /// sequences share_begin(B, ranks, rank) .. share_begin(B, ranks, rank + 1) - 1.
  Batch<S> share_of(const Batch<S>& batch) const {
    if (collective_ == nullptr) return batch;
    const int ranks = collective_->size(), rank = collective_->rank();
    const Index b0 = share_begin(batch.batch, ranks, rank), b1 = share_begin(batch.batch, ranks, rank + 1);
    std::vector<Index> idx(static_cast<size_t>(b1 - b0));
    std::iota(idx.begin(), idx.end(), b0);
    return select_batch(batch, idx);
  }

  /// Forward, loss and BPTT on a batch (this process's share of it) into
  /// grads_ and readout_grads_; returns the loss. With several processes the
  /// loss and its cotangent are scaled by the share's part of the batch, so
  /// that their sum over the processes is the mean over the whole batch.
  double gradients(const Batch<S>& whole) {
    const Batch<S> batch = share_of(whole);
    const Index B = batch.batch, T = batch.steps();
    forward_into(net_, batch.input, B, cache_);
    const MatRef<S> h = net_.output(cache_);
    const auto hs = scored(h, T, B);
    state_.readout.forward(hs, y_);
    LossValue v = evaluate_outputs(spec_.task.kind, loss_, y_, batch, &dy_);
    if (collective_ != nullptr) {
      const double part = static_cast<double>(B) / static_cast<double>(whole.batch);
      v.loss *= part;
      dy_ *= static_cast<S>(part);
    }
    readout_grads_.weight.noalias() = dy_ * hs.transpose();
    readout_grads_.bias = dy_.rowwise().sum();
    grads_.input_gradient = false;  // the input is data
    const Mat<S>& W = state_.readout.weight;
    bptt_chunked(
        net_, cache_,
        [&](Index t0, Index t1, Mat<S>& d) {
          d.resize(W.cols(), (t1 - t0) * B);
          if (!is_last_step(loss_)) {
            d.noalias() = W.transpose() * dy_.middleCols(t0 * B, (t1 - t0) * B);
          } else {
            d.setZero();
            if (t1 == T) d.rightCols(B).noalias() = W.transpose() * dy_;
          }
        },
        grads_);
    return v.loss;
  }

  /// Sums the gradients, the loss and the stop requests over the processes;
  /// true when any process was asked to stop.
  bool share_gradients(double& loss, bool stop) {
    const auto slots = parameter_slots();
    size_t n = 0;
    for (const auto& slot : slots) n += static_cast<size_t>(slot.size);
    flat_.resize(n);
    size_t at = 0;
    for (const auto& slot : slots) {
      std::copy_n(slot.grad, slot.size, flat_.data() + at);
      at += static_cast<size_t>(slot.size);
    }
    collective_->sum(flat_.data(), n);
    at = 0;
    for (const auto& slot : slots) {
      std::copy_n(flat_.data() + at, slot.size, slot.grad);
      at += static_cast<size_t>(slot.size);
    }
    double scalars[2] = {loss, stop ? 1.0 : 0.0};
    collective_->sum(scalars, 2);
    loss = scalars[0];
    return scalars[1] > 0;
  }

  /// With several processes: every one must hold the same parameters (they
  /// apply the same summed gradients); a checksum of their bytes (FNV-1a)
  /// compared over the processes, and a mismatch stops the run on all.
  void check_same_parameters(const std::string& when) {
    if (collective_ == nullptr) return;
    std::uint64_t h = kFnv1aOffset;
    for (const auto& slot : parameter_slots()) h = fnv1a(slot.value, static_cast<size_t>(slot.size) * sizeof(S), h);
    const std::vector<std::uint64_t> all = collective_->gather(h);
    std::string differ;
    for (size_t r = 1; r < all.size(); ++r)
      if (all[r] != all[0]) differ += (differ.empty() ? "" : ", ") + std::to_string(r);
    if (!differ.empty())
      throw CollectiveMismatch(fmt::format(
          "the parameters of process{} {} differ from process 0's {} (checksums {:016x} against {:016x}): the "
          "processes no longer train the same model",
          differ.find(',') == std::string::npos ? "" : "es", differ, when, all[std::stoul(differ)], all[0]));
  }

  std::vector<ParamSlot<S>> parameter_slots() {
    std::vector<ParamSlot<S>> slots;
    std::visit([&](auto& stack) { stack.for_each_param([&](const char* name, auto& t) {
                 slots.push_back({name, t.data(), nullptr, t.size()});
               }); },
               state_.model);
    size_t k = 0;
    grads_.params.for_each([&](const char*, auto& t) { slots[k++].grad = t.data(); });
    state_.readout.for_each([&](const char* name, auto& t) { slots.push_back({name, t.data(), nullptr, t.size()}); });
    slots[k++].grad = readout_grads_.weight.data();
    slots[k++].grad = readout_grads_.bias.data();
    return slots;
  }

  /// Loss, metric and gradient flow on the evaluation set, into row and state.
  /// The set is evaluated in slices of at most `batch` sequences, in the
  /// training step's own cache and gradients (free between steps), so that an
  /// evaluation needs no more memory than a training step: the loss and the
  /// metric are the slices' means weighted by their sizes, and the gradient
  /// flow's squared norms add up over the slices (each slice's cotangent
  /// scaled to its share of the mean loss).
  void evaluate(CurveRow& row) {
    const Index N = eval_set_.batch, T = eval_set_.steps();
    std::vector<double> squared(static_cast<size_t>(T), 0.0);
    double loss = 0, metric = 0;
    for (const Batch<S>& slice : eval_slices_) {
      const Batch<S> part = share_of(slice);  // with several processes, each takes a share of each slice
      const Index B = part.batch;
      if (B == 0) continue;
      forward_into(net_, part.input, B, cache_);
      const MatRef<S> h = net_.output(cache_);
      const auto hs = scored(h, T, B);
      state_.readout.forward(hs, eval_y_);
      const LossValue v = evaluate_outputs(spec_.task.kind, loss_, eval_y_, part, &eval_dy_);
      const double share = static_cast<double>(B) / static_cast<double>(N);
      loss += v.loss * share;
      metric += v.metric * share;
      // The gradient flow: a backward sweep one step at a time, reading the
      // state's total cotangent between steps.
      const Mat<S> dh = (state_.readout.weight.transpose() * eval_dy_) * static_cast<S>(share);
      grads_.input_gradient = false;
      reset_gradients(net_, cache_, grads_);
      const Index offset = output_offset(net_), H = dh.rows();
      Mat<S> d_state, total, d_out = Mat<S>::Zero(H, B);
      for (Index t = T - 1; t >= 0; --t) {
        if (!is_last_step(loss_))
          d_out = dh.middleCols(t * B, B);
        else if (t == T - 2)
          d_out.setZero();
        else if (t == T - 1)
          d_out = dh;
        if (d_state.size() > 0)
          total = d_state;
        else
          total.setZero(net_.state_size(), B);
        total.middleRows(offset, H) += d_out;
        squared[static_cast<size_t>(t)] += total.template cast<double>().squaredNorm();
        d_state = net_.backward_range(cache_, d_out, d_state, t, t + 1, grads_);
      }
    }
    if (collective_ != nullptr) {  // the shares' sums summed over the processes
      squared.push_back(loss);
      squared.push_back(metric);
      collective_->sum(squared.data(), squared.size());
      metric = squared.back();
      squared.pop_back();
      loss = squared.back();
      squared.pop_back();
    }
    LossValue v{loss, metric};
    if (spec_.task.kind == TaskKind::data && !is_cross_entropy(loss_))
      v.metric = target_variance_ > 0 ? 1.0 - loss / target_variance_ : kNaN;
    row.eval_loss = v.loss;
    row.eval_metric = v.metric;
    if (!state_.solved_at && solves(spec_.task.kind, v)) state_.solved_at = row.step;
    FlowRow flow{row.step, std::vector<double>(static_cast<size_t>(T))};
    const double last = squared[static_cast<size_t>(T - 1)];
    for (Index d = 0; d < T; ++d) {
      const double r = std::sqrt(squared[static_cast<size_t>(T - 1 - d)] / last);
      flow.log10_ratio[static_cast<size_t>(d)] = r > 0 && std::isfinite(r) ? std::log10(r) : kNaN;
    }
    state_.flow.push_back(std::move(flow));
  }

  /// The evaluation set in slices of at most `batch` sequences, and the
  /// variance of its targets (the R² of user data with an MSE loss).
  void prepare_evaluation() {
    eval_set_ = evaluation_set();
    const Index N = eval_set_.batch, chunk = std::min(N, spec_.batch);
    for (Index b0 = 0; b0 < N; b0 += chunk) {
      std::vector<Index> idx(static_cast<size_t>(std::min(chunk, N - b0)));
      std::iota(idx.begin(), idx.end(), b0);
      eval_slices_.push_back(chunk == N ? eval_set_ : select_batch(eval_set_, idx));
    }
    if (eval_set_.target.size() > 0) {
      const Mat<double> t = eval_set_.target.template cast<double>();
      target_variance_ = (t.array() - t.mean()).square().mean();
    }
  }

  const TrainSpec& spec_;
  TrainState<S>& state_;
  const Dataset<S>* data_;
  Net& net_;
  const TrainLoss loss_;
  Batch<S> eval_set_;
  std::vector<Batch<S>> eval_slices_;
  double target_variance_ = 0;
  Mat<S> eval_y_, eval_dy_;
  typename Net::Cache cache_;
  typename Net::Gradients grads_;
  Readout<S> readout_grads_;
  Mat<S> y_, dy_;
  Collective* const collective_;  ///< null: this process alone
  std::vector<S> flat_;           ///< the gradients in one vector, for the sum over the processes
};

}  // namespace

void TrainSpec::validate(Index data_size) const {
  if (task.kind != TaskKind::data) task.validate();
  optimizer.validate();
  clip.validate();
  require(batch >= 1 && batch <= 1'000'000, fmt::format("--batch must be in 1..1000000, got {}", batch));
  require(steps >= 1 && steps <= 1'000'000'000, fmt::format("--steps must be in 1..1000000000, got {}", steps));
  require(eval_every >= 1, fmt::format("--eval-every must be >= 1, got {}", eval_every));
  // As rnnscope init's; the memory a run needs is checked against the machine's by train_cost.
  require(model.hidden_size >= 1 && model.hidden_size <= 16384,
          fmt::format("--hidden must be in 1..16384, got {}", model.hidden_size));
  require(model.num_layers >= 1 && model.num_layers <= 64,
          fmt::format("--layers must be in 1..64, got {}", model.num_layers));
  require(checkpoint_every >= 1, fmt::format("--checkpoint-every must be >= 1, got {}", checkpoint_every));
  require(std::isfinite(scale) && std::isfinite(forget_bias), "--scale and --forget-bias must be finite");
  if (task.kind == TaskKind::data) {
    require(data_size >= 1, "--data holds no sequences");
    require(batch <= data_size,
            fmt::format("--batch {} is larger than the {} sequences of --data", batch, data_size));
  } else {
    require(eval_size >= 1 && eval_size <= 1'000'000,
            fmt::format("--eval-size must be in 1..1000000, got {}", eval_size));
  }
  if (chrono) {
    require(model.cell == CellKind::lstm, "--init chrono is an initialisation of the lstm cell");
    require(chrono_tmax == 0 || (std::isfinite(chrono_tmax) && chrono_tmax > 2),
            fmt::format("--chrono-tmax must be > 2, got {}", chrono_tmax));
  }
}

template <Scalar S>
Index sequence_length(const TrainSpec& spec, const Dataset<S>* data) {
  return spec.task.kind == TaskKind::data ? data->all.steps() : spec.task.sequence_length();
}

double baseline(const TrainSpec& spec) {
  return spec.task.kind == TaskKind::data ? kNaN : spec.task.baseline();
}

template <Scalar S>
TrainState<S> initial_state(const TrainSpec& spec, std::optional<Model<S>> model, std::optional<Readout<S>> readout,
                            const Dataset<S>* data) {
  const bool user_data = spec.task.kind == TaskKind::data;
  require(!user_data || data != nullptr, "a data task needs its Dataset");
  spec.validate(user_data ? data->size() : 0);
  const Index inputs = user_data ? data->all.input.rows() : spec.task.input_size();
  const Index outputs = user_data ? (is_cross_entropy(spec.data_loss) ? data->classes : data->all.target.rows())
                                  : spec.task.output_size();
  Rng rng = stream_rng(spec.seed, kInit, 0);
  if (!model) {
    ModelSpec ms = spec.model;
    ms.input_size = inputs;
    model = make_model<S>(ms);
    initialise_model(*model, spec.init, resolve_scale(spec.init, spec.scale, ms, 1.0, spec.forget_bias),
                     spec.forget_bias, rng);
    if (spec.chrono)
      chrono_biases(*model, spec.chrono_tmax > 0 ? spec.chrono_tmax : static_cast<double>(sequence_length(spec, data)),
                    rng);
  }
  const Index model_inputs = std::visit([](const auto& s) { return s.input_size(); }, *model);
  const Index hidden = std::visit([](const auto& s) { return s.output_size(); }, *model);
  require(model_inputs == inputs,
          fmt::format("the model reads {} input features but the {} gives {}", model_inputs,
                      user_data ? "data's input" : fmt::format("{} task", to_string(spec.task.kind)), inputs));
  if (!readout) readout = Readout<S>::pytorch_default(hidden, outputs, rng);
  require(readout->input_size() == hidden && readout->output_size() == outputs && readout->bias.size() == outputs,
          fmt::format(
              "readout.weight must be ({}, {}) and readout.bias ({}) for this model and task; got ({}, {}) and ({})",
              outputs, hidden, outputs, readout->output_size(), readout->input_size(), readout->bias.size()));
  return TrainState<S>{std::move(*model), std::move(*readout), Optimizer<S>(spec.optimizer), 0, {}, {}, 0.0, 0.0,
                       std::nullopt};
}

template <Scalar S>
Cost train_cost(const TrainSpec& spec, const TrainState<S>* state, const Dataset<S>* data) {
  const bool user_data = spec.task.kind == TaskKind::data && data != nullptr;
  const double T = static_cast<double>(user_data ? data->all.steps() : spec.task.sequence_length());
  const double I = static_cast<double>(user_data ? data->all.input.rows() : spec.task.input_size());
  const double O = static_cast<double>(user_data ? std::max<Index>(data->classes, data->all.target.rows())
                                                 : spec.task.output_size());
  ModelSpec m = spec.model;
  m.input_size = static_cast<Index>(I);
  const double sb = sizeof(S), B = static_cast<double>(spec.batch), H = static_cast<double>(m.hidden_size);
  const double done = state ? static_cast<double>(state->step) : 0;
  const double steps = std::max(0.0, static_cast<double>(spec.steps) - done);
  const double evaluations = static_cast<double>(spec.steps) / static_cast<double>(spec.eval_every) + 2;
  const double eval_size = user_data ? static_cast<double>(data->size()) : static_cast<double>(spec.eval_size);
  const double slice = std::min(B, eval_size);
  // The parameters with their gradients and up to two optimiser buffers, and the readout's.
  const double params = 4 * (parameter_values(m) + O * (H + 1));
  Cost c = bptt_cost(m, static_cast<Index>(T), std::max<Index>(spec.batch, static_cast<Index>(slice)), sb);
  // A minibatch and the readout's outputs and their cotangents; a generated task's evaluation set.
  double held = params + B * T * (I + 3 * O);
  if (!user_data) held += eval_size * T * (I + O);
  c.bytes += values(held, sb);
  // The learning curve (a row a step) and the gradient flow (T values an evaluation), in double.
  c.bytes += static_cast<double>(spec.steps) * sizeof(CurveRow) + evaluations * T * 8;
  // Each step's BPTT and readout; each evaluation's slices, forward and the gradient flow's backward sweep.
  const Cost step = bptt_cost(m, static_cast<Index>(T), spec.batch, sb);
  const Cost slice_bptt = bptt_cost(m, static_cast<Index>(T), static_cast<Index>(slice), sb);
  const double slices = std::ceil(eval_size / std::max(slice, 1.0));
  const double evaluated = std::max(1.0, steps / static_cast<double>(spec.eval_every));
  c.flops = steps * step.flops + evaluated * slices * slice_bptt.flops;
  c.products = steps * (step.products + 6 * B * T * O * H * sb / 8) + evaluated * slices * slice_bptt.products;
  c.sizes = {{"batch", B}, {"T", T}, {"hidden", H}};
  if (static_cast<double>(spec.steps) * sizeof(CurveRow) > c.bytes / 2)
    c.sizes.insert(c.sizes.begin(), {"steps", static_cast<double>(spec.steps)});
  if (!user_data && eval_size * T * (I + O) * sb > c.bytes / 2)
    c.sizes.insert(c.sizes.begin(), {"eval-size", eval_size});
  return c;
}

template <Scalar S>
TrainOutcome train(const TrainSpec& spec, TrainState<S>& state, const Execution& execution, const TrainHooks<S>& hooks,
                   const Dataset<S>* data) {
  const bool user_data = spec.task.kind == TaskKind::data;
  require(!user_data || data != nullptr, "a data task needs its Dataset");
  spec.validate(user_data ? data->size() : 0);
  execution.validate();
  if (execution.collective != nullptr) {
    const int ranks = execution.collective->size();
    require(spec.batch >= ranks,
            fmt::format("--batch {} is smaller than the {} processes: each needs at least one sequence of every "
                        "minibatch",
                        spec.batch, ranks));
  }
  check_cost(train_cost(spec, &state, data), execution);
  ThreadScope threads(execution);
  const FlushSubnormals flush;
  return std::visit(
      [&](auto& stack) {
        if (stack.num_layers() == 1) {
          Loop<S, std::decay_t<decltype(stack.layer(0))>> loop(spec, state, data, stack.layer(0),
                                                               execution.collective);
          return loop.run(hooks);
        }
        Loop<S, std::decay_t<decltype(stack)>> loop(spec, state, data, stack, execution.collective);
        return loop.run(hooks);
      },
      state.model);
}

template Index sequence_length(const TrainSpec&, const Dataset<float>*);
template Index sequence_length(const TrainSpec&, const Dataset<double>*);
template TrainState<float> initial_state(const TrainSpec&, std::optional<Model<float>>, std::optional<Readout<float>>,
                                         const Dataset<float>*);
template TrainState<double> initial_state(const TrainSpec&, std::optional<Model<double>>,
                                          std::optional<Readout<double>>, const Dataset<double>*);
template Cost train_cost(const TrainSpec&, const TrainState<float>*, const Dataset<float>*);
template Cost train_cost(const TrainSpec&, const TrainState<double>*, const Dataset<double>*);
template TrainOutcome train(const TrainSpec&, TrainState<float>&, const Execution&, const TrainHooks<float>&,
                            const Dataset<float>*);
template TrainOutcome train(const TrainSpec&, TrainState<double>&, const Execution&, const TrainHooks<double>&,
                            const Dataset<double>*);

}  // namespace rnnscope
