#pragma once
// Error checking and small device helpers shared by the kernel files.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <string>

#include "kernels/moe_kernels.hpp"

namespace occult::kernels::detail {

inline void check_cuda(cudaError_t e, const char* what, const char* file, int line) {
  if (e != cudaSuccess)
    throw CudaError(std::string(file) + ":" + std::to_string(line) + ": " + what + ": " +
                    cudaGetErrorString(e));
}

// Launch errors (bad configuration, too much shared memory) surface at the next call otherwise.
inline void check_launch(const char* kernel, const char* file, int line) {
  check_cuda(cudaGetLastError(), kernel, file, line);
}

inline unsigned blocks_for(std::int64_t n, int per_block) {
  return unsigned((n + per_block - 1) / per_block);
}

inline std::size_t align_up(std::size_t n) { return (n + 255) & ~std::size_t(255); }

// Carves aligned sub-buffers out of one workspace pointer (or just measures when base is null).
class Carver {
 public:
  explicit Carver(void* base) : base_(static_cast<char*>(base)) {}
  template <class T>
  T* take(std::size_t count) {
    T* p = base_ ? reinterpret_cast<T*>(base_ + used_) : nullptr;
    used_ += align_up(count * sizeof(T));
    return p;
  }
  std::size_t used() const { return used_; }

 private:
  char* base_;
  std::size_t used_ = 0;
};

__host__ __device__ __forceinline__ const __nv_bfloat16* as_bf(const Bf16* p) {
  return reinterpret_cast<const __nv_bfloat16*>(p);
}
__host__ __device__ __forceinline__ __nv_bfloat16* as_bf(Bf16* p) {
  return reinterpret_cast<__nv_bfloat16*>(p);
}

__device__ __forceinline__ float silu(float g) { return g / (1.0f + __expf(-g)); }

}  // namespace occult::kernels::detail

#define OCCULT_CUDA(call) ::occult::kernels::detail::check_cuda((call), #call, __FILE__, __LINE__)
#define OCCULT_LAUNCHED(name) ::occult::kernels::detail::check_launch(name, __FILE__, __LINE__)
