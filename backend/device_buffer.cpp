#include "backend/device_buffer.hpp"

#include <sstream>

#include "backend/gpu_error.hpp"

namespace occult::gpu {

void* device_alloc(std::size_t bytes, const char* what) {
  if (bytes == 0) return nullptr;
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, bytes);
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();  // clear the sticky-free allocation error so later calls still work
    std::size_t free_b = 0, total_b = 0;
    (void)cudaMemGetInfo(&free_b, &total_b);
    std::ostringstream os;
    os << "out of GPU memory allocating " << what << ": asked for " << double(bytes) / (1 << 20) << " MiB, "
       << double(free_b) / (1 << 20) << " MiB free of " << double(total_b) / (1 << 20)
       << " MiB; use fewer tokens per GPU or a smaller model";
    throw GpuError(os.str());
  }
  OCCULT_CUDA(err);
  return p;
}

void device_free(void* p) noexcept {
  if (p) (void)cudaFree(p);
}

}  // namespace occult::gpu
