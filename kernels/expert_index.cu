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

// Stable order, three passes. 1: per block of kStableBlock pairs, how many go to each expert.
__global__ void stable_count(const std::int32_t* expert, std::int64_t n, int experts, std::int64_t blocks,
                             std::int32_t* block_counts) {
  extern __shared__ std::int32_t hist[];
  for (int e = int(threadIdx.x); e < experts; e += blockDim.x) hist[e] = 0;
  __syncthreads();
  const std::int64_t i = std::int64_t(blockIdx.x) * kStableBlock + threadIdx.x;
  if (i < n) {
    const int e = expert[i];
    if (e >= 0 && e < experts) atomicAdd(hist + e, 1);  // a count: order does not matter
  }
  __syncthreads();
  for (int e = int(threadIdx.x); e < experts; e += blockDim.x)
    block_counts[e * blocks + blockIdx.x] = hist[e];
}

// 2: expert totals and offsets, and each (expert, block)'s first position, blocks in order.
__global__ void stable_scan(ExpertIndex ix, std::int64_t blocks, std::int32_t* block_counts, int tile_m) {
  const int L = ix.local_experts;
  for (int e = int(threadIdx.x); e < L; e += blockDim.x) {
    std::int32_t run = 0;
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::int32_t c = block_counts[e * blocks + b];
      block_counts[e * blocks + b] = run;
      run += c;
    }
    ix.counts[e] = run;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    std::int32_t pairs = 0, tiles = 0;
    for (int e = 0; e < L; ++e) {
      ix.offsets[e] = pairs;
      ix.cursor[e] = pairs;
      ix.tile_offsets[e] = tiles;
      pairs += ix.counts[e];
      tiles += (ix.counts[e] + tile_m - 1) / tile_m;
    }
    ix.offsets[L] = pairs;
    ix.tile_offsets[L] = tiles;
  }
  __syncthreads();
  for (int e = int(threadIdx.x); e < L; e += blockDim.x)
    for (std::int64_t b = 0; b < blocks; ++b) block_counts[e * blocks + b] += ix.offsets[e];
}

// 3: each pair's rank among the earlier pairs of its block with the same expert (a scan of the block's
// experts in shared memory, no atomics).
__global__ void stable_scatter(const std::int32_t* expert, const float* weight, std::int64_t n, int slots,
                               std::int64_t blocks, const std::int32_t* block_base, ExpertIndex ix) {
  __shared__ std::int32_t ex[kStableBlock];
  const std::int64_t i = std::int64_t(blockIdx.x) * kStableBlock + threadIdx.x;
  int e = i < n ? expert[i] : -1;
  if (e >= ix.local_experts) e = -1;
  ex[threadIdx.x] = e;
  __syncthreads();
  if (e < 0) return;
  int rank = 0;
  for (unsigned j = 0; j < threadIdx.x; ++j) rank += ex[j] == e;
  const std::int32_t pos = block_base[e * blocks + blockIdx.x] + rank;
  ix.pair_row[pos] = std::int32_t(i / slots);
  ix.pair_weight[pos] = weight[i];
  ix.pair_src[pos] = std::int32_t(i);
}

}  // namespace

StableScratch carve_stable_scratch(Carver& c, const ExpertIndex& ix) {
  StableScratch s;
  s.blocks = std::max<std::int64_t>((ix.capacity + kStableBlock - 1) / kStableBlock, 1);
  s.block_counts = c.take<std::int32_t>(std::size_t(s.blocks) * std::size_t(ix.local_experts));
  return s;
}

void build_expert_index_stable(const RecvView& recv, const ExpertIndex& ix, const StableScratch& scratch,
                               int tile_m, cudaStream_t stream) {
  const std::int64_t n = recv.num_rows * recv.slots;
  const std::size_t hist_bytes = sizeof(std::int32_t) * std::size_t(ix.local_experts);
  if (hist_bytes > 48 * 1024) throw CudaError("expert index: too many local experts for the stable order");
  if (n > 0) {
    stable_count<<<unsigned(scratch.blocks), kStableBlock, hist_bytes, stream>>>(
        recv.expert, n, ix.local_experts, scratch.blocks, scratch.block_counts);
    OCCULT_LAUNCHED("stable_count");
  } else {
    OCCULT_CUDA(cudaMemsetAsync(scratch.block_counts, 0,
                                sizeof(std::int32_t) * std::size_t(scratch.blocks * ix.local_experts),
                                stream));
  }
  stable_scan<<<1, 256, 0, stream>>>(ix, scratch.blocks, scratch.block_counts, tile_m);
  OCCULT_LAUNCHED("stable_scan");
  if (n > 0) {
    stable_scatter<<<unsigned(scratch.blocks), kStableBlock, 0, stream>>>(
        recv.expert, recv.weight, n, recv.slots, scratch.blocks, scratch.block_counts, ix);
    OCCULT_LAUNCHED("stable_scatter");
  }
}

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
