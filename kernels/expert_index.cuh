#pragma once
// Receiver side: groups the received (row, slot) pairs by local expert (a counting sort), so the
// expert GEMMs can gather their rows by index. build_expert_index: pair order inside an expert follows
// atomic arrival; it changes no value of the forward (each pair is computed independently), only fp32
// summation order where rows share an output. build_expert_index_stable: pairs of an expert in
// (row, slot) order, for the backward, whose weight gradients sum over an expert's pairs.
#include "kernels/cuda_check.cuh"

namespace occult::kernels::detail {

struct ExpertIndex {
  std::int32_t* counts = nullptr;        // [L] pairs per local expert
  std::int32_t* offsets = nullptr;       // [L + 1] first pair of each expert; [L] = pairs
  std::int32_t* cursor = nullptr;        // [L] scratch
  std::int32_t* tile_offsets = nullptr;  // [L + 1] first m-tile of each expert (tiles of tile_m rows)
  std::int32_t* pair_row = nullptr;      // [capacity] received row of each pair
  float* pair_weight = nullptr;          // [capacity] gate weight of each pair
  std::int32_t* pair_src = nullptr;      // [capacity] row * slots + slot, where the pair came from
  std::int64_t capacity = 0;             // rows * slots, an upper bound on the pairs
  int local_experts = 0;
};

ExpertIndex carve_expert_index(Carver& c, const RecvView& recv, int local_experts);

// Upper bound on the m-tiles of all experts, for grid sizing without reading counts back.
inline std::int64_t max_tiles(const ExpertIndex& ix, int tile_m) {
  return ix.capacity / tile_m + ix.local_experts;
}

void build_expert_index(const RecvView& recv, const ExpertIndex& ix, int tile_m, cudaStream_t stream);

// Scratch of the stable order: pair counts per block of kStableBlock pairs and expert.
inline constexpr int kStableBlock = 256;
struct StableScratch {
  std::int32_t* block_counts = nullptr;  // [L x blocks]
  std::int64_t blocks = 0;
};
StableScratch carve_stable_scratch(Carver& c, const ExpertIndex& ix);
void build_expert_index_stable(const RecvView& recv, const ExpertIndex& ix, const StableScratch& scratch,
                               int tile_m, cudaStream_t stream);

// Device helper: which expert owns m-tile `tile` (binary search), or -1 past the last tile.
__device__ __forceinline__ int expert_of_tile(const std::int32_t* tile_offsets, int experts, int tile) {
  if (tile >= tile_offsets[experts]) return -1;
  int lo = 0, hi = experts - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (tile_offsets[mid] <= tile)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

}  // namespace occult::kernels::detail
