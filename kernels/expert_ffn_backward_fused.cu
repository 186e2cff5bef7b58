// The fused expert FFN backward: grouped tensor-core GEMMs built like the forward's (device-side tile
// scheduling from the per-expert counts, gathered operands, the mma.sync / wgmma main loops of
// expert_gemm_*.cuh), so nothing is read back to the host and no launch is per expert.
//
// Per expert, with X the gathered rows, O the gathered output gradients and w the gate weights (the
// same math as the cuBLAS path, kernels/expert_ffn_backward_cublas.cu):
//   [G|U] = X [Wg|Wu]^T              GateUp GEMM (gate and up interleaved by column)
//   D = O Wd                          GatherStore GEMM, B = Wd^T
//   A = silu(G) U; d_weight = <D, A>; dA = w D; dG = dA U silu'(G); dU = dA silu(G)   (pointwise)
//   dX = [dG|dU] [Wg|Wu]              PairStore GEMM, B = [Wg|Wu]^T interleaved along K
//   dWg = dG^T X, dWu = dU^T X, dWd = O^T (w A)   weight-gradient GEMMs, K = the expert's pairs
// then d_rows = the sum of each row's pairs' dX.
//
// The tensor-core tiles read K-major operands (expert_gemm_tile.cuh), so what a GEMM reads along its
// other dimension is transposed once: Wd^T and [Wg|Wu]^T per call (weight-sized), and X, O, dG, dU
// and wA as [features x padded pairs] (expert_gemm_wgrad.cuh), written by the gather and pointwise
// kernels below.
//
// Deterministic: the pair order is stable (build_expert_index_stable), every output element is
// written by one block that sums in a fixed order (no atomics, no split-K): weight gradients in
// k-tile order over the expert's pairs, d_weight over fixed 32-feature chunks, d_rows over slots.
// All five outputs are bitwise the same on every run with the same GEMM kernel.
#include <algorithm>

#include "kernels/expert_ffn_backward_paths.cuh"
#include "kernels/expert_ffn_backward_rows.cuh"
#include "kernels/expert_ffn_common.cuh"
#include "kernels/expert_gemm_launch.cuh"
#include "kernels/expert_gemm_wgrad.cuh"
#include "kernels/side_streams.cuh"

namespace occult::kernels::detail {
namespace {

constexpr int kFeatChunk = 32;  // features per block of the pointwise kernel (and d_weight partials)
constexpr int kTransTile = 64;  // weight transpose tile

struct FusedBuffers {
  ExpertIndex ix;
  StableScratch stable;
  std::int64_t ld = 0;                                     // padded pairs: columns of the transposed operands
  Bf16 *wd_t = nullptr, *wgu_t = nullptr;                  // [L x f x h], [L x h x 2f]
  Bf16 *x_t = nullptr, *o_t = nullptr;                     // [h x ld]
  Bf16 *gu = nullptr, *d = nullptr, *dgu = nullptr;        // [pairs x 2f], [pairs x f], [pairs x 2f]
  Bf16 *dg_t = nullptr, *du_t = nullptr, *aw_t = nullptr;  // [f x ld]
  float* dw_part = nullptr;                                // [f / kFeatChunk x ld] d_weight partial sums
  Bf16* dx = nullptr;                                      // [pairs x h]
  std::int32_t* pair_of = nullptr;                         // [rows x slots]
};

FusedBuffers carve_fused(void* base, const RecvView& recv, const ExpertWeights& w, std::size_t* used) {
  Carver c(base);
  FusedBuffers b;
  b.ix = carve_expert_index(c, recv, w.local_experts);
  b.stable = carve_stable_scratch(c, b.ix);
  b.ld = max_tiles(b.ix, kTileM) * kTileM;
  const std::size_t cap = std::size_t(std::max<std::int64_t>(b.ix.capacity, 1)), ld = std::size_t(b.ld);
  const std::size_t F = std::size_t(w.ffn), H = std::size_t(w.hidden), L = std::size_t(w.local_experts);
  b.wd_t = c.take<Bf16>(L * F * H);
  b.wgu_t = c.take<Bf16>(L * 2 * F * H);
  b.x_t = c.take<Bf16>(H * ld);
  b.o_t = c.take<Bf16>(H * ld);
  b.gu = c.take<Bf16>(cap * 2 * F);
  b.d = c.take<Bf16>(cap * F);
  b.dgu = c.take<Bf16>(cap * 2 * F);
  b.dg_t = c.take<Bf16>(F * ld);
  b.du_t = c.take<Bf16>(F * ld);
  b.aw_t = c.take<Bf16>(F * ld);
  b.dw_part = c.take<float>(F / kFeatChunk * ld);
  b.dx = c.take<Bf16>(cap * H);
  b.pair_of = c.take<std::int32_t>(cap);
  if (used) *used = c.used();
  return b;
}

// out[e][c][r * n_in + s] = in_s[e][r][c] for inputs in_0 (and in_1 when not null): [L x R x C] each.
// One 64 x 64 tile per block and input; R and C multiples of 64.
__global__ void __launch_bounds__(256)
    transpose_weights(const uint4* in0, const uint4* in1, int R, int C, uint4* out) {
  __shared__ std::uint16_t t[2][kTransTile][kTransTile + 2];  // +2: column reads spread over banks
  const int n_in = in1 ? 2 : 1, e = int(blockIdx.z), r0 = int(blockIdx.y) * kTransTile,
            c0 = int(blockIdx.x) * kTransTile, tid = int(threadIdx.x);
  for (int s = 0; s < n_in; ++s) {
    const uint4* in = s ? in1 : in0;
    for (int i = tid; i < kTransTile * 8; i += 256) {
      const int r = i / 8, q = i % 8;
      const uint4 v = in[((std::int64_t(e) * R + r0 + r) * C + c0) / 8 + q];
      const auto* h = reinterpret_cast<const std::uint16_t*>(&v);
      for (int j = 0; j < 8; ++j) t[s][r][q * 8 + j] = h[j];
    }
  }
  __syncthreads();
  const int row_chunks = 8 * n_in;  // 16-byte chunks of one output row's part in this tile
  const std::int64_t W = std::int64_t(R) * n_in;
  for (int i = tid; i < kTransTile * row_chunks; i += 256) {
    const int c = i / row_chunks, q = i % row_chunks;
    uint4 v;
    auto* h = reinterpret_cast<std::uint16_t*>(&v);
    for (int j = 0; j < 8; ++j) {
      const int m = q * 8 + j;
      h[j] = t[m % n_in][m / n_in][c];
    }
    out[((std::int64_t(e) * C + c0 + c) * W + std::int64_t(r0) * n_in) / 8 + q] = v;
  }
}

// Where m-tile y of the index lies: expert, first pair and valid rows; false past the last tile.
struct MTile {
  int expert = -1, pair0 = 0, m_valid = 0;
  __device__ bool find(const ExpertIndex& ix, int y) {
    expert = expert_of_tile(ix.tile_offsets, ix.local_experts, y);
    if (expert < 0) return false;
    const int m0 = (y - ix.tile_offsets[expert]) * kTileM;
    pair0 = ix.offsets[expert] + m0;
    m_valid = min(kTileM, ix.counts[expert] - m0);
    return true;
  }
};

// X^T and O^T: columns y * 128 + r of [h x ld] hold pair pair0 + r's received row and output gradient
// (zero for r >= m_valid, the padding the weight-gradient GEMMs sum over). Block: (64 columns of h,
// m-tile y).
__global__ void __launch_bounds__(256) gather_transpose(const uint4* rows, const uint4* d_out, ExpertIndex ix,
                                                        int hidden, std::int64_t ld, uint4* x_t, uint4* o_t) {
  MTile mt;
  if (!mt.find(ix, int(blockIdx.y))) return;
  __shared__ __align__(16) std::uint16_t t[64][kTileM + 8];  // +8: rows stay 16-byte aligned
  const int c0 = int(blockIdx.x) * 64, tid = int(threadIdx.x), chunks = hidden / 8;
  for (int which = 0; which < 2; ++which) {
    const uint4* src = which ? d_out : rows;
    uint4* dst = which ? o_t : x_t;
    for (int i = tid; i < kTileM * 8; i += 256) {
      const int r = i / 8, q = i % 8;
      uint4 v = make_uint4(0, 0, 0, 0);
      if (r < mt.m_valid) v = src[std::int64_t(ix.pair_row[mt.pair0 + r]) * chunks + c0 / 8 + q];
      const auto* h = reinterpret_cast<const std::uint16_t*>(&v);
      for (int j = 0; j < 8; ++j) t[q * 8 + j][r] = h[j];
    }
    __syncthreads();
    for (int i = tid; i < 64 * (kTileM / 8); i += 256) {
      const int c = i / (kTileM / 8), q = i % (kTileM / 8);
      dst[((c0 + c) * ld + std::int64_t(blockIdx.y) * kTileM) / 8 + q] =
          *reinterpret_cast<const uint4*>(&t[c][q * 8]);
    }
    __syncthreads();  // t is refilled by the next operand
  }
}

__device__ __forceinline__ void unpack8(const uint4& v, float (&f)[8]) {
  const auto* h = reinterpret_cast<const __nv_bfloat162*>(&v);
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const float2 x = __bfloat1622float2(h[j]);
    f[2 * j] = x.x;
    f[2 * j + 1] = x.y;
  }
}

// The pointwise step for kFeatChunk features of one m-tile: reads [G|U] and D in pair order, writes
// [dG|dU] in pair order (the dX GEMM's A), dG^T, dU^T and (wA)^T into the padded transposed layout
// (zero for padding rows) and this chunk's partial sum of d_weight = <D, A> per pair. Two threads per
// pair, 16 features each.
__global__ void __launch_bounds__(256)
    swiglu_backward_tiles(const uint4* gu, const uint4* d, ExpertIndex ix, int ffn, std::int64_t ld,
                          uint4* dgu, uint4* dg_t, uint4* du_t, uint4* aw_t, float* dw_part) {
  MTile mt;
  if (!mt.find(ix, int(blockIdx.y))) return;
  __shared__ __align__(16) std::uint16_t t[3][kFeatChunk][kTileM + 8];
  const int tid = int(threadIdx.x), r = tid >> 1, half = tid & 1;
  const int j0 = int(blockIdx.x) * kFeatChunk + half * 16;  // first feature of this thread
  const bool valid = r < mt.m_valid;
  const std::int64_t p = mt.pair0 + r;
  const float w = valid ? ix.pair_weight[p] : 0.0f;
  float g[16] = {}, u[16] = {}, dv[16] = {};
  if (valid) {
    for (int q = 0; q < 4; ++q) {  // [G|U] interleaved: 32 values, 4 chunks
      float f[8];
      unpack8(gu[(p * 2 * ffn + 2 * j0) / 8 + q], f);
      for (int j = 0; j < 4; ++j) g[4 * q + j] = f[2 * j], u[4 * q + j] = f[2 * j + 1];
    }
    for (int q = 0; q < 2; ++q) {
      float f[8];
      unpack8(d[(p * ffn + j0) / 8 + q], f);
      for (int j = 0; j < 8; ++j) dv[8 * q + j] = f[j];
    }
  }
  float dot = 0.0f, dg[16], du[16];
#pragma unroll
  for (int j = 0; j < 16; ++j) {
    const float s = 1.0f / (1.0f + __expf(-g[j])), silu_g = g[j] * s, a = silu_g * u[j], da = w * dv[j];
    dot += dv[j] * a;
    dg[j] = da * u[j] * s * (1.0f + g[j] * (1.0f - s));
    du[j] = da * silu_g;
    const __nv_bfloat16 bg = __float2bfloat16(dg[j]), bu = __float2bfloat16(du[j]),
                        ba = __float2bfloat16(w * a);
    t[0][half * 16 + j][r] = *reinterpret_cast<const std::uint16_t*>(&bg);
    t[1][half * 16 + j][r] = *reinterpret_cast<const std::uint16_t*>(&bu);
    t[2][half * 16 + j][r] = *reinterpret_cast<const std::uint16_t*>(&ba);
  }
  if (valid)
    for (int q = 0; q < 4; ++q) {
      uint4 v;
      auto* h = reinterpret_cast<__nv_bfloat162*>(&v);
      for (int j = 0; j < 4; ++j) h[j] = __floats2bfloat162_rn(dg[4 * q + j], du[4 * q + j]);
      dgu[(p * 2 * ffn + 2 * j0) / 8 + q] = v;
    }
  // Both threads of a pair add the same two numbers (the sum is commutative), so either may write.
  dot += __shfl_xor_sync(0xffffffffu, dot, 1);
  if (half == 0) dw_part[blockIdx.x * ld + std::int64_t(blockIdx.y) * kTileM + r] = dot;
  __syncthreads();
  uint4* outs[3] = {dg_t, du_t, aw_t};
  for (int i = tid; i < 3 * kFeatChunk * (kTileM / 8); i += 256) {
    const int k = i / (kFeatChunk * (kTileM / 8)), rest = i % (kFeatChunk * (kTileM / 8));
    const int c = rest / (kTileM / 8), q = rest % (kTileM / 8);
    outs[k][((std::int64_t(blockIdx.x) * kFeatChunk + c) * ld + std::int64_t(blockIdx.y) * kTileM) / 8 + q] =
        *reinterpret_cast<const uint4*>(&t[k][c][q * 8]);
  }
}

// d_weight of each pair: its chunks' partial sums in chunk order. One thread per padded pair column.
__global__ void finish_weight_grad(const float* dw_part, int chunks, std::int64_t ld, ExpertIndex ix,
                                   float* d_weight) {
  const std::int64_t col = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (col >= ld) return;
  MTile mt;
  if (!mt.find(ix, int(col / kTileM))) return;
  const int r = int(col % kTileM);
  if (r >= mt.m_valid) return;
  float s = 0.0f;
  for (int c = 0; c < chunks; ++c) s += dw_part[c * ld + col];
  d_weight[ix.pair_src[mt.pair0 + r]] = s;
}

// Arguments of an activation GEMM with a pair-order output (GateUp, GatherStore, PairStore epilogues).
GemmArgs pair_gemm(const ExpertIndex& ix, const Bf16* a, int K, const Bf16* b, const Bf16* b_up, int N,
                   Bf16* out) {
  GemmArgs g;
  g.ix = ix;
  g.a = as_bf(a);
  g.K = K;
  g.b_gate = as_bf(b);
  g.b_up = b_up ? as_bf(b_up) : nullptr;
  g.N = N;
  g.act = as_bf(out);
  return g;
}

GemmKernel wide(GemmKernel k) {
  return k == GemmKernel::Wgmma128 || k == GemmKernel::Wgmma256 ? GemmKernel::Wgmma256 : GemmKernel::Mma256;
}

}  // namespace

std::size_t fused_backward_workspace_bytes(const RecvView& recv, const ExpertWeights& w) {
  std::size_t used = 0;
  carve_fused(nullptr, recv, w, &used);
  return used;
}

void fused_backward(const RecvView& recv, const ExpertWeights& w, const Bf16* d_out, const ExpertGrads& grads,
                    void* workspace, cudaStream_t stream, GemmKernel kernel) {
  if ((kernel == GemmKernel::Wgmma128 || kernel == GemmKernel::Wgmma256) && !wgmma_available())
    throw CudaError(std::string("expert FFN backward: ") + to_string(kernel) +
                    " needs a compute capability 9.0 GPU");
  const FusedBuffers b = carve_fused(workspace, recv, w, nullptr);
  const int L = w.local_experts, H = w.hidden, F = w.ffn;
  // Activation GEMMs by the forward's rule; the weight-gradient GEMMs have weight-sized outputs, so
  // the wide tiles of the same family, unless a kernel is forced.
  const bool forced = kernel != GemmKernel::Auto;
  const GemmKernel act_kernel = forced ? kernel : choose_gemm_kernel(recv, w);
  const GemmKernel wgrad_kernel = forced ? kernel : wide(act_kernel);
  const std::int64_t slots_total = recv.num_rows * recv.slots;
  if (slots_total > 0)
    OCCULT_CUDA(cudaMemsetAsync(grads.d_weight, 0, sizeof(float) * std::size_t(slots_total), stream));
  build_expert_index_stable(recv, b.ix, b.stable, kTileM, stream);

  const std::int64_t m_tiles = max_tiles(b.ix, kTileM);
  if (m_tiles > 65535) throw CudaError("expert FFN backward: too many received pairs for one launch");

  // The transposes are memory-bound and the GEMMs compute-bound, and a transpose block fits next to a
  // GEMM block on an SM, so they run on a side stream alongside the first GEMMs: Wd^T (needed by the
  // D GEMM), X^T and O^T (weight gradients), [Wg|Wu]^T (dX). done[0]: Wd^T ready; done[1]: all.
  const SideStreams& side = side_streams();
  cudaStream_t aside = side.stream[0];
  OCCULT_CUDA(cudaEventRecord(side.fork, stream));  // after the index: gather_transpose reads it
  OCCULT_CUDA(cudaStreamWaitEvent(aside, side.fork, 0));
  transpose_weights<<<dim3(unsigned(F / kTransTile), unsigned(H / kTransTile), unsigned(L)), 256, 0, aside>>>(
      reinterpret_cast<const uint4*>(w.down), nullptr, H, F, reinterpret_cast<uint4*>(b.wd_t));
  OCCULT_LAUNCHED("transpose_weights");
  OCCULT_CUDA(cudaEventRecord(side.done[0], aside));
  gather_transpose<<<dim3(unsigned(H / 64), unsigned(m_tiles)), 256, 0, aside>>>(
      reinterpret_cast<const uint4*>(recv.rows), reinterpret_cast<const uint4*>(d_out), b.ix, H, b.ld,
      reinterpret_cast<uint4*>(b.x_t), reinterpret_cast<uint4*>(b.o_t));
  OCCULT_LAUNCHED("gather_transpose");
  transpose_weights<<<dim3(unsigned(H / kTransTile), unsigned(F / kTransTile), unsigned(L)), 256, 0, aside>>>(
      reinterpret_cast<const uint4*>(w.gate), reinterpret_cast<const uint4*>(w.up), F, H,
      reinterpret_cast<uint4*>(b.wgu_t));
  OCCULT_LAUNCHED("transpose_weights");
  OCCULT_CUDA(cudaEventRecord(side.done[1], aside));

  const GemmArgs gu = pair_gemm(b.ix, recv.rows, H, w.gate, w.up, F, b.gu);
  launch_expert_gemm<GatherTiles<Epilogue::GateUp>::template Of>(act_kernel, gu, stream);

  OCCULT_CUDA(cudaStreamWaitEvent(stream, side.done[0], 0));
  const GemmArgs dd = pair_gemm(b.ix, d_out, H, b.wd_t, nullptr, F, b.d);
  launch_expert_gemm<GatherTiles<Epilogue::GatherStore>::template Of>(act_kernel, dd, stream);

  swiglu_backward_tiles<<<dim3(unsigned(F / kFeatChunk), unsigned(m_tiles)), 256, 0, stream>>>(
      reinterpret_cast<const uint4*>(b.gu), reinterpret_cast<const uint4*>(b.d), b.ix, F, b.ld,
      reinterpret_cast<uint4*>(b.dgu), reinterpret_cast<uint4*>(b.dg_t), reinterpret_cast<uint4*>(b.du_t),
      reinterpret_cast<uint4*>(b.aw_t), b.dw_part);
  OCCULT_LAUNCHED("swiglu_backward_tiles");
  finish_weight_grad<<<blocks_for(b.ld, 256), 256, 0, stream>>>(b.dw_part, F / kFeatChunk, b.ld, b.ix,
                                                                grads.d_weight);
  OCCULT_LAUNCHED("finish_weight_grad");

  OCCULT_CUDA(cudaStreamWaitEvent(stream, side.done[1], 0));  // joins the side stream back
  const GemmArgs dx = pair_gemm(b.ix, b.dgu, 2 * F, b.wgu_t, nullptr, H, b.dx);
  launch_expert_gemm<GatherTiles<Epilogue::PairStore>::template Of>(act_kernel, dx, stream);

  WeightGradArgs wg;
  wg.ix = b.ix;
  wg.ld = b.ld;
  wg.gemms = 3;
  const Bf16* a[3] = {b.dg_t, b.du_t, b.o_t};
  const Bf16* bb[3] = {b.x_t, b.x_t, b.aw_t};
  float* out[3] = {grads.d_gate, grads.d_up, grads.d_down};
  const int m[3] = {F, F, H}, n[3] = {H, H, F};
  for (int i = 0; i < 3; ++i) {
    wg.a[i] = as_bf(a[i]);
    wg.b[i] = as_bf(bb[i]);
    wg.out[i] = out[i];
    wg.m[i] = m[i];
    wg.n[i] = n[i];
  }
  launch_expert_gemm<WeightGradTile>(wgrad_kernel, wg, stream);

  sum_pair_rows(recv, b.ix, b.dx, H, b.pair_of, grads.d_rows, stream);
}

}  // namespace occult::kernels::detail
