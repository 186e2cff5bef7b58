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
// - Simt: the fp32 CUDA-core grouped GEMM (kernels/grouped_gemm_simt.cuh), kept as the baseline;
// - Fused: our grouped tensor-core GEMMs (the forward's mma.sync / wgmma kernels, device-side tile
//   scheduling from the counts: kernels/expert_ffn_backward_fused.cu): no host read-back, no per-
//   expert launch, so it never synchronises and can be captured in a CUDA graph; all five outputs
//   are deterministic (bitwise the same on every run with the same GEMM kernel).
// The cuBLAS paths (TensorCore*) read the per-expert pair counts back to the host (cuBLAS takes host
// sizes), so they synchronise `stream` once per call.
#include <cublas_v2.h>

#include <cstddef>

#include "kernels/expert_gemm_choice.hpp"
#include "kernels/moe_kernels.hpp"

namespace occult::kernels {

enum class BackwardPath { TensorCoreGrouped, TensorCorePerExpert, TensorCoreAuto, Simt, Fused };

// The path behind the plain expert_ffn_backward of moe_kernels.hpp, unless the environment variable
// OCCULT_BACKWARD_PATH names another (a backward_path_name; read on each call, so a process can force
// every path; an unknown name throws InputError).
inline constexpr BackwardPath kDefaultBackwardPath = BackwardPath::TensorCoreAuto;
BackwardPath default_backward_path();

const char* backward_path_name(BackwardPath path);

std::size_t expert_ffn_backward_workspace_bytes(const RecvView& recv, const ExpertWeights& w,
                                                BackwardPath path);

// `handle` is used on `stream` (cublasSetStream); the Simt and Fused paths ignore it (may be null).
void expert_ffn_backward(cublasHandle_t handle, BackwardPath path, const RecvView& recv,
                         const ExpertWeights& w, const Bf16* d_out, const ExpertGrads& grads, void* workspace,
                         cudaStream_t stream);

// The Fused path with its GEMM kernel forced (GemmKernel::Auto: the forward's rule for the activation
// GEMMs, the wide tiles of the same family for the weight gradients), for tests and benchmarks. Throws
// CudaError for a wgmma kernel on a device without it.
void expert_ffn_backward_fused(const RecvView& recv, const ExpertWeights& w, const Bf16* d_out,
                               const ExpertGrads& grads, void* workspace, cudaStream_t stream,
                               GemmKernel kernel);

}  // namespace occult::kernels
