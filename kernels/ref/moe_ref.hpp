#pragma once
// fp32 CPU references of the GPU kernels in kernels/moe_kernels.hpp: the test oracle. One readable
// loop nest per operation, same conventions as the kernels (row order, metadata slots, expert ids
// < 0 mean a dropped choice), so the GPU results can be compared element by element.
#include <cstdint>
#include <vector>

#include "sim/core/strategy.hpp"

namespace occult::ref {

// bfloat16 bits <-> float (round to nearest even; NaN stays NaN).
std::uint16_t to_bf16(float f);
float from_bf16(std::uint16_t b);
// Rounds every value through bf16, so references see exactly the values the GPU sees.
std::vector<float> round_bf16(std::vector<float> v);

// Index of each expert among the experts of its device, in expert-id order.
std::vector<std::int32_t> local_index_of(const std::vector<std::int32_t>& device_of, int devices);

struct Routing {
  std::vector<std::int32_t> experts;  // [tokens x top_k], < 0: dropped choice
  std::vector<float> weights;         // [tokens x top_k]
  std::int64_t tokens = 0;
  int top_k = 0;
};

struct Layout {
  std::vector<std::int32_t> send_counts;   // [devices]
  std::vector<std::int32_t> send_offsets;  // [devices + 1]
  std::vector<std::int32_t> pair_row;      // [tokens x top_k], -1 for dropped choices
  std::vector<std::int32_t> pair_slot;     // [tokens x top_k], -1 for dropped choices
  std::vector<std::int32_t> row_token;     // [total rows]
  std::int32_t total_rows() const { return send_offsets.back(); }
};

// Standard: one row per (token, choice); occult: one row per (token, destination device).
// Rows are ordered by destination, then token, then choice (first choice reaching the device).
Layout layout(Strategy mode, const Routing& routing, const std::vector<std::int32_t>& device_of, int devices);

int meta_slots(Strategy mode, int top_k);

struct Packed {
  std::vector<float> rows;           // [total rows x hidden]
  std::vector<std::int32_t> expert;  // [total rows x slots] local expert index, -1 unused
  std::vector<float> weight;         // [total rows x slots]
  int slots = 1;
};
Packed pack(Strategy mode, const std::vector<float>& x, int hidden, const Routing& routing,
            const std::vector<std::int32_t>& local_index, const Layout& l);

// Local experts, nn.Linear layout: gate/up [L x f x h], down [L x h x f].
struct Experts {
  std::vector<float> gate, up, down;
  int local_experts = 0, hidden = 0, ffn = 0;
};

// out[r] = sum_s weight[r,s] * down(silu(gate x_r) * up x_r) for expert[r,s] >= 0.
std::vector<float> expert_ffn_forward(const Packed& recv, std::int64_t rows, const Experts& w);

struct ExpertGrads {
  std::vector<float> d_rows;    // [rows x h]
  std::vector<float> d_weight;  // [rows x slots]
  std::vector<float> d_gate, d_up, d_down;
};
ExpertGrads expert_ffn_backward(const Packed& recv, std::int64_t rows, const Experts& w,
                                const std::vector<float>& d_out);

// out[t] = sum of the distinct rows back[pair_row[t, j]].
std::vector<float> unpack_reduce(const std::vector<float>& back, int hidden, const Routing& routing,
                                 const Layout& l);

// The whole layer computed directly, without dispatch: y[t] = sum_j w_tj * FFN_{e_tj}(x_t), where
// the experts of all devices are given as one list indexed by global expert id.
std::vector<float> moe_layer(const std::vector<float>& x, int hidden, const Routing& routing,
                             const Experts& all);

// Relative Frobenius error ||a - b|| / ||b||.
double rel_frobenius(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace occult::ref
