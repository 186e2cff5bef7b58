#include "kernels/grouped_gemm_simt.cuh"

namespace occult::kernels::detail {
namespace {

constexpr int kBk = 16;

__device__ __forceinline__ float load(const Operand& o, int e, int off, int i0, int i1) {
  std::int64_t r0 = i0, r1 = i1;
  if (o.seg_dim == 0) r0 = o.gather ? o.gather[off + i0] : off + i0;
  if (o.seg_dim == 1) r1 = o.gather ? o.gather[off + i1] : off + i1;
  const std::int64_t idx = std::int64_t(e) * o.expert_stride + r0 * o.s0 + r1 * o.s1;
  return o.bf16 ? __bfloat162float(static_cast<const __nv_bfloat16*>(o.p)[idx])
                : static_cast<const float*>(o.p)[idx];
}

__global__ void __launch_bounds__(256) simt_gemm_kernel(SimtGemm g) {
  __shared__ float as[kBk][kSimtTile];
  __shared__ float bs[kBk][kSimtTile + 4];
  int e = 0, m0 = 0, m_size = g.M, k_size = g.K;
  if (g.seg_m) {
    e = expert_of_tile(g.ix.tile_offsets, g.ix.local_experts, int(blockIdx.y));
    if (e < 0) return;
    m0 = (int(blockIdx.y) - g.ix.tile_offsets[e]) * kSimtTile;
    m_size = g.ix.counts[e];
  } else {
    e = int(blockIdx.z);
    m0 = int(blockIdx.y) * kSimtTile;
    k_size = g.ix.counts[e];
  }
  const int off = g.ix.offsets[e], n0 = int(blockIdx.x) * kSimtTile;
  const int tid = int(threadIdx.x), tx = tid % 16, ty = tid / 16;
  float acc[4][4] = {};
  for (int k0 = 0; k0 < k_size; k0 += kBk) {
    for (int i = tid; i < kBk * kSimtTile; i += 256) {
      const int mm = i % kSimtTile, kk = i / kSimtTile;
      const bool ka = k0 + kk < k_size;
      as[kk][mm] = (ka && m0 + mm < m_size) ? load(g.a, e, off, m0 + mm, k0 + kk) : 0.0f;
      bs[kk][mm] = (ka && n0 + mm < g.N) ? load(g.b, e, off, k0 + kk, n0 + mm) : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kBk; ++kk)
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] += as[kk][ty * 4 + i] * bs[kk][tx * 4 + j];
    __syncthreads();
  }
  for (int i = 0; i < 4; ++i) {
    const int m = m0 + ty * 4 + i;
    if (m >= m_size) continue;
    const std::int64_t row = g.c.seg_rows ? off + m : m;
    for (int j = 0; j < 4; ++j) {
      const int n = n0 + tx * 4 + j;
      if (n >= g.N) continue;
      float* dst = g.c.p + std::int64_t(e) * g.c.expert_stride + row * g.c.s0 + std::int64_t(n) * g.c.s1;
      *dst = g.c.accumulate ? *dst + acc[i][j] : acc[i][j];
    }
  }
}

}  // namespace

void launch_simt_gemm(const SimtGemm& g, cudaStream_t stream) {
  const unsigned nx = unsigned((g.N + kSimtTile - 1) / kSimtTile);
  dim3 grid;
  if (g.seg_m) {
    const std::int64_t tiles = max_tiles(g.ix, kSimtTile);
    if (tiles > 65535) throw CudaError("backward GEMM: too many received pairs for one launch");
    if (tiles == 0) return;
    grid = dim3(nx, unsigned(tiles), 1);
  } else {
    grid = dim3(nx, unsigned((g.M + kSimtTile - 1) / kSimtTile), unsigned(g.ix.local_experts));
  }
  simt_gemm_kernel<<<grid, 256, 0, stream>>>(g);
  OCCULT_LAUNCHED("simt_gemm_kernel");
}

}  // namespace occult::kernels::detail
