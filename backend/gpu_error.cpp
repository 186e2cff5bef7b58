#include "backend/gpu_error.hpp"

#include <sstream>

namespace occult::gpu {

void throw_cuda(cudaError_t err, const char* expr, const char* file, int line) {
  std::ostringstream os;
  os << file << ":" << line << ": " << expr << " failed: " << cudaGetErrorName(err) << " ("
     << cudaGetErrorString(err) << ")";
  if (err == cudaErrorMemoryAllocation)
    os << "; the GPU is out of memory: use fewer tokens or a smaller model";
  if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver)
    os << "; no usable CUDA GPU on this machine";
  throw GpuError(os.str());
}

void throw_nccl(ncclResult_t res, const char* expr, const char* file, int line) {
  std::ostringstream os;
  os << file << ":" << line << ": " << expr << " failed: NCCL " << ncclGetErrorString(res);
  if (const char* last = ncclGetLastError(nullptr); last && *last) os << " (" << last << ")";
  os << "; NCCL_DEBUG=WARN shows more";
  throw GpuError(os.str());
}

}  // namespace occult::gpu
