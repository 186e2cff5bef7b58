#include "kernels/expert_ffn_backward_rows.cuh"

namespace occult::kernels::detail {
namespace {

// The pair count lives on the device (index offsets), so the grid covers the capacity.
__global__ void invert_pairs(const std::int32_t* pair_src, const std::int32_t* pairs, std::int64_t capacity,
                             std::int32_t* pair_of) {
  const std::int64_t p = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (p < capacity && p < *pairs) pair_of[pair_src[p]] = std::int32_t(p);
}

// 8 columns per thread (hidden is a multiple of 64).
__global__ void sum_rows(const uint4* dx, const std::int32_t* pair_of, int slots, int hidden, uint4* d_rows) {
  const std::int64_t r = blockIdx.x;
  const int chunks = hidden / 8;
  for (int c = threadIdx.x; c < chunks; c += blockDim.x) {
    float acc[8] = {};
    for (int s = 0; s < slots; ++s) {
      const std::int32_t p = pair_of[r * slots + s];
      if (p < 0) continue;
      const uint4 raw = dx[std::int64_t(p) * chunks + c];
      const auto* h = reinterpret_cast<const __nv_bfloat162*>(&raw);
      for (int j = 0; j < 4; ++j) {
        const float2 v = __bfloat1622float2(h[j]);
        acc[2 * j] += v.x;
        acc[2 * j + 1] += v.y;
      }
    }
    uint4 o;
    auto* h = reinterpret_cast<__nv_bfloat162*>(&o);
    for (int j = 0; j < 4; ++j) h[j] = __floats2bfloat162_rn(acc[2 * j], acc[2 * j + 1]);
    d_rows[r * chunks + c] = o;
  }
}

}  // namespace

void sum_pair_rows(const RecvView& recv, const ExpertIndex& ix, const Bf16* dx, int hidden,
                   std::int32_t* pair_of, Bf16* d_rows, cudaStream_t stream) {
  if (recv.num_rows == 0) return;
  const std::int64_t slots_total = recv.num_rows * recv.slots;
  OCCULT_CUDA(cudaMemsetAsync(pair_of, 0xFF, sizeof(std::int32_t) * std::size_t(slots_total), stream));
  invert_pairs<<<blocks_for(ix.capacity, 256), 256, 0, stream>>>(ix.pair_src, ix.offsets + ix.local_experts,
                                                                 ix.capacity, pair_of);
  OCCULT_LAUNCHED("invert_pairs");
  sum_rows<<<unsigned(recv.num_rows), 128, 0, stream>>>(reinterpret_cast<const uint4*>(dx), pair_of,
                                                        recv.slots, hidden, reinterpret_cast<uint4*>(d_rows));
  OCCULT_LAUNCHED("sum_rows");
}

}  // namespace occult::kernels::detail
