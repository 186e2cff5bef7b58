#include "kernels/expert_index.cuh"

namespace occult::kernels::detail {
namespace {

__global__ void count_pairs(const std::int32_t* expert, std::int64_t n, int experts, std::int32_t* counts) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const int e = expert[i];
  if (e >= 0 && e < experts) atomicAdd(counts + e, 1);
}

__global__ void scan_pairs(ExpertIndex ix, int tile_m) {
  if (threadIdx.x != 0) return;
  std::int32_t pairs = 0, tiles = 0;
  for (int e = 0; e < ix.local_experts; ++e) {
    ix.offsets[e] = pairs;
    ix.cursor[e] = pairs;
    ix.tile_offsets[e] = tiles;
    pairs += ix.counts[e];
    tiles += (ix.counts[e] + tile_m - 1) / tile_m;
  }
  ix.offsets[ix.local_experts] = pairs;
  ix.tile_offsets[ix.local_experts] = tiles;
}

__global__ void scatter_pairs(const std::int32_t* expert, const float* weight, std::int64_t n, int slots,
                              ExpertIndex ix) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const int e = expert[i];
  if (e < 0 || e >= ix.local_experts) return;
  const std::int32_t pos = atomicAdd(ix.cursor + e, 1);
  ix.pair_row[pos] = std::int32_t(i / slots);
  ix.pair_weight[pos] = weight[i];
  ix.pair_src[pos] = std::int32_t(i);
}

}  // namespace

ExpertIndex carve_expert_index(Carver& c, const RecvView& recv, int local_experts) {
  ExpertIndex ix;
  ix.local_experts = local_experts;
  ix.capacity = recv.num_rows * recv.slots;
  const std::size_t L = std::size_t(local_experts);
  ix.counts = c.take<std::int32_t>(L);
  ix.offsets = c.take<std::int32_t>(L + 1);
  ix.cursor = c.take<std::int32_t>(L);
  ix.tile_offsets = c.take<std::int32_t>(L + 1);
  const std::size_t cap = std::size_t(std::max<std::int64_t>(ix.capacity, 1));
  ix.pair_row = c.take<std::int32_t>(cap);
  ix.pair_weight = c.take<float>(cap);
  ix.pair_src = c.take<std::int32_t>(cap);
  return ix;
}

void build_expert_index(const RecvView& recv, const ExpertIndex& ix, int tile_m, cudaStream_t stream) {
  const std::int64_t n = recv.num_rows * recv.slots;
  OCCULT_CUDA(cudaMemsetAsync(ix.counts, 0, sizeof(std::int32_t) * std::size_t(ix.local_experts), stream));
  if (n > 0) {
    count_pairs<<<blocks_for(n, 256), 256, 0, stream>>>(recv.expert, n, ix.local_experts, ix.counts);
    OCCULT_LAUNCHED("count_pairs");
  }
  scan_pairs<<<1, 32, 0, stream>>>(ix, tile_m);
  OCCULT_LAUNCHED("scan_pairs");
  if (n > 0) {
    scatter_pairs<<<blocks_for(n, 256), 256, 0, stream>>>(recv.expert, recv.weight, n, recv.slots, ix);
    OCCULT_LAUNCHED("scatter_pairs");
  }
}

}  // namespace occult::kernels::detail
