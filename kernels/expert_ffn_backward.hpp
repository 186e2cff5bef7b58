#pragma once
// Paths of the expert FFN backward (kernels/moe_kernels.hpp, expert_ffn_backward), selectable so the
// benchmark can measure them side by side in one run:
// - TensorCoreGrouped: gather the expert's rows and output gradients into contiguous bf16 tiles,
//   then bf16 tensor-core GEMMs with fp32 accumulation; the five activation-sized GEMMs as one
//   cublasGemmGroupedBatchedEx call each over every active local expert, the three weight-gradient
//   GEMMs per expert (fanned out over side streams); fastest for small batches;
// - TensorCorePerExpert: the same math with one cublasGemmEx per expert and GEMM, fanned out over
//   side streams; fastest from about 1K pairs per expert;
// - TensorCoreAuto: one of the two by the mean pairs per active expert (known after the count);
// - Simt: the fp32 CUDA-core grouped GEMM (kernels/grouped_gemm_simt.cuh), kept as the baseline.
// The tensor-core paths read the per-expert pair counts back to the host (cuBLAS takes host sizes),
// so they synchronise `stream` once per call.
#include <cublas_v2.h>

#include <cstddef>

#include "kernels/moe_kernels.hpp"

namespace occult::kernels {

enum class BackwardPath { TensorCoreGrouped, TensorCorePerExpert, TensorCoreAuto, Simt };

// The path behind the plain expert_ffn_backward of moe_kernels.hpp.
inline constexpr BackwardPath kDefaultBackwardPath = BackwardPath::TensorCoreAuto;

const char* backward_path_name(BackwardPath path);

std::size_t expert_ffn_backward_workspace_bytes(const RecvView& recv, const ExpertWeights& w,
                                                BackwardPath path);

// `handle` is used on `stream` (cublasSetStream); the Simt path ignores it (may be null).
void expert_ffn_backward(cublasHandle_t handle, BackwardPath path, const RecvView& recv,
                         const ExpertWeights& w, const Bf16* d_out, const ExpertGrads& grads, void* workspace,
                         cudaStream_t stream);

}  // namespace occult::kernels
