#pragma once
// Grouped expert GEMM on Hopper tensor cores (wgmma, sm_90a): one 128 x kTileN output tile per block
// of two warpgroups, each computing 64 rows x kTileN with wgmma.m64nNk16 reading A and B straight
// from the swizzled shared-memory tiles (no ldmatrix, no register fragments).
//
// Loads: TMA cannot gather rows, so every thread issues 16-byte cp.async copies of the gathered A rows
// and the B rows (GatherTile in expert_gemm_tile.cuh) into a kStages-deep ring. Each k-tile's wgmmas
// are left in flight while the next k-tile's are issued (wgmma.wait_group 1), so the ring slot refilled
// at iteration kt is the one read at kt - 2; loads run kStages - 2 k-tiles ahead.
#include <cstdint>

#include "kernels/expert_gemm_tile.cuh"

namespace occult::kernels::detail {

// 256-wide tiles: 48 KB per stage, 4 stages; 128-wide: 32 KB per stage, 6 stages. Both about 192 KB,
// one block per SM; +1 KB to align the ring to 1024 bytes.
template <int kTileN>
struct WgmmaShape {
  static constexpr int kStages = kTileN == 256 ? 4 : 6;
  static constexpr int kStageBytes = stage_bytes<kTileN>();
  static constexpr int kSmem = kStages * kStageBytes + 1024;
  static constexpr int kAcc = kTileN / 2;  // fp32 accumulators per thread: 64 x kTileN over 128 threads
};

// Shared-memory matrix descriptor of a K-major tile with 128-byte swizzle: rows of 128 bytes, groups of
// 8 rows 1024 bytes apart (stride byte offset); the leading byte offset is unused in this layout.
__device__ __forceinline__ std::uint64_t smem_desc_sw128(unsigned addr) {
  return std::uint64_t((addr & 0x3FFFFu) >> 4) | (std::uint64_t(1) << 16) | (std::uint64_t(1024 >> 4) << 32) |
         (std::uint64_t(1) << 62);
}

__device__ __forceinline__ void wgmma_fence() {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void wgmma_commit() {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#endif
}
template <int N>
__device__ __forceinline__ void wgmma_wait() {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
#endif
}
// cp.async writes are generic-proxy writes; wgmma reads shared memory through the async proxy.
__device__ __forceinline__ void fence_proxy_async_smem() {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}
// Keeps the compiler from moving accumulator reads or writes across wgmma issue / wait points.
template <int N>
__device__ __forceinline__ void fence_operands(float (&d)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+f"(d[i])::"memory");
}

// D[64 x 128] += A[64 x 16] B[128 x 16]^T, both K-major in shared memory (descriptors).
__device__ __forceinline__ void wgmma_m64n128k16(float (&d)[64], std::uint64_t a, std::uint64_t b) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "setp.ne.b32 p, %66, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
      "}, %64, %65, p, 1, 1, 0, 0;\n"
      "}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]),
        "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]),
        "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]),
        "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]),
        "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]),
        "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]),
        "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
      : "l"(a), "l"(b), "r"(1));
#else
  __trap();  // sm_90a only; the host never launches it elsewhere
#endif
}

// D[64 x 256] += A[64 x 16] B[256 x 16]^T, both K-major in shared memory (descriptors).
__device__ __forceinline__ void wgmma_m64n256k16(float (&d)[128], std::uint64_t a, std::uint64_t b) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "setp.ne.b32 p, %130, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63,"
      "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79,"
      "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95,"
      "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111,"
      "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"
      "}, %128, %129, p, 1, 1, 0, 0;\n"
      "}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]),
        "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]),
        "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]),
        "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]),
        "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]),
        "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]),
        "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), "+f"(d[64]),
        "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),
        "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]),
        "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]),
        "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]),
        "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]),
        "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), "+f"(d[104]), "+f"(d[105]), "+f"(d[106]),
        "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]), "+f"(d[112]), "+f"(d[113]),
        "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]), "+f"(d[120]),
        "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])
      : "l"(a), "l"(b), "r"(1));
#else
  __trap();  // sm_90a only; the host never launches it elsewhere
#endif
}

template <int kTileN>
__device__ __forceinline__ void wgmma_tile(float (&d)[kTileN / 2], std::uint64_t a, std::uint64_t b) {
  if constexpr (kTileN == 256)
    wgmma_m64n256k16(d, a, b);
  else
    wgmma_m64n128k16(d, a, b);
}

// Tile: GatherTile (expert_gemm_tile.cuh) or WeightGradTile (expert_gemm_wgrad.cuh).
template <class Tile>
__global__ void __launch_bounds__(kGemmThreads, 1) expert_gemm_wgmma_kernel(typename Tile::Args g) {
  constexpr int kTileN = Tile::kTileN;
  using S = WgmmaShape<kTileN>;
  extern __shared__ __align__(1024) unsigned char smem_raw[];
  __shared__ std::int32_t tile_row[kTileM];
  __shared__ float tile_weight[kTileM];
  Tile tile;
  if (!tile.init(g, tile_row, tile_weight)) return;
  // The swizzle is a function of address bits 4-9, so every tile must start on a 1024-byte boundary.
  const unsigned raw = smem_u32(smem_raw), ring = (raw + 1023u) & ~1023u;
  unsigned char* smem = smem_raw + (ring - raw);
  const int warpgroup = int(threadIdx.x) >> 7, warp = (int(threadIdx.x) >> 5) & 3,
            lane = int(threadIdx.x) & 31;
  const auto slot_a = [&](int kt) { return ring + unsigned((kt % S::kStages) * S::kStageBytes); };
  const auto slot_b = [&](int kt) { return slot_a(kt) + unsigned(kTileM * kTileK * 2); };

  float acc[S::kAcc];
#pragma unroll
  for (int i = 0; i < S::kAcc; ++i) acc[i] = 0.0f;

  const int k_tiles = tile.k_tiles(g);
#pragma unroll
  for (int s = 0; s < S::kStages - 2; ++s) {
    if (s < k_tiles) tile.load(slot_a(s), slot_b(s), s);
    cp_async_commit();
  }
  for (int kt = 0; kt < k_tiles; ++kt) {
    cp_async_wait<S::kStages - 3>();  // this thread's copies of k-tile kt landed
    fence_proxy_async_smem();
    // Everyone's copies of kt landed, and every warpgroup's wgmmas of kt - 2 completed (each waited
    // for all but its newest group), so that slot can be refilled.
    __syncthreads();
    const int next = kt + S::kStages - 2;
    if (next < k_tiles) tile.load(slot_a(next), slot_b(next), next);
    cp_async_commit();

    fence_operands(acc);
    wgmma_fence();
    const unsigned a = slot_a(kt) + unsigned(warpgroup * 64 * 128), b = slot_b(kt);
#pragma unroll
    for (int ks = 0; ks < kTileK / 16; ++ks)  // 16 bf16 = 32 bytes further along K, inside the swizzle atom
      wgmma_tile<kTileN>(acc, smem_desc_sw128(a + unsigned(ks * 32)), smem_desc_sw128(b + unsigned(ks * 32)));
    wgmma_commit();
    wgmma_wait<1>();
    fence_operands(acc);
  }
  wgmma_wait<0>();
  fence_operands(acc);
  cp_async_wait<0>();
  __syncthreads();  // pipeline smem is reused by the epilogue

  // Accumulator layout of m64nN: warp w of the warpgroup holds rows 16 w .. 16 w + 15; per 8 columns j,
  // d[4j], d[4j+1] at (lane / 4, 8j + 2 (lane % 4) + {0, 1}) and d[4j+2], d[4j+3] eight rows below.
  tile.store(g, smem, [&](auto&& f) {
#pragma unroll
    for (int j = 0; j < kTileN / 8; ++j)
#pragma unroll
      for (int half = 0; half < 2; ++half)
        f(warpgroup * 64 + warp * 16 + (lane >> 2) + half * 8, j * 8 + 2 * (lane & 3), acc[4 * j + 2 * half],
          acc[4 * j + 2 * half + 1]);
  });
}

template <class Tile>
void launch_expert_gemm_wgmma(const typename Tile::Args& g, cudaStream_t stream) {
  constexpr int kSmem = WgmmaShape<Tile::kTileN>::kSmem;
  OCCULT_CUDA(cudaFuncSetAttribute(expert_gemm_wgmma_kernel<Tile>,
                                   cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem));
  const dim3 grid = Tile::grid(g);
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;
  expert_gemm_wgmma_kernel<Tile><<<grid, kGemmThreads, kSmem, stream>>>(g);
  OCCULT_LAUNCHED("expert_gemm_wgmma_kernel");
}

}  // namespace occult::kernels::detail
