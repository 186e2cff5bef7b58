// Public entry points of the expert FFN backward: path selection, and the plain API of
// moe_kernels.hpp, which runs the default path on a cuBLAS handle kept per thread and device.
#include <cstdlib>
#include <map>

#include "kernels/expert_ffn_backward_paths.cuh"
#include "kernels/expert_ffn_common.cuh"
#include "sim/core/error.hpp"

namespace occult::kernels {
namespace {

// The plain API takes no handle (callers such as the backend stay library-agnostic); creating one
// per call would cost milliseconds, so each thread keeps one per device for its lifetime.
class ThreadHandles {
 public:
  ThreadHandles() = default;
  ThreadHandles(const ThreadHandles&) = delete;
  ThreadHandles& operator=(const ThreadHandles&) = delete;
  ~ThreadHandles() {
    for (auto& [device, h] : handles_) cublasDestroy(h);  // no throw at thread exit
  }
  cublasHandle_t get() {
    int device = 0;
    OCCULT_CUDA(cudaGetDevice(&device));
    auto it = handles_.find(device);
    if (it != handles_.end()) return it->second;
    cublasHandle_t h = nullptr;
    const cublasStatus_t s = cublasCreate(&h);
    if (s != CUBLAS_STATUS_SUCCESS)
      throw CudaError("cublasCreate for the expert FFN backward: status " + std::to_string(int(s)));
    handles_.emplace(device, h);
    return h;
  }

 private:
  std::map<int, cublasHandle_t> handles_;
};

}  // namespace

const char* backward_path_name(BackwardPath path) {
  switch (path) {
    case BackwardPath::TensorCoreGrouped:
      return "tc_grouped";
    case BackwardPath::TensorCorePerExpert:
      return "tc_per_expert";
    case BackwardPath::TensorCoreAuto:
      return "tc_auto";
    case BackwardPath::Simt:
      return "simt";
    case BackwardPath::Fused:
      return "fused";
  }
  return "?";
}

BackwardPath default_backward_path() {
  const char* name = std::getenv("OCCULT_BACKWARD_PATH");
  if (!name || !*name) return kDefaultBackwardPath;
  for (BackwardPath p : {BackwardPath::TensorCoreGrouped, BackwardPath::TensorCorePerExpert,
                         BackwardPath::TensorCoreAuto, BackwardPath::Simt, BackwardPath::Fused})
    if (std::string(name) == backward_path_name(p)) return p;
  throw InputError("", 0, "OCCULT_BACKWARD_PATH",
                   std::string("unknown backward path '") + name +
                       "' (tc_grouped, tc_per_expert, tc_auto, simt or fused)");
}

std::size_t expert_ffn_backward_workspace_bytes(const RecvView& recv, const ExpertWeights& w,
                                                BackwardPath path) {
  switch (path) {
    case BackwardPath::Simt:
      return detail::simt_backward_workspace_bytes(recv, w);
    case BackwardPath::Fused:
      return detail::fused_backward_workspace_bytes(recv, w);
    default:
      return detail::tensor_core_backward_workspace_bytes(recv, w);
  }
}

void expert_ffn_backward(cublasHandle_t handle, BackwardPath path, const RecvView& recv,
                         const ExpertWeights& w, const Bf16* d_out, const ExpertGrads& grads, void* workspace,
                         cudaStream_t stream) {
  detail::validate_expert_args(recv, w);
  if (path == BackwardPath::Simt)
    detail::simt_backward(recv, w, d_out, grads, workspace, stream);
  else if (path == BackwardPath::Fused)
    detail::fused_backward(recv, w, d_out, grads, workspace, stream, GemmKernel::Auto);
  else
    detail::tensor_core_backward(handle, path, recv, w, d_out, grads, workspace, stream);
}

void expert_ffn_backward_fused(const RecvView& recv, const ExpertWeights& w, const Bf16* d_out,
                               const ExpertGrads& grads, void* workspace, cudaStream_t stream,
                               GemmKernel kernel) {
  detail::validate_expert_args(recv, w);
  detail::fused_backward(recv, w, d_out, grads, workspace, stream, kernel);
}

std::size_t expert_ffn_backward_workspace_bytes(const RecvView& recv, const ExpertWeights& w) {
  return expert_ffn_backward_workspace_bytes(recv, w, default_backward_path());
}

void expert_ffn_backward(const RecvView& recv, const ExpertWeights& w, const Bf16* d_out,
                         const ExpertGrads& grads, void* workspace, cudaStream_t stream) {
  thread_local ThreadHandles handles;
  const BackwardPath path = default_backward_path();
  const bool cublas = path != BackwardPath::Simt && path != BackwardPath::Fused;
  expert_ffn_backward(cublas ? handles.get() : nullptr, path, recv, w, d_out, grads, workspace, stream);
}

}  // namespace occult::kernels
