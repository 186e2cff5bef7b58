#pragma once
// Weight-gradient tiles of the grouped backward (expert_ffn_backward_fused.cu): per local expert e,
// C_e[M x N] (fp32) = A_e[M x P_e] B_e[N x P_e]^T, where P_e runs over the expert's received pairs.
// The operands are activations stored transposed ([features x padded pairs], pairs contiguous), so
// they are K-major like the forward's and load through the same swizzled cp.async tiles and the same
// mma.sync / wgmma main loops.
//
// Padded pairs: expert e owns columns [128 t_e, 128 t_{e+1}) of every transposed operand, t = the
// index's tile_offsets (m-tiles of kTileM pairs), pairs past its count zero. So every k-tile is whole
// and aligned, and an idle expert (no columns) gets a zero gradient from the same code.
//
// Determinism: each output tile belongs to one block, which sums the expert's pairs in k-tile order;
// no atomics, no split-K. With the pair order fixed (build_expert_index with stable order), the
// result is bitwise the same on every run.
#include <algorithm>

#include "kernels/expert_gemm_tile.cuh"

namespace occult::kernels::detail {

struct WeightGradArgs {
  static constexpr int kMaxGemms = 3;
  ExpertIndex ix;       // tile_offsets: each expert's padded pair columns
  std::int64_t ld = 0;  // row stride (elements) of every transposed operand, a multiple of kTileM
  int gemms = 0;        // GEMMs in this launch (blockIdx.z = gemm * experts + expert)
  const __nv_bfloat16* a[kMaxGemms] = {};  // [M x ld]
  const __nv_bfloat16* b[kMaxGemms] = {};  // [N x ld]
  float* out[kMaxGemms] = {};              // [experts x M x N]
  int m[kMaxGemms] = {}, n[kMaxGemms] = {};
};

template <int kTileN_>
struct WeightGradTile : TileSources<kTileN_> {
  using Args = WeightGradArgs;
  using Src = TileSources<kTileN_>;
  using Src::a_ok, Src::a_src, Src::b_ok, Src::b_src;
  static constexpr int kTileN = kTileN_;
  static constexpr int kBRows = kTileN / 32;
  int expert = 0, m0 = 0, n0 = 0, M = 0, N = 0, k_count = 0;
  float* out = nullptr;

  // Block-uniform: false for blocks past this GEMM's M or N (the grid covers the largest of them).
  __device__ bool init(const WeightGradArgs& g, std::int32_t*, float*) {
    const int L = g.ix.local_experts, which = int(blockIdx.z) / L;
    expert = int(blockIdx.z) % L;
    M = g.m[which];
    N = g.n[which];
    m0 = int(blockIdx.y) * kTileM;
    n0 = int(blockIdx.x) * kTileN;
    if (m0 >= M || n0 >= N) return false;
    out = g.out[which] + std::int64_t(expert) * M * N;
    const int t0 = g.ix.tile_offsets[expert], t1 = g.ix.tile_offsets[expert + 1];
    k_count = (t1 - t0) * (kTileM / kTileK);
    const std::int64_t col0 = std::int64_t(t0) * kTileM;
    const int ld_chunk = int(threadIdx.x) & 7, ld_row = int(threadIdx.x) >> 3;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int r = ld_row + 32 * i;
      a_ok[i] = m0 + r < M;
      a_src[i] = g.a[which] + std::int64_t(a_ok[i] ? m0 + r : 0) * g.ld + col0 + ld_chunk * 8;
    }
#pragma unroll
    for (int i = 0; i < kBRows; ++i) {
      const int r = ld_row + 32 * i;
      b_ok[i] = n0 + r < N;
      b_src[i] = g.b[which] + std::int64_t(b_ok[i] ? n0 + r : 0) * g.ld + col0 + ld_chunk * 8;
    }
    return true;
  }

  __device__ int k_tiles(const WeightGradArgs&) const { return k_count; }

  static dim3 grid(const WeightGradArgs& g) {
    int m = 0, n = 0;
    for (int i = 0; i < g.gemms; ++i) m = std::max(m, g.m[i]), n = std::max(n, g.n[i]);
    const std::int64_t z = std::int64_t(g.gemms) * g.ix.local_experts;
    if (z > 65535) throw CudaError("weight-gradient GEMM: too many local experts for one launch");
    return dim3(unsigned((n + kTileN - 1) / kTileN), unsigned((m + kTileM - 1) / kTileM), unsigned(z));
  }

  // Plain fp32 stores of the whole tile (staged in shared memory for 16-byte stores along a row).
  template <class Frags>
  __device__ void store(const WeightGradArgs&, unsigned char* smem, Frags&& frags) const {
    constexpr int kPitch = kTileN + 8;  // as ScatterAtomic's staging
    static_assert(kTileM * kPitch * 4 <= kMinRingStages * stage_bytes<kTileN>(),
                  "staging tile must fit the ring");
    auto* cs = reinterpret_cast<float*>(smem);
    frags([&](int r, int col, float c0, float c1) {
      *reinterpret_cast<float2*>(cs + r * kPitch + col) = make_float2(c0, c1);
    });
    __syncthreads();
    constexpr int kChunks = kTileN / 4;
    for (int i = int(threadIdx.x); i < kTileM * kChunks; i += kGemmThreads) {
      const int r = i / kChunks, c = (i % kChunks) * 4;
      if (m0 + r >= M || n0 + c >= N) continue;
      *reinterpret_cast<float4*>(out + std::int64_t(m0 + r) * N + n0 + c) =
          *reinterpret_cast<const float4*>(cs + r * kPitch + c);
    }
  }
};

}  // namespace occult::kernels::detail
