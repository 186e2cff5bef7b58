#pragma once
// Argument checks and element-wise helpers shared by the expert FFN paths (ours, cuBLAS, backward).
#include "kernels/cuda_check.cuh"

namespace occult::kernels::detail {

// Throws InputError for shapes the kernels do not take.
void validate_expert_args(const RecvView& recv, const ExpertWeights& w);

// out[i] = bf16(in[i]); n a multiple of 8.
void fp32_to_bf16(const float* in, std::int64_t n, Bf16* out, cudaStream_t stream);

}  // namespace occult::kernels::detail
