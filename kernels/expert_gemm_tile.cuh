#pragma once
// What both grouped expert GEMM kernels (mma.sync in expert_gemm_mma.cuh, wgmma in
// expert_gemm_wgmma.cuh) share: the arguments, the 128 x kTileN output tile of one expert that a
// block of 256 threads computes, the gathered cp.async loads of its A and B tiles into shared memory,
// and the epilogues. Only the tensor-core main loop differs between the two kernels.
//
// Shared memory tiles: rows of kTileK = 64 bf16 (128 bytes), 16-byte chunk c of row r stored at chunk
// c ^ (r % 8). That is the 128-byte swizzle of wgmma's K-major operand layout (given 1024-byte aligned
// tiles) and also makes ldmatrix conflict-free.
//
// Epilogues:
//   SwiGLU:  B interleaves gate and up rows, so each thread holds (gate, up) of one feature side by
//            side; writes act = silu(gate) * up, [pairs x ffn] bf16, in pair order.
//   Scatter: multiplies each row by its gate weight and adds it into the row's output (fp32 atomics
//            when several experts share a row, a plain bf16 store when each row has one expert).
//   Pair stores (the backward, expert_ffn_backward_fused.cu): the bf16 tile as it is, [pairs x
//            width] in pair order: GateUp (gathered A, interleaved gate/up B: width 2N, gate and up of
//            feature j in columns 2j, 2j + 1), GatherStore (gathered A) and PairStore (A in pair order).
//   All stage the tile in shared memory first, so global writes and atomics go by whole 16-byte
//   chunks along a row.
#include <cuda_bf16.h>

#include "kernels/cuda_check.cuh"
#include "kernels/expert_index.cuh"

namespace occult::kernels::detail {

constexpr int kTileM = 128, kTileK = 64, kGemmThreads = 256;
// The shallowest pipeline ring of the two kernels (mma.sync's); the epilogues stage their tile in it.
constexpr int kMinRingStages = 3;

enum class Epilogue { SwiGLU, ScatterStore, ScatterAtomic, GateUp, GatherStore, PairStore };

// Whether A rows are received rows gathered through the pair index (else A is in pair order), and
// whether B interleaves gate and up rows.
constexpr bool gathers_a(Epilogue e) {
  return e == Epilogue::SwiGLU || e == Epilogue::GateUp || e == Epilogue::GatherStore;
}
constexpr bool interleaves_b(Epilogue e) { return e == Epilogue::SwiGLU || e == Epilogue::GateUp; }
constexpr bool stores_pairs(Epilogue e) {
  return e == Epilogue::GateUp || e == Epilogue::GatherStore || e == Epilogue::PairStore;
}

struct GemmArgs {
  ExpertIndex ix;
  const __nv_bfloat16* a = nullptr;       // SwiGLU: received rows (gathered); Scatter: act in pair order
  int K = 0;                              // reduction length (hidden or ffn); row stride of A and B
  const __nv_bfloat16* b_gate = nullptr;  // [L x N x K]; SwiGLU: gate weights
  const __nv_bfloat16* b_up = nullptr;    // SwiGLU: up weights (interleaved with gate by row)
  int N = 0;                              // B rows per expert (ffn for SwiGLU, hidden for Scatter)
  __nv_bfloat16* act = nullptr;           // SwiGLU output [pairs x N]; pair stores: [pairs x B rows]
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

// Byte offset of 16-byte chunk `chunk` of tile row `row`.
__device__ __forceinline__ unsigned swz(int row, int chunk) {
  return unsigned(row * 128 + ((chunk ^ (row & 7)) << 4));
}

// Bytes of one pipeline stage: the A tile (kTileM rows) then the B tile (kTileN rows).
template <int kTileN>
constexpr int stage_bytes() {
  return (kTileM + kTileN) * kTileK * 2;
}

// Per-thread source pointers of a block's cp.async loads, set by the tile's init: each thread copies
// chunk (tid % 8) of rows tid / 8 + 32 i of the A (i < 4) and B (i < kTileN / 32) tiles; a row that
// is not ok is zero-filled. Both tile kinds (GatherTile below, WeightGradTile) load through it.
template <int kTileN>
struct TileSources {
  static constexpr int kBRows = kTileN / 32;
  const __nv_bfloat16* a_src[4];
  const __nv_bfloat16* b_src[kBRows];
  bool a_ok[4], b_ok[kBRows];

  // Starts the copies of k-tile kt into the A tile at `sa` and the B tile at `sb` (shared addresses).
  __device__ void load(unsigned sa, unsigned sb, int kt) const {
    const int ld_chunk = int(threadIdx.x) & 7, ld_row = int(threadIdx.x) >> 3;
#pragma unroll
    for (int i = 0; i < 4; ++i)
      cp_async16(sa + swz(ld_row + 32 * i, ld_chunk), a_src[i] + kt * kTileK, a_ok[i]);
#pragma unroll
    for (int i = 0; i < kBRows; ++i)
      cp_async16(sb + swz(ld_row + 32 * i, ld_chunk), b_src[i] + kt * kTileK, b_ok[i]);
  }
};

// One block's tile of an activation GEMM: which expert and rows, the gathered row of each tile row and
// its gate weight, and the loads' sources.
template <Epilogue kEpi, int kTileN_>
struct GatherTile : TileSources<kTileN_> {
  using Args = GemmArgs;
  using Src = TileSources<kTileN_>;
  using Src::a_ok, Src::a_src, Src::b_ok, Src::b_src;
  static constexpr int kTileN = kTileN_;
  static constexpr int kBRows = kTileN / 32;
  int expert = -1, m_valid = 0, pair0 = 0, n0 = 0;
  std::int32_t* row;  // [kTileM] in shared memory: received row (A row for SwiGLU, output row for Scatter)
  float* weight;      // [kTileM] in shared memory: gate weight

  // Block-uniform: false when this m-tile is past the last expert's tiles (the grid is an upper bound).
  __device__ bool init(const GemmArgs& g, std::int32_t* tile_row, float* tile_weight) {
    row = tile_row;
    weight = tile_weight;
    expert = expert_of_tile(g.ix.tile_offsets, g.ix.local_experts, int(blockIdx.y));
    if (expert < 0) return false;
    const int m0 = (int(blockIdx.y) - g.ix.tile_offsets[expert]) * kTileM;
    pair0 = g.ix.offsets[expert] + m0;
    m_valid = min(kTileM, g.ix.counts[expert] - m0);
    n0 = int(blockIdx.x) * kTileN;  // B row offset (SwiGLU: interleaved gate/up rows)
    const int tid = int(threadIdx.x);
    if (tid < kTileM) {
      const bool ok = tid < m_valid;
      row[tid] = ok ? g.ix.pair_row[pair0 + tid] : 0;
      weight[tid] = ok ? g.ix.pair_weight[pair0 + tid] : 0.0f;
    }
    __syncthreads();
    const int ld_chunk = tid & 7, ld_row = tid >> 3;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int r = ld_row + 32 * i;
      a_ok[i] = r < m_valid;
      const std::int64_t a_row = gathers_a(kEpi) ? row[r] : std::int64_t(pair0) + (a_ok[i] ? r : 0);
      a_src[i] = g.a + a_row * g.K + ld_chunk * 8;
    }
#pragma unroll
    for (int i = 0; i < kBRows; ++i) {
      const int r = ld_row + 32 * i;
      if constexpr (interleaves_b(kEpi)) {
        const int feature = (n0 + r) >> 1;
        b_ok[i] = feature < g.N;
        const __nv_bfloat16* base = (r & 1) ? g.b_up : g.b_gate;
        b_src[i] = base + (std::int64_t(expert) * g.N + (b_ok[i] ? feature : 0)) * g.K + ld_chunk * 8;
      } else {
        b_ok[i] = n0 + r < g.N;
        b_src[i] = g.b_gate + (std::int64_t(expert) * g.N + (b_ok[i] ? n0 + r : 0)) * g.K + ld_chunk * 8;
      }
    }
    return true;
  }

  __device__ int k_tiles(const GemmArgs& g) const { return g.K / kTileK; }

  // x over B tiles (interleaved gate/up rows count twice), y over all experts' m-tiles (an upper
  // bound; blocks past the last tile return at once).
  static dim3 grid(const GemmArgs& g) {
    const std::int64_t m_tiles = max_tiles(g.ix, kTileM);
    if (m_tiles > 65535)
      throw CudaError("expert GEMM: too many received pairs for one launch (> 65535 tiles)");
    return dim3(unsigned((b_rows(g) + kTileN - 1) / kTileN), unsigned(m_tiles));
  }
  __host__ __device__ static int b_rows(const GemmArgs& g) { return interleaves_b(kEpi) ? 2 * g.N : g.N; }

  // Writes the block's results. `frags(f)` calls f(r, col, c0, c1) for every pair of adjacent
  // accumulators (tile row r, tile columns col and col + 1, col even) the thread holds. `smem` is the
  // pipeline's shared memory, free again (all copies and tensor-core reads done, block synchronised).
  template <class Frags>
  __device__ void store(const GemmArgs& g, unsigned char* smem, Frags&& frags) const {
    if constexpr (kEpi == Epilogue::ScatterAtomic) {
      // Stage w * tile in fp32, then add whole rows: each warp's float4 atomics cover 512 contiguous
      // bytes of one output row, where atomics in fragment order touched 8 rows per instruction.
      constexpr int kPitch = kTileN + 8;  // floats; +8: a half-warp's float2 staging writes hit 32 banks
      static_assert(kTileM * kPitch * 4 <= kMinRingStages * stage_bytes<kTileN>(),
                    "staging tile must fit the ring");
      auto* cs = reinterpret_cast<float*>(smem);
      frags([&](int r, int col, float c0, float c1) {
        const float w = weight[r];
        *reinterpret_cast<float2*>(cs + r * kPitch + col) = make_float2(w * c0, w * c1);
      });
      __syncthreads();
      constexpr int kChunks = kTileN / 4;
      for (int i = int(threadIdx.x); i < kTileM * kChunks; i += kGemmThreads) {
        const int r = i / kChunks, n = n0 + (i % kChunks) * 4;
        if (r >= m_valid || n >= g.N) continue;
        const float4 v = *reinterpret_cast<const float4*>(cs + r * kPitch + (i % kChunks) * 4);
        float* dst = g.acc + std::int64_t(row[r]) * g.N + n;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
        atomicAdd(reinterpret_cast<float4*>(dst), v);
#else
        atomicAdd(dst, v.x);
        atomicAdd(dst + 1, v.y);
        atomicAdd(dst + 2, v.z);
        atomicAdd(dst + 3, v.w);
#endif
      }
    } else {
      // Stage the bf16 tile in shared memory, then write whole 16-byte chunks of each row.
      constexpr int kCols = kEpi == Epilogue::SwiGLU ? kTileN / 2 : kTileN;
      constexpr int kPitch = kCols + 8;  // +16 bytes: conflict-free staging writes
      static_assert(kTileM * kPitch * 2 <= kMinRingStages * stage_bytes<kTileN>(),
                    "staging tile must fit the ring");
      auto* cs = reinterpret_cast<__nv_bfloat16*>(smem);
      frags([&](int r, int col, float c0, float c1) {
        if constexpr (kEpi == Epilogue::SwiGLU) {
          cs[r * kPitch + col / 2] = __float2bfloat16(silu(c0) * c1);
        } else if constexpr (stores_pairs(kEpi)) {
          *reinterpret_cast<__nv_bfloat162*>(cs + r * kPitch + col) = __floats2bfloat162_rn(c0, c1);
        } else {
          const float w = weight[r];
          *reinterpret_cast<__nv_bfloat162*>(cs + r * kPitch + col) = __floats2bfloat162_rn(w * c0, w * c1);
        }
      });
      __syncthreads();
      constexpr int kChunks = kCols / 8;
      for (int i = int(threadIdx.x); i < kTileM * kChunks; i += kGemmThreads) {
        const int r = i / kChunks, c = i % kChunks;
        if (r >= m_valid) continue;
        const uint4 v = *reinterpret_cast<const uint4*>(cs + r * kPitch + c * 8);
        if constexpr (kEpi == Epilogue::SwiGLU) {
          const int feature = n0 / 2 + c * 8;
          if (feature < g.N) *reinterpret_cast<uint4*>(g.act + (std::int64_t(pair0) + r) * g.N + feature) = v;
        } else if constexpr (stores_pairs(kEpi)) {
          const int n = n0 + c * 8, width = b_rows(g);
          if (n < width) *reinterpret_cast<uint4*>(g.act + (std::int64_t(pair0) + r) * width + n) = v;
        } else {
          const int n = n0 + c * 8;
          if (n < g.N) *reinterpret_cast<uint4*>(g.out + std::int64_t(row[r]) * g.N + n) = v;
        }
      }
    }
  }
};

// GatherTile<kEpi, N> as a template of N alone, for launch_expert_gemm (expert_gemm_launch.cuh).
template <Epilogue kEpi>
struct GatherTiles {
  template <int kTileN>
  using Of = GatherTile<kEpi, kTileN>;
};

}  // namespace occult::kernels::detail
