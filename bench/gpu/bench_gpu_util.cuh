#pragma once
// What the GPU kernel benchmarks share: error checks, device buffers, random bf16 data and the model
// shapes they run.
#include <cublas_v2.h>
#include <cuda_bf16.h>

#include <algorithm>
#include <cstddef>
#include <string>

#include "kernels/moe_kernels.hpp"

namespace occult::kernels::bench {

inline void ok(cudaError_t e) {
  if (e != cudaSuccess) throw CudaError(cudaGetErrorString(e));
}
inline void ok(cublasStatus_t s) {
  if (s != CUBLAS_STATUS_SUCCESS) throw CudaError("cuBLAS status " + std::to_string(int(s)));
}

namespace {  // a kernel per benchmark file: __global__ functions cannot be inline
// Deterministic pseudo-random bf16 in [-scale, scale] (hash of the index; never all zeros).
__global__ void fill_bf16(__nv_bfloat16* p, std::size_t n, float scale, unsigned seed) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x) {
    unsigned h = unsigned(i) * 2654435761u ^ seed;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    p[i] = __float2bfloat16(scale * (float(h & 0xffff) / 32768.0f - 1.0f));
  }
}
}  // namespace

template <class T>
struct DevicePtr {
  T* p = nullptr;
  explicit DevicePtr(std::size_t n) {
    ok(cudaMalloc(reinterpret_cast<void**>(&p), std::max<std::size_t>(n, 1) * sizeof(T)));
  }
  ~DevicePtr() { cudaFree(p); }
  DevicePtr(const DevicePtr&) = delete;
  DevicePtr& operator=(const DevicePtr&) = delete;
};

struct Shape {
  const char* name;
  int hidden, ffn;
};
inline constexpr Shape kShapes[] = {{"olmoe", 2048, 1024}, {"qwen15", 2048, 1408}, {"dsv3", 7168, 2048}};

}  // namespace occult::kernels::bench
