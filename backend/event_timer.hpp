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

// Median time of `iters` runs of enqueue(stream) after `warmup` unmeasured runs.
template <class F>
double time_median(cudaStream_t s, int warmup, int iters, F&& enqueue) {
  for (int i = 0; i < warmup; ++i) enqueue(s);
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

}  // namespace occult::gpu
