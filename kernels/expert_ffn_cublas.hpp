#pragma once
// The library path the sparse expert GEMM is measured against: permute the received rows into
// per-expert order (a materialised copy per (row, expert)), cuBLAS GEMMs per expert, SwiGLU, then a
// gate-weighted scatter-add back to one row per received row. Same inputs and outputs as
// expert_ffn_forward (kernels/moe_kernels.hpp). It reads the per-expert counts back to the host
// (cuBLAS needs host-side sizes), so it synchronises `stream` once.
#include <cstddef>

#include <cublas_v2.h>

#include "kernels/moe_kernels.hpp"

namespace occult::kernels {

std::size_t expert_ffn_cublas_workspace_bytes(const RecvView& recv, const ExpertWeights& w);
void expert_ffn_forward_cublas(cublasHandle_t handle, const RecvView& recv, const ExpertWeights& w, Bf16* out,
                               void* workspace, cudaStream_t stream);

}  // namespace occult::kernels
