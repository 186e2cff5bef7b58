#pragma once
// A plain fp32-accumulating grouped GEMM on CUDA cores for the training backward, where the
// shapes are many (transposed operands, reductions over an expert's pairs) and speed is secondary.
// Per local expert e: C_e(m, n) = sum_k A_e(m, k) * B_e(k, n), where either M or K runs over the
// expert's pairs (the "segment"), and every operand is described by strides, so transposes and
// gathers by row index need no copies.
#include "kernels/expert_index.cuh"

namespace occult::kernels::detail {

struct Operand {
  const void* p = nullptr;
  bool bf16 = false;                     // element type: bf16 or fp32
  std::int64_t expert_stride = 0;        // elements between experts (weights), 0 for pair tensors
  std::int64_t s0 = 0, s1 = 0;           // strides of the two indices
  int seg_dim = -1;                      // index (0 or 1) that counts the expert's pairs, -1 none
  const std::int32_t* gather = nullptr;  // with seg_dim: map pair -> received row
};

struct OutOperand {
  float* p = nullptr;
  std::int64_t expert_stride = 0;
  std::int64_t s0 = 0, s1 = 0;
  bool seg_rows = false;  // rows are the expert's pairs
  bool accumulate = false;
};

struct SimtGemm {
  ExpertIndex ix;  // tile offsets for 64-row tiles when seg_m
  Operand a, b;
  OutOperand c;
  int M = 0, N = 0, K = 0;  // the non-segment sizes
  bool seg_m = true;        // true: M = pairs of the expert; false: K = pairs of the expert
};

constexpr int kSimtTile = 64;

void launch_simt_gemm(const SimtGemm& g, cudaStream_t stream);

}  // namespace occult::kernels::detail
