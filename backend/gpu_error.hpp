#pragma once
// Failures of the GPU runtime (CUDA, NCCL, out-of-memory) carry the call that failed and where, so a
// run on a remote GPU machine is diagnosable from its log alone. Bad user input stays InputError.
#include <cuda_runtime.h>
#include <nccl.h>

#include <stdexcept>
#include <string>

namespace occult::gpu {

class GpuError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_cuda(cudaError_t err, const char* expr, const char* file, int line);
[[noreturn]] void throw_nccl(ncclResult_t res, const char* expr, const char* file, int line);

inline void check_cuda(cudaError_t err, const char* expr, const char* file, int line) {
  if (err != cudaSuccess) throw_cuda(err, expr, file, line);
}
// ncclInProgress is not a failure for non-blocking communicators: the caller polls for completion.
inline void check_nccl(ncclResult_t res, const char* expr, const char* file, int line) {
  if (res != ncclSuccess && res != ncclInProgress) throw_nccl(res, expr, file, line);
}

}  // namespace occult::gpu

#define OCCULT_CUDA(expr) ::occult::gpu::check_cuda((expr), #expr, __FILE__, __LINE__)
#define OCCULT_NCCL(expr) ::occult::gpu::check_nccl((expr), #expr, __FILE__, __LINE__)
// After every kernel launch: a bad launch configuration only shows up in the last error.
#define OCCULT_CHECK_LAUNCH() \
  ::occult::gpu::check_cuda(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)
