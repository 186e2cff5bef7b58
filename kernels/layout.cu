// Layout of one source device's send buffer: per token and destination device, how many rows
// (standard: one per choice, occult: one per device), then per-destination offsets in token order.
#include <cub/block/block_scan.cuh>

#include "kernels/cuda_check.cuh"
#include "sim/core/error.hpp"

namespace occult::kernels {
namespace {

// Per token: rows to each destination (cnt[t*D + d]) and each choice's rank among the token's
// rows to that device (kept in pair_row until the offsets are known).
__global__ void count_rows(DispatchMode mode, RoutingView r, PlacementView p, std::int32_t* cnt, Layout out) {
  const std::int64_t t = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= r.tokens) return;
  const int k = r.top_k;
  const std::int32_t* ex = r.experts + t * k;
  std::int32_t* c = cnt + t * p.devices;
  for (int d = 0; d < p.devices; ++d) c[d] = 0;
  for (int j = 0; j < k; ++j) {
    const int e = ex[j];
    const std::int64_t q = t * k + j;
    if (e < 0 || e >= p.num_experts) {  // dropped choice (pruning) or bad id: no row
      out.pair_row[q] = -1;
      out.pair_slot[q] = -1;
      continue;
    }
    const int d = p.device_of[e];
    int same = 0;
    for (int i = 0; i < j; ++i)
      if (ex[i] >= 0 && ex[i] < p.num_experts && p.device_of[ex[i]] == d) ++same;
    if (mode == DispatchMode::Occult) {
      out.pair_row[q] = 0;  // the token's single row to d
      out.pair_slot[q] = same;
      if (same == 0) c[d] = 1;
    } else {
      out.pair_row[q] = same;
      out.pair_slot[q] = 0;
      ++c[d];
    }
  }
}

// One block per destination: exclusive scan of its column over tokens (deterministic token order).
constexpr int kScanThreads = 256;
__global__ void scan_columns(std::int32_t* cnt, std::int64_t tokens, int devices, std::int32_t* send_counts) {
  using Scan = cub::BlockScan<std::int32_t, kScanThreads>;
  __shared__ typename Scan::TempStorage tmp;
  __shared__ std::int32_t carry;
  const int d = blockIdx.x;
  if (threadIdx.x == 0) carry = 0;
  __syncthreads();
  for (std::int64_t base = 0; base < tokens; base += kScanThreads) {
    const std::int64_t t = base + threadIdx.x;
    const std::int32_t v = t < tokens ? cnt[t * devices + d] : 0;
    std::int32_t excl = 0, total = 0;
    Scan(tmp).ExclusiveSum(v, excl, total);
    if (t < tokens) cnt[t * devices + d] = carry + excl;
    __syncthreads();
    if (threadIdx.x == 0) carry += total;
    __syncthreads();
  }
  if (threadIdx.x == 0) send_counts[d] = carry;
}

__global__ void scan_offsets(const std::int32_t* send_counts, int devices, std::int32_t* send_offsets) {
  if (threadIdx.x != 0) return;
  std::int32_t acc = 0;
  for (int d = 0; d < devices; ++d) {
    send_offsets[d] = acc;
    acc += send_counts[d];
  }
  send_offsets[devices] = acc;
}

__global__ void place_rows(RoutingView r, PlacementView p, const std::int32_t* base, Layout out) {
  const std::int64_t q = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (q >= r.tokens * r.top_k) return;
  if (out.pair_row[q] < 0) return;
  const std::int64_t t = q / r.top_k;
  const int d = p.device_of[r.experts[q]];
  const std::int32_t row = out.send_offsets[d] + base[t * p.devices + d] + out.pair_row[q];
  out.pair_row[q] = row;
  if (out.pair_slot[q] == 0) out.row_token[row] = std::int32_t(t);
}

}  // namespace

std::size_t layout_workspace_bytes(std::int64_t tokens, int devices) {
  return detail::align_up(std::size_t(std::max<std::int64_t>(tokens, 1)) * std::size_t(devices) *
                          sizeof(std::int32_t));
}

void compute_layout(DispatchMode mode, const RoutingView& routing, const PlacementView& placement,
                    const Layout& out, void* workspace, cudaStream_t stream) {
  if (routing.tokens < 0) throw InputError("", 0, "tokens", "must be >= 0");
  if (routing.top_k < 1 || routing.top_k > kMaxTopK)
    throw InputError("", 0, "top_k", "must be in [1, " + std::to_string(kMaxTopK) + "]");
  if (placement.devices < 1 || placement.devices > kMaxDevices)
    throw InputError("", 0, "devices", "must be in [1, " + std::to_string(kMaxDevices) + "]");
  if (routing.tokens * routing.top_k >= (std::int64_t(1) << 31))
    throw InputError("", 0, "tokens", "tokens * top_k must fit in int32");
  auto* cnt = static_cast<std::int32_t*>(workspace);
  const int threads = 256;
  if (routing.tokens > 0) {
    count_rows<<<detail::blocks_for(routing.tokens, threads), threads, 0, stream>>>(mode, routing, placement,
                                                                                    cnt, out);
    OCCULT_LAUNCHED("count_rows");
  }
  scan_columns<<<unsigned(placement.devices), kScanThreads, 0, stream>>>(cnt, routing.tokens,
                                                                         placement.devices, out.send_counts);
  OCCULT_LAUNCHED("scan_columns");
  scan_offsets<<<1, 32, 0, stream>>>(out.send_counts, placement.devices, out.send_offsets);
  OCCULT_LAUNCHED("scan_offsets");
  if (routing.tokens > 0) {
    place_rows<<<detail::blocks_for(routing.tokens * routing.top_k, threads), threads, 0, stream>>>(
        routing, placement, cnt, out);
    OCCULT_LAUNCHED("place_rows");
  }
}

}  // namespace occult::kernels
