// Moving rows between token order and send-buffer order: pack (dispatch, and the combine backward)
// and unpack-reduce (combine, and the dispatch backward). Memory-bound: 16-byte accesses.
#include "kernels/cuda_check.cuh"
#include "sim/core/error.hpp"

namespace occult::kernels {
namespace {

constexpr int kRowThreads = 128;

// One block per token: copy x[t] into each of its distinct rows (choices with slot 0 own a row).
__global__ void pack_kernel(const uint4* x, int chunks, int top_k, const std::int32_t* pair_row,
                            const std::int32_t* pair_slot, uint4* rows) {
  const std::int64_t t = blockIdx.x;
  const uint4* src = x + t * chunks;
  for (int j = 0; j < top_k; ++j) {
    const std::int64_t q = t * top_k + j;
    const std::int32_t row = pair_row[q];
    if (row < 0 || pair_slot[q] != 0) continue;
    uint4* dst = rows + std::int64_t(row) * chunks;
    for (int c = threadIdx.x; c < chunks; c += blockDim.x) dst[c] = src[c];
  }
}

// Receiver metadata: per row, the local experts reading it and their gate weights (-1/0 unused).
__global__ void pack_meta_kernel(RoutingView r, PlacementView p, Layout l, int slots, std::int32_t* expert,
                                 float* weight) {
  const std::int64_t t = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= r.tokens) return;
  for (int j = 0; j < r.top_k; ++j) {  // clear the slots of the token's rows first
    const std::int64_t q = t * r.top_k + j;
    if (l.pair_row[q] < 0 || l.pair_slot[q] != 0) continue;
    for (int s = 0; s < slots; ++s) {
      expert[std::int64_t(l.pair_row[q]) * slots + s] = -1;
      weight[std::int64_t(l.pair_row[q]) * slots + s] = 0.0f;
    }
  }
  for (int j = 0; j < r.top_k; ++j) {
    const std::int64_t q = t * r.top_k + j;
    if (l.pair_row[q] < 0) continue;
    const std::int64_t m = std::int64_t(l.pair_row[q]) * slots + l.pair_slot[q];
    expert[m] = p.local_index[r.experts[q]];
    weight[m] = r.weights[q];
  }
}

// One block per token: sum its distinct returned rows in fp32; zero when it has none.
__global__ void unpack_kernel(const uint4* back, int chunks, int top_k, const std::int32_t* pair_row,
                              const std::int32_t* pair_slot, uint4* out) {
  const std::int64_t t = blockIdx.x;
  for (int c = threadIdx.x; c < chunks; c += blockDim.x) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int j = 0; j < top_k; ++j) {
      const std::int64_t q = t * top_k + j;
      const std::int32_t row = pair_row[q];
      if (row < 0 || pair_slot[q] != 0) continue;
      const uint4 v = back[std::int64_t(row) * chunks + c];
      const auto* h = reinterpret_cast<const __nv_bfloat162*>(&v);
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const float2 f = __bfloat1622float2(h[i]);
        acc[2 * i] += f.x;
        acc[2 * i + 1] += f.y;
      }
    }
    uint4 o;
    auto* oh = reinterpret_cast<__nv_bfloat162*>(&o);
#pragma unroll
    for (int i = 0; i < 4; ++i) oh[i] = __floats2bfloat162_rn(acc[2 * i], acc[2 * i + 1]);
    out[t * chunks + c] = o;
  }
}

__global__ void unpack_dw_kernel(const float* back_dw, int slots, std::int64_t pairs,
                                 const std::int32_t* pair_row, const std::int32_t* pair_slot,
                                 float* d_weights) {
  const std::int64_t q = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (q >= pairs) return;
  d_weights[q] = pair_row[q] < 0 ? 0.0f : back_dw[std::int64_t(pair_row[q]) * slots + pair_slot[q]];
}

void check_hidden(int hidden) {
  if (hidden < 8 || hidden % 8 != 0) throw InputError("", 0, "hidden", "must be a positive multiple of 8");
}

}  // namespace

void pack_rows_only(const Bf16* x, int hidden, const RoutingView& routing, const Layout& layout, Bf16* rows,
                    cudaStream_t stream) {
  check_hidden(hidden);
  if (routing.tokens == 0) return;
  pack_kernel<<<unsigned(routing.tokens), kRowThreads, 0, stream>>>(
      reinterpret_cast<const uint4*>(x), hidden / 8, routing.top_k, layout.pair_row, layout.pair_slot,
      reinterpret_cast<uint4*>(rows));
  OCCULT_LAUNCHED("pack_kernel");
}

void pack_rows(DispatchMode mode, const Bf16* x, int hidden, const RoutingView& routing,
               const PlacementView& placement, const Layout& layout, const SendBuffers& out,
               cudaStream_t stream) {
  pack_rows_only(x, hidden, routing, layout, out.rows, stream);
  if (routing.tokens == 0) return;
  pack_meta_kernel<<<detail::blocks_for(routing.tokens, 256), 256, 0, stream>>>(
      routing, placement, layout, meta_slots(mode, routing.top_k), out.expert, out.weight);
  OCCULT_LAUNCHED("pack_meta_kernel");
}

void unpack_reduce(const Bf16* back, int hidden, std::int64_t tokens, int top_k, const Layout& layout,
                   Bf16* out, cudaStream_t stream) {
  check_hidden(hidden);
  if (tokens == 0) return;
  unpack_kernel<<<unsigned(tokens), kRowThreads, 0, stream>>>(
      reinterpret_cast<const uint4*>(back), hidden / 8, top_k, layout.pair_row, layout.pair_slot,
      reinterpret_cast<uint4*>(out));
  OCCULT_LAUNCHED("unpack_kernel");
}

void unpack_weight_grad(const float* back_dw, int slots, std::int64_t tokens, int top_k, const Layout& layout,
                        float* d_weights, cudaStream_t stream) {
  const std::int64_t pairs = tokens * top_k;
  if (pairs == 0) return;
  unpack_dw_kernel<<<detail::blocks_for(pairs, 256), 256, 0, stream>>>(back_dw, slots, pairs, layout.pair_row,
                                                                       layout.pair_slot, d_weights);
  OCCULT_LAUNCHED("unpack_dw_kernel");
}

}  // namespace occult::kernels
