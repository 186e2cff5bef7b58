#pragma once
// Grouped expert GEMM on tensor cores (mma.sync m16n8k16 bf16 -> fp32), one 128x128 output tile per
// block, 3-stage cp.async pipeline, XOR-swizzled shared memory for conflict-free ldmatrix.
// The A rows of a tile are gathered by index inside the load (cp.async from each row's own address),
// so no permuted copy of the input exists. Two epilogues:
//   SwiGLU:  B interleaves gate and up rows, so each thread holds (gate, up) of one feature side by
//            side; writes act = silu(gate) * up, [pairs x ffn] bf16, in pair order.
//   Scatter: multiplies each row by its gate weight and adds it into the row's output (fp32 atomics
//            when several experts share a row, a plain bf16 store when each row has one expert).
#include <cuda_bf16.h>

#include "kernels/cuda_check.cuh"
#include "kernels/expert_index.cuh"

namespace occult::kernels::detail {

constexpr int kTileM = 128, kTileK = 64, kStages = 3, kGemmThreads = 256;
constexpr int kWideTileMinPairsPerExpert = 1024;

// kNT n8-tiles per warp: 4 (128-wide tiles, 2 blocks per SM, more tiles for small problems) or 8
// (256-wide tiles, 64x64 per warp: fewer shared-memory loads per mma for large problems).
template <int kNT>
struct TileShape {
  static constexpr int kTileN = 32 * kNT;
  static constexpr int kStageBytes = (kTileM + kTileN) * kTileK * 2;
  static constexpr int kSmem = kStages * kStageBytes;
};

enum class Epilogue { SwiGLU, ScatterStore, ScatterAtomic };

struct GemmArgs {
  ExpertIndex ix;
  const __nv_bfloat16* a = nullptr;       // SwiGLU: received rows (gathered); Scatter: act in pair order
  int K = 0;                              // reduction length (hidden or ffn); row stride of A and B
  const __nv_bfloat16* b_gate = nullptr;  // [L x N x K]; SwiGLU: gate weights
  const __nv_bfloat16* b_up = nullptr;    // SwiGLU: up weights (interleaved with gate by row)
  int N = 0;                              // B rows per expert (ffn for SwiGLU, hidden for Scatter)
  __nv_bfloat16* act = nullptr;           // SwiGLU output [pairs x N]
  __nv_bfloat16* out = nullptr;           // ScatterStore output [rows x N]
  float* acc = nullptr;                   // ScatterAtomic output [rows x N]
};

__device__ __forceinline__ unsigned smem_u32(const void* p) { return unsigned(__cvta_generic_to_shared(p)); }

__device__ __forceinline__ void cp_async16(unsigned dst, const void* src, bool valid) {
  const int bytes = valid ? 16 : 0;  // 0: zero-fill (rows past the expert's end)
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

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

// Byte offset of 16-byte chunk `chunk` of tile row `row` (rows of kTileK bf16 = 128 bytes).
__device__ __forceinline__ unsigned swz(int row, int chunk) {
  return unsigned(row * 128 + ((chunk ^ (row & 7)) << 4));
}

template <Epilogue kEpi, int kNT>
__global__ void __launch_bounds__(kGemmThreads, kNT == 4 ? 2 : 1) expert_gemm_kernel(GemmArgs g) {
  constexpr int kTileN = TileShape<kNT>::kTileN, kStageBytes = TileShape<kNT>::kStageBytes;
  extern __shared__ __align__(128) unsigned char smem[];
  __shared__ std::int32_t tile_row[kTileM];
  __shared__ float tile_weight[kTileM];

  const int e = expert_of_tile(g.ix.tile_offsets, g.ix.local_experts, int(blockIdx.y));
  if (e < 0) return;
  const int m0 = (int(blockIdx.y) - g.ix.tile_offsets[e]) * kTileM;
  const int pair0 = g.ix.offsets[e] + m0;
  const int m_valid = min(kTileM, g.ix.counts[e] - m0);
  const int n0 = int(blockIdx.x) * kTileN;  // B row offset (SwiGLU: interleaved gate/up rows)
  const int tid = int(threadIdx.x), lane = tid & 31, warp = tid >> 5;
  const int warp_m = warp >> 2, warp_n = warp & 3;

  if (tid < kTileM) {
    const bool ok = tid < m_valid;
    tile_row[tid] = ok ? g.ix.pair_row[pair0 + tid] : 0;
    tile_weight[tid] = ok ? g.ix.pair_weight[pair0 + tid] : 0.0f;
  }
  __syncthreads();

  // Each thread copies chunk (tid % 8) of rows tid/8 + 32*i of the A (i < 4) and B (i < kNT) tiles.
  const int ld_chunk = tid & 7, ld_row = tid >> 3;
  const __nv_bfloat16* a_src[4];
  const __nv_bfloat16* b_src[kNT];
  bool a_ok[4], b_ok[kNT];
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int r = ld_row + 32 * i;
    a_ok[i] = r < m_valid;
    const std::int64_t a_row =
        kEpi == Epilogue::SwiGLU ? tile_row[r] : std::int64_t(pair0) + (a_ok[i] ? r : 0);
    a_src[i] = g.a + a_row * g.K + ld_chunk * 8;
  }
#pragma unroll
  for (int i = 0; i < kNT; ++i) {
    const int r = ld_row + 32 * i;
    if constexpr (kEpi == Epilogue::SwiGLU) {
      const int feature = (n0 + r) >> 1;
      b_ok[i] = feature < g.N;
      const __nv_bfloat16* base = (r & 1) ? g.b_up : g.b_gate;
      b_src[i] = base + (std::int64_t(e) * g.N + (b_ok[i] ? feature : 0)) * g.K + ld_chunk * 8;
    } else {
      b_ok[i] = n0 + r < g.N;
      b_src[i] = g.b_gate + (std::int64_t(e) * g.N + (b_ok[i] ? n0 + r : 0)) * g.K + ld_chunk * 8;
    }
  }
  const unsigned smem_base = smem_u32(smem);
  const auto load_stage = [&](int stage, int kt) {
    const unsigned sa = smem_base + unsigned(stage * kStageBytes);
    const unsigned sb = sa + unsigned(kTileM * kTileK * 2);
#pragma unroll
    for (int i = 0; i < 4; ++i)
      cp_async16(sa + swz(ld_row + 32 * i, ld_chunk), a_src[i] + kt * kTileK, a_ok[i]);
#pragma unroll
    for (int i = 0; i < kNT; ++i)
      cp_async16(sb + swz(ld_row + 32 * i, ld_chunk), b_src[i] + kt * kTileK, b_ok[i]);
  };

  float acc[4][kNT][4];
#pragma unroll
  for (int mi = 0; mi < 4; ++mi)
#pragma unroll
    for (int ni = 0; ni < kNT; ++ni)
#pragma unroll
      for (int c = 0; c < 4; ++c) acc[mi][ni][c] = 0.0f;

  const int k_tiles = g.K / kTileK;
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < k_tiles) load_stage(s, s);
    cp_async_commit();
  }
  for (int kt = 0; kt < k_tiles; ++kt) {
    cp_async_wait<kStages - 2>();
    __syncthreads();  // stage kt landed for all threads; stage kt-1 is free to refill
    const int next = kt + kStages - 1;
    if (next < k_tiles) load_stage(next % kStages, next);
    cp_async_commit();

    const unsigned sa = smem_base + unsigned((kt % kStages) * kStageBytes);
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

  if constexpr (kEpi == Epilogue::ScatterAtomic) {
#pragma unroll
    for (int mi = 0; mi < 4; ++mi)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int r = warp_m * 64 + mi * 16 + (lane >> 2) + half * 8;
        if (r >= m_valid) continue;
        const float w = tile_weight[r];
        float* dst = g.acc + std::int64_t(tile_row[r]) * g.N;
#pragma unroll
        for (int ni = 0; ni < kNT; ++ni) {
          const int n = n0 + warp_n * (kNT * 8) + ni * 8 + 2 * (lane & 3);
          if (n >= g.N) continue;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
          atomicAdd(reinterpret_cast<float2*>(dst + n),
                    make_float2(w * acc[mi][ni][half * 2], w * acc[mi][ni][half * 2 + 1]));
#else
          atomicAdd(dst + n, w * acc[mi][ni][half * 2]);
          atomicAdd(dst + n + 1, w * acc[mi][ni][half * 2 + 1]);
#endif
        }
      }
  } else {
    // Stage the bf16 tile in shared memory, then write whole 16-byte chunks of each row.
    constexpr int kCols = kEpi == Epilogue::SwiGLU ? kTileN / 2 : kTileN;
    constexpr int kPitch = kCols + 8;  // +16 bytes: conflict-free staging writes
    auto* cs = reinterpret_cast<__nv_bfloat16*>(smem);
#pragma unroll
    for (int mi = 0; mi < 4; ++mi)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int r = warp_m * 64 + mi * 16 + (lane >> 2) + half * 8;
#pragma unroll
        for (int ni = 0; ni < kNT; ++ni) {
          const float c0 = acc[mi][ni][half * 2], c1 = acc[mi][ni][half * 2 + 1];
          const int col = warp_n * (kNT * 8) + ni * 8 + 2 * (lane & 3);
          if constexpr (kEpi == Epilogue::SwiGLU) {
            cs[r * kPitch + col / 2] = __float2bfloat16(silu(c0) * c1);
          } else {
            const float w = tile_weight[r];
            *reinterpret_cast<__nv_bfloat162*>(cs + r * kPitch + col) = __floats2bfloat162_rn(w * c0, w * c1);
          }
        }
      }
    __syncthreads();
    constexpr int kChunks = kCols / 8;
    for (int i = tid; i < kTileM * kChunks; i += kGemmThreads) {
      const int r = i / kChunks, c = i % kChunks;
      if (r >= m_valid) continue;
      const uint4 v = *reinterpret_cast<const uint4*>(cs + r * kPitch + c * 8);
      if constexpr (kEpi == Epilogue::SwiGLU) {
        const int feature = n0 / 2 + c * 8;
        if (feature < g.N) *reinterpret_cast<uint4*>(g.act + (std::int64_t(pair0) + r) * g.N + feature) = v;
      } else {
        const int n = n0 + c * 8;
        if (n < g.N) *reinterpret_cast<uint4*>(g.out + std::int64_t(tile_row[r]) * g.N + n) = v;
      }
    }
  }
}

// Grid: x over B tiles (interleaved gate/up rows count twice), y over all experts' m-tiles.
template <Epilogue kEpi, int kNT>
void launch_expert_gemm_shape(const GemmArgs& g, cudaStream_t stream) {
  using T = TileShape<kNT>;
  // Set on every call: the attribute belongs to the current device, and the call is cheap.
  OCCULT_CUDA(cudaFuncSetAttribute(expert_gemm_kernel<kEpi, kNT>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                   T::kSmem));
  const int b_rows = kEpi == Epilogue::SwiGLU ? 2 * g.N : g.N;
  const std::int64_t m_tiles = max_tiles(g.ix, kTileM);
  if (m_tiles > 65535) throw CudaError("expert GEMM: too many received pairs for one launch (> 65535 tiles)");
  const dim3 grid(unsigned((b_rows + T::kTileN - 1) / T::kTileN), unsigned(m_tiles));
  if (grid.y == 0) return;
  expert_gemm_kernel<kEpi, kNT><<<grid, kGemmThreads, T::kSmem, stream>>>(g);
  OCCULT_LAUNCHED("expert_gemm_kernel");
}

// Wide tiles once there are enough pairs per expert to fill the GPU with them (on average; the
// counts stay on the device).
template <Epilogue kEpi>
void launch_expert_gemm(const GemmArgs& g, cudaStream_t stream) {
  if (g.ix.capacity >= std::int64_t(kWideTileMinPairsPerExpert) * g.ix.local_experts)
    launch_expert_gemm_shape<kEpi, 8>(g, stream);
  else
    launch_expert_gemm_shape<kEpi, 4>(g, stream);
}

}  // namespace occult::kernels::detail
