// Items made one after the other by one thread and evaluated, independently of
// each other, by all threads as soon as they are made: the Jacobian chains
// (jacobian_chain.hpp), each the last times a step Jacobian, and their norms.
#pragma once

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

/// Items L = 0 .. count - 1 pass through a ring of `slots` slots. produce(publish)
/// runs on one thread and makes the items in order, calling publish(L, fill)
/// for each: publish waits until slot L % slots is free (the item that held it
/// has been evaluated), lets fill() write item L into it, and offers it to the
/// threads, which call evaluate(L) for it, once, each item on whichever thread
/// takes it (the producing thread too, while it waits for a slot). Returns when
/// every item has been evaluated. Without OpenMP, with one thread or inside a
/// parallel region, each item is evaluated as soon as it is made, on this thread.
///
/// A slot is refilled only once its previous item is evaluated, so an
/// evaluation may read what its slot's previous evaluation left: the results do
/// not depend on the number of threads or their timing. fill and evaluate must
/// not throw.
template <class Produce, class Evaluate>
void produce_through_ring(Index count, Index slots, Produce&& produce, Evaluate&& evaluate) {
  int threads = 1;
#ifdef _OPENMP
  if (!omp_in_parallel()) threads = std::min<int>(omp_get_max_threads(), static_cast<int>(count));
#endif
  if (threads < 2) {
    produce([&](Index L, auto&& fill) {
      fill();
      evaluate(L);
    });
    return;
  }
  std::atomic<Index> produced{0}, taken{0};
  std::vector<std::atomic<Index>> finished(static_cast<size_t>(slots));  // 1 + the last item evaluated in the slot (0: none)
  for (auto& f : finished) f.store(0);
  const auto take = [&] {  // evaluates one item that is ready; false when there is none
    Index L = taken.load(std::memory_order_relaxed);
    while (L < produced.load(std::memory_order_acquire)) {
      if (taken.compare_exchange_weak(L, L + 1, std::memory_order_acq_rel)) {
        evaluate(L);
        finished[static_cast<size_t>(L % slots)].store(L + 1, std::memory_order_release);
        return true;
      }
    }
    return false;
  };
  const auto work_until = [&](auto&& done) {
    // Spin (with the CPU's pause hint) while the wait is short, which it is when
    // every thread has a core; yield to the scheduler only when it is not.
    for (int idle = 0; !done();) {
      if (take()) {
        idle = 0;
      } else if (++idle < 4096) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      } else {
        std::this_thread::yield();
      }
    }
  };
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
  {
    if (omp_get_thread_num() == 0) {
      produce([&](Index L, auto&& fill) {
        const auto s = static_cast<size_t>(L % slots);
        work_until([&] { return L < slots || finished[s].load(std::memory_order_acquire) > L - slots; });
        fill();
        produced.store(L + 1, std::memory_order_release);
      });
    }
    work_until([&] { return taken.load(std::memory_order_relaxed) >= count; });
  }  // the region's end waits for every evaluation
#endif
}

}  // namespace rnnscope
