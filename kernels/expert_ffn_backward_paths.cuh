#pragma once
// The backward paths behind kernels/expert_ffn_backward.hpp, one file each.
#include <cublas_v2.h>

#include "kernels/expert_ffn_backward.hpp"
#include "kernels/expert_gemm_choice.hpp"

namespace occult::kernels::detail {

std::size_t simt_backward_workspace_bytes(const RecvView& recv, const ExpertWeights& w);
void simt_backward(const RecvView& recv, const ExpertWeights& w, const Bf16* d_out, const ExpertGrads& grads,
                   void* workspace, cudaStream_t stream);

std::size_t tensor_core_backward_workspace_bytes(const RecvView& recv, const ExpertWeights& w);
// path: one of the TensorCore* values.
void tensor_core_backward(cublasHandle_t handle, BackwardPath path, const RecvView& recv,
                          const ExpertWeights& w, const Bf16* d_out, const ExpertGrads& grads,
                          void* workspace, cudaStream_t stream);

std::size_t fused_backward_workspace_bytes(const RecvView& recv, const ExpertWeights& w);
void fused_backward(const RecvView& recv, const ExpertWeights& w, const Bf16* d_out, const ExpertGrads& grads,
                    void* workspace, cudaStream_t stream, GemmKernel kernel);

}  // namespace occult::kernels::detail
