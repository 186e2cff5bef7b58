// The fp32 CUDA-core backward (the baseline the tensor-core path is measured against). Recomputes
// gate/up from the received rows, then the chain rule through down, SwiGLU, gate/up, with grouped
// SIMT GEMMs over each expert's pairs; the input gradient is pre-reduced per received row.
#include "kernels/expert_ffn_backward_paths.cuh"
#include "kernels/expert_ffn_common.cuh"
#include "kernels/grouped_gemm_simt.cuh"

namespace occult::kernels::detail {
namespace {

struct BackwardBuffers {
  ExpertIndex ix;
  float *g = nullptr, *u = nullptr, *act = nullptr, *da = nullptr;  // [pairs x ffn]
  float* y = nullptr;                                               // [pairs x hidden]: y, dy, then dx
  float* acc = nullptr;                                             // [rows x hidden]
};

BackwardBuffers carve_backward(void* base, const RecvView& recv, const ExpertWeights& w, std::size_t* used) {
  Carver c(base);
  BackwardBuffers b;
  b.ix = carve_expert_index(c, recv, w.local_experts);
  const std::size_t cap = std::size_t(std::max<std::int64_t>(b.ix.capacity, 1));
  const std::size_t F = std::size_t(w.ffn), H = std::size_t(w.hidden);
  b.g = c.take<float>(cap * F);
  b.u = c.take<float>(cap * F);
  b.act = c.take<float>(cap * F);
  b.da = c.take<float>(cap * F);
  b.y = c.take<float>(cap * H);
  b.acc = c.take<float>(std::size_t(std::max<std::int64_t>(recv.num_rows, 1)) * H);
  if (used) *used = c.used();
  return b;
}

__global__ void swiglu_fwd(const float* g, const float* u, const std::int32_t* pairs, int ffn, float* act) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < std::int64_t(*pairs) * ffn) act[i] = silu(g[i]) * u[i];
}

// d_weight of each pair = <d_out[row], y>, then y becomes dy = weight * d_out[row].
__global__ void weight_grad(const ExpertIndex ix, const __nv_bfloat16* d_out, int hidden, float* y,
                            float* d_weight) {
  const std::int64_t p = blockIdx.x;
  if (p >= ix.offsets[ix.local_experts]) return;
  const __nv_bfloat16* dout = d_out + std::int64_t(ix.pair_row[p]) * hidden;
  float* yp = y + p * hidden;
  float dot = 0;
  for (int c = threadIdx.x; c < hidden; c += blockDim.x) dot += __bfloat162float(dout[c]) * yp[c];
  __shared__ float part[32];
  for (int o = 16; o > 0; o /= 2) dot += __shfl_xor_sync(0xffffffffu, dot, o);
  if (threadIdx.x % 32 == 0) part[threadIdx.x / 32] = dot;
  __syncthreads();
  if (threadIdx.x == 0) {
    float s = 0;
    for (unsigned i = 0; i < blockDim.x / 32; ++i) s += part[i];
    d_weight[ix.pair_src[p]] = s;
  }
  const float w = ix.pair_weight[p];
  for (int c = threadIdx.x; c < hidden; c += blockDim.x) yp[c] = w * __bfloat162float(dout[c]);
}

// In place: g <- dL/dg, da <- dL/du, from da = dL/dact.
__global__ void swiglu_bwd(float* g, const float* u, float* da, const std::int32_t* pairs, int ffn) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= std::int64_t(*pairs) * ffn) return;
  const float x = g[i], s = 1.0f / (1.0f + __expf(-x)), d = da[i];
  g[i] = d * u[i] * s * (1.0f + x * (1.0f - s));
  da[i] = d * x * s;
}

__global__ void scatter_rows(const ExpertIndex ix, const float* dx, int hidden, float* acc) {
  const std::int64_t p = blockIdx.x;
  if (p >= ix.offsets[ix.local_experts]) return;
  float* dst = acc + std::int64_t(ix.pair_row[p]) * hidden;
  for (int c = threadIdx.x; c < hidden; c += blockDim.x) atomicAdd(dst + c, dx[p * hidden + c]);
}

Operand pair_rows(const void* p, bool bf16, int width, const std::int32_t* gather = nullptr) {
  return Operand{p, bf16, 0, width, 1, 0, gather};  // (pair, column)
}
Operand pair_cols(const float* p, int width) {
  return Operand{p, false, 0, 1, width, 1, nullptr};
}  // (column, pair)
// Weight W [rows x cols] per expert, read as (row, col) or transposed as (col, row).
Operand weight(const Bf16* p, int rows, int cols, bool transposed) {
  const std::int64_t es = std::int64_t(rows) * cols;
  return transposed ? Operand{p, true, es, 1, cols, -1, nullptr} : Operand{p, true, es, cols, 1, -1, nullptr};
}
OutOperand pair_out(float* p, int width, bool accumulate = false) {
  return OutOperand{p, 0, width, 1, true, accumulate};
}
OutOperand weight_out(float* p, int rows, int cols) {
  return OutOperand{p, std::int64_t(rows) * cols, cols, 1, false, false};
}

}  // namespace

std::size_t simt_backward_workspace_bytes(const RecvView& recv, const ExpertWeights& w) {
  std::size_t used = 0;
  carve_backward(nullptr, recv, w, &used);
  return used;
}

void simt_backward(const RecvView& recv, const ExpertWeights& w, const Bf16* d_out, const ExpertGrads& grads,
                   void* workspace, cudaStream_t stream) {
  const int H = w.hidden, F = w.ffn;
  const BackwardBuffers b = carve_backward(workspace, recv, w, nullptr);
  const std::int64_t n_rows = recv.num_rows * H;
  OCCULT_CUDA(
      cudaMemsetAsync(grads.d_weight, 0, sizeof(float) * std::size_t(recv.num_rows * recv.slots), stream));
  build_expert_index(recv, b.ix, kSimtTile, stream);
  const std::int32_t* pairs = b.ix.offsets + w.local_experts;
  const unsigned max_pairs = unsigned(std::max<std::int64_t>(b.ix.capacity, 1));
  const unsigned ew_f = blocks_for(std::max<std::int64_t>(b.ix.capacity, 1) * F, 256);
  const auto gemm = [&](Operand a, Operand bo, OutOperand c, int M, int N, int K, bool seg_m) {
    launch_simt_gemm(SimtGemm{b.ix, a, bo, c, M, N, K, seg_m}, stream);
  };
  const Operand x = pair_rows(recv.rows, true, H, b.ix.pair_row);
  // Recompute: g = x Wg^T, u = x Wu^T, act = silu(g) u, y = act Wd^T.
  gemm(x, weight(w.gate, F, H, true), pair_out(b.g, F), 0, F, H, true);
  gemm(x, weight(w.up, F, H, true), pair_out(b.u, F), 0, F, H, true);
  swiglu_fwd<<<ew_f, 256, 0, stream>>>(b.g, b.u, pairs, F, b.act);
  OCCULT_LAUNCHED("swiglu_fwd");
  gemm(pair_rows(b.act, false, F), weight(w.down, H, F, true), pair_out(b.y, H), 0, H, F, true);
  weight_grad<<<max_pairs, 256, 0, stream>>>(b.ix, as_bf(d_out), H, b.y, grads.d_weight);
  OCCULT_LAUNCHED("weight_grad");
  // dact = dy Wd; dWd = dy^T act.
  gemm(pair_rows(b.y, false, H), weight(w.down, H, F, false), pair_out(b.da, F), 0, F, H, true);
  gemm(pair_cols(b.y, H), pair_rows(b.act, false, F), weight_out(grads.d_down, H, F), H, F, 0, false);
  swiglu_bwd<<<ew_f, 256, 0, stream>>>(b.g, b.u, b.da, pairs, F);
  OCCULT_LAUNCHED("swiglu_bwd");
  // dWg = dg^T x, dWu = du^T x, dx = dg Wg + du Wu (pre-reduced per received row).
  gemm(pair_cols(b.g, F), x, weight_out(grads.d_gate, F, H), F, H, 0, false);
  gemm(pair_cols(b.da, F), x, weight_out(grads.d_up, F, H), F, H, 0, false);
  gemm(pair_rows(b.g, false, F), weight(w.gate, F, H, false), pair_out(b.y, H), 0, H, F, true);
  gemm(pair_rows(b.da, false, F), weight(w.up, F, H, false), pair_out(b.y, H, true), 0, H, F, true);
  OCCULT_CUDA(
      cudaMemsetAsync(b.acc, 0, sizeof(float) * std::size_t(std::max<std::int64_t>(n_rows, 0)), stream));
  if (recv.num_rows > 0) {
    scatter_rows<<<max_pairs, 256, 0, stream>>>(b.ix, b.y, H, b.acc);
    OCCULT_LAUNCHED("scatter_rows");
  }
  fp32_to_bf16(b.acc, n_rows, grads.d_rows, stream);
}

}  // namespace occult::kernels::detail
