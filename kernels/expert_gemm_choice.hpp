#pragma once
// Which tensor-core kernel runs the two grouped GEMMs of expert_ffn_forward. Auto picks by device and
// batch size (the rule in expert_ffn.cu, measured in results/gpu/kernels-*); the others force one
// kernel, for tests and benchmarks.
#include "kernels/moe_kernels.hpp"

namespace occult::kernels {

enum class GemmKernel {
  Auto,
  Mma128,    // mma.sync, 128 x 128 tiles (any GPU from sm_80)
  Mma256,    // mma.sync, 128 x 256 tiles
  Wgmma128,  // wgmma, 128 x 128 tiles (sm_90 only)
  Wgmma256,  // wgmma, 128 x 256 tiles (sm_90 only)
};

const char* to_string(GemmKernel k);

// True when the current device runs the library's sm_90a code (compute capability 9.0 exactly).
bool wgmma_available();

// The kernel GemmKernel::Auto runs for these inputs on the current device (from the shapes alone).
GemmKernel choose_gemm_kernel(const RecvView& recv, const ExpertWeights& w);

// expert_ffn_forward with the kernel chosen by the caller. Throws CudaError if a wgmma kernel is asked
// for on a device without it.
void expert_ffn_forward(const RecvView& recv, const ExpertWeights& w, Bf16* out, void* workspace,
                        cudaStream_t stream, GemmKernel kernel);

}  // namespace occult::kernels
