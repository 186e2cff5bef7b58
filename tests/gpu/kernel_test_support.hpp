#pragma once
// Device buffers for the kernel tests: RAII, poisoned on allocation so unwritten outputs show up
// (0xFF bytes: NaN in bf16 and fp32, -1 in int32), host <-> device copies of bf16-exact floats.
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/ref/moe_ref.hpp"

namespace occult::kernels::testing {

inline void cuda_ok(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

inline bool have_gpu() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

#define OCCULT_REQUIRE_GPU() \
  if (!::occult::kernels::testing::have_gpu()) GTEST_SKIP() << "no CUDA device: GPU kernel tests skipped"

template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t n, int poison = 0xFF) : n_(n) {
    cuda_ok(cudaMalloc(reinterpret_cast<void**>(&p_), std::max<std::size_t>(n, 1) * sizeof(T)), "cudaMalloc");
    cuda_ok(cudaMemset(p_, poison, std::max<std::size_t>(n, 1) * sizeof(T)), "cudaMemset");
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { cudaFree(p_); }

  T* get() const { return p_; }
  std::size_t size() const { return n_; }
  void upload(const std::vector<T>& host) {
    cuda_ok(cudaMemcpy(p_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice), "upload");
  }
  std::vector<T> download(std::size_t n) const {
    std::vector<T> h(n);
    cuda_ok(cudaMemcpy(h.data(), p_, n * sizeof(T), cudaMemcpyDeviceToHost), "download");
    return h;
  }
  std::vector<T> download() const { return download(n_); }

 private:
  T* p_ = nullptr;
  std::size_t n_;
};

inline std::vector<std::uint16_t> to_bf16(const std::vector<float>& v) {
  std::vector<std::uint16_t> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = ref::to_bf16(v[i]);
  return out;
}
inline std::vector<float> from_bf16(const std::vector<std::uint16_t>& v) {
  std::vector<float> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = ref::from_bf16(v[i]);
  return out;
}

inline bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

}  // namespace occult::kernels::testing
