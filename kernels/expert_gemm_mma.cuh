#pragma once
// Grouped expert GEMM on sm_80-level tensor cores (mma.sync m16n8k16 bf16 -> fp32): one 128 x kTileN
// output tile per block of 8 warps (2 x 4), a 3-stage cp.async pipeline, ldmatrix from the swizzled
// tiles. The portable path (any GPU from sm_80) and the faster one for small batches on Hopper.
// Tile, loads and epilogues: expert_gemm_tile.cuh.
#include "kernels/expert_gemm_tile.cuh"

namespace occult::kernels::detail {

constexpr int kMmaStages = 3;
static_assert(kMmaStages >= kMinRingStages, "the epilogues stage their tile in the ring");

__device__ __forceinline__ void ldmatrix_x4(unsigned addr, unsigned (&r)[4]) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

__device__ __forceinline__ void mma_bf16(float (&c)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// kNT n8-tiles per warp: 4 (128-wide tiles, 2 blocks per SM, more tiles for small problems) or 8
// (256-wide tiles, 64x64 per warp: fewer shared-memory loads per mma for large problems).
template <int kNT>
constexpr int mma_smem_bytes() {
  return kMmaStages * stage_bytes<32 * kNT>();
}

// Tile: GatherTile (expert_gemm_tile.cuh) or WeightGradTile (expert_gemm_wgrad.cuh); it says which
// output tile this block computes, loads its k-tiles and writes the result.
template <class Tile, int kNT = Tile::kTileN / 32>
__global__ void __launch_bounds__(kGemmThreads, kNT == 4 ? 2 : 1)
    expert_gemm_mma_kernel(typename Tile::Args g) {
  constexpr int kTileN = Tile::kTileN, kStageBytes = stage_bytes<kTileN>();
  extern __shared__ __align__(128) unsigned char smem[];
  __shared__ std::int32_t tile_row[kTileM];
  __shared__ float tile_weight[kTileM];
  Tile tile;
  if (!tile.init(g, tile_row, tile_weight)) return;
  const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
  const int warp_m = warp >> 2, warp_n = warp & 3;
  const unsigned smem_base = smem_u32(smem);
  const auto load_stage = [&](int stage, int kt) {
    const unsigned sa = smem_base + unsigned(stage * kStageBytes);
    tile.load(sa, sa + unsigned(kTileM * kTileK * 2), kt);
  };

  float acc[4][kNT][4];
#pragma unroll
  for (int mi = 0; mi < 4; ++mi)
#pragma unroll
    for (int ni = 0; ni < kNT; ++ni)
#pragma unroll
      for (int c = 0; c < 4; ++c) acc[mi][ni][c] = 0.0f;

  const int k_tiles = tile.k_tiles(g);
#pragma unroll
  for (int s = 0; s < kMmaStages - 1; ++s) {
    if (s < k_tiles) load_stage(s, s);
    cp_async_commit();
  }
  for (int kt = 0; kt < k_tiles; ++kt) {
    cp_async_wait<kMmaStages - 2>();
    __syncthreads();  // stage kt landed for all threads; stage kt-1 is free to refill
    const int next = kt + kMmaStages - 1;
    if (next < k_tiles) load_stage(next % kMmaStages, next);
    cp_async_commit();

    const unsigned sa = smem_base + unsigned((kt % kMmaStages) * kStageBytes);
    const unsigned sb = sa + unsigned(kTileM * kTileK * 2);
#pragma unroll
    for (int ks = 0; ks < kTileK / 16; ++ks) {
      unsigned af[4][4], bf[kNT / 2][4];
#pragma unroll
      for (int mi = 0; mi < 4; ++mi) {
        const int r = warp_m * 64 + mi * 16 + (lane & 15);
        ldmatrix_x4(sa + swz(r, ks * 2 + (lane >> 4)), af[mi]);
      }
#pragma unroll
      for (int nj = 0; nj < kNT / 2; ++nj) {
        const int r = warp_n * (kNT * 8) + nj * 16 + (lane & 7) + ((lane >> 4) << 3);
        ldmatrix_x4(sb + swz(r, ks * 2 + ((lane >> 3) & 1)), bf[nj]);
      }
#pragma unroll
      for (int mi = 0; mi < 4; ++mi)
#pragma unroll
        for (int ni = 0; ni < kNT; ++ni)
          mma_bf16(acc[mi][ni], af[mi], bf[ni >> 1][(ni & 1) * 2], bf[ni >> 1][(ni & 1) * 2 + 1]);
    }
  }
  cp_async_wait<0>();
  __syncthreads();  // pipeline smem is reused by the epilogue

  // m16n8 fragment: c0, c1 at (lane / 4, 2 (lane % 4) + {0, 1}); c2, c3 eight rows below.
  tile.store(g, smem, [&](auto&& f) {
#pragma unroll
    for (int mi = 0; mi < 4; ++mi)
#pragma unroll
      for (int half = 0; half < 2; ++half)
#pragma unroll
        for (int ni = 0; ni < kNT; ++ni)
          f(warp_m * 64 + mi * 16 + (lane >> 2) + half * 8, warp_n * (kNT * 8) + ni * 8 + 2 * (lane & 3),
            acc[mi][ni][half * 2], acc[mi][ni][half * 2 + 1]);
  });
}

template <class Tile>
void launch_expert_gemm_mma(const typename Tile::Args& g, cudaStream_t stream) {
  constexpr int kSmem = mma_smem_bytes<Tile::kTileN / 32>();
  // Set on every call: the attribute belongs to the current device, and the call is cheap.
  OCCULT_CUDA(
      cudaFuncSetAttribute(expert_gemm_mma_kernel<Tile>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem));
  const dim3 grid = Tile::grid(g);
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;
  expert_gemm_mma_kernel<Tile><<<grid, kGemmThreads, kSmem, stream>>>(g);
  OCCULT_LAUNCHED("expert_gemm_mma_kernel");
}

}  // namespace occult::kernels::detail
