#pragma once
// CUDA events for timing device work, and the median that every reported time uses.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <vector>

#include "backend/gpu_error.hpp"

namespace occult::gpu {

class Events {
 public:
  explicit Events(std::size_t n) : ev_(n) {
    for (auto& e : ev_) OCCULT_CUDA(cudaEventCreate(&e));
  }
  ~Events() {
    for (auto e : ev_) (void)cudaEventDestroy(e);
  }
  Events(const Events&) = delete;
  Events& operator=(const Events&) = delete;

  cudaEvent_t* data() { return ev_.data(); }
  cudaEvent_t operator[](std::size_t i) const { return ev_[i]; }
  double seconds(std::size_t from, std::size_t to) const {
    float ms = 0;
    OCCULT_CUDA(cudaEventElapsedTime(&ms, ev_[from], ev_[to]));
    return double(ms) * 1e-3;
  }

 private:
  std::vector<cudaEvent_t> ev_;
};

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Keeps `s` busy for `seconds` (a one-thread kernel that spins on the GPU's clock).
void hold_stream(cudaStream_t s, double seconds);

// Median time of `iters` runs of enqueue(stream) after `warmup` unmeasured runs. The timed runs are
// enqueued behind a hold long enough for the host to enqueue them all, so the GPU runs them back to back
// as in a layer (where the host runs ahead of the GPU), and short calls are not timed with the host's
// launch latency in them.
template <class F>
double time_median(cudaStream_t s, int warmup, int iters, F&& enqueue) {
  for (int i = 0; i < warmup; ++i) enqueue(s);
  hold_stream(s, 1e-3 + 30e-6 * iters);
  Events ev(2 * std::size_t(iters));
  for (int i = 0; i < iters; ++i) {
    OCCULT_CUDA(cudaEventRecord(ev[2 * std::size_t(i)], s));
    enqueue(s);
    OCCULT_CUDA(cudaEventRecord(ev[2 * std::size_t(i) + 1], s));
  }
  OCCULT_CUDA(cudaStreamSynchronize(s));
  std::vector<double> t;
  for (int i = 0; i < iters; ++i) t.push_back(ev.seconds(2 * std::size_t(i), 2 * std::size_t(i) + 1));
  return median(t);
}

// time_median with the repeat count raised for short calls, so that at least about 20 ms are timed
// (between `iters` and 8 x iters repeats): short kernels' medians are otherwise launch-noise bound.
template <class F>
double time_adaptive(cudaStream_t s, int iters, F&& enqueue) {
  const double first = time_median(s, 1, 1, enqueue);
  int n = iters;
  if (first > 0) n = int(std::min<double>(8.0 * iters, std::max<double>(iters, 0.02 / first)));
  return time_median(s, 0, n, enqueue);
}

}  // namespace occult::gpu
