#pragma once
// GPU kernels of one MoE layer (docs/design.md 6), callable from plain C++: every pointer is a device
// pointer, every call is asynchronous on `stream`, nothing here allocates.
//
// Data flow on each device (forward):
//   compute_layout -> pack_rows -> [all-to-all-v of rows + metadata] -> expert_ffn_forward
//   -> [all-to-all-v back, same counts transposed] -> unpack_reduce
// Training reuses the same kernels: the backward of dispatch is a combine (unpack_reduce of the
// returned input gradients) and the backward of combine is a dispatch (pack_rows of the output
// gradient); expert_ffn_backward gives the input, weight and gate-weight gradients.
//
// Conventions:
// - bf16 tensors are raw bfloat16 bits (Bf16 = uint16_t) so that this header needs no CUDA types.
// - Routing of the local (source) tokens: experts[t*k + j] is the global expert id of choice j of
//   token t, weights[t*k + j] its gate weight.
// - Standard mode: one send row per (token, choice). Occult mode: one send row per (token,
//   destination device); all the token's experts on that device read that one row.
// - Send rows are ordered by destination device, then by token, then by choice (standard) or by
//   the first choice that reaches the device (occult). Counts per destination equal build_plan's
//   PairMatrix row of this source device (sim/core/plan.hpp).
// - Gate weights are applied on the expert side in both modes, so unpack_reduce is a plain sum.
// - Errors: host-side argument errors throw occult::InputError; CUDA failures (launch errors,
//   bad pointers) throw occult::kernels::CudaError with the call and CUDA's message.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <cuda_runtime_api.h>

namespace occult::kernels {

using Bf16 = std::uint16_t;

class CudaError : public std::runtime_error {
 public:
  explicit CudaError(const std::string& what) : std::runtime_error(what) {}
};

enum class DispatchMode { Standard, Occult };

// Metadata slots per send row: 1 (standard) or top_k (occult).
inline int meta_slots(DispatchMode mode, int top_k) { return mode == DispatchMode::Standard ? 1 : top_k; }

// Largest top-k and device count the kernels accept (register arrays are sized by them).
inline constexpr int kMaxTopK = 16;
inline constexpr int kMaxDevices = 1024;

struct RoutingView {
  const std::int32_t* experts = nullptr;  // [tokens x top_k] global expert ids
  const float* weights = nullptr;         // [tokens x top_k] gate weights
  std::int64_t tokens = 0;
  int top_k = 0;
};

struct PlacementView {
  const std::int32_t* device_of = nullptr;    // [E] device holding each expert
  const std::int32_t* local_index = nullptr;  // [E] index of the expert among its device's experts
  int num_experts = 0;
  int devices = 0;
};

// Output of compute_layout, caller-allocated.
struct Layout {
  std::int32_t* send_counts = nullptr;   // [devices] rows sent to each destination
  std::int32_t* send_offsets = nullptr;  // [devices + 1] exclusive prefix; [devices] = total rows
  std::int32_t* pair_row = nullptr;      // [tokens x top_k] send row read by each (token, choice)
  std::int32_t* pair_slot = nullptr;     // [tokens x top_k] metadata slot of the choice in that row
  std::int32_t* row_token = nullptr;     // [tokens x top_k] source token of each send row (first total)
};

// Scratch for compute_layout (per-token, per-destination counts).
std::size_t layout_workspace_bytes(std::int64_t tokens, int devices);

void compute_layout(DispatchMode mode, const RoutingView& routing, const PlacementView& placement,
                    const Layout& out, void* workspace, cudaStream_t stream);

// Send buffer of one device: rows (capacity tokens*top_k) plus the metadata the receiver needs.
struct SendBuffers {
  Bf16* rows = nullptr;            // [capacity x hidden]
  std::int32_t* expert = nullptr;  // [capacity x slots] local expert index on the destination, -1 unused
  float* weight = nullptr;         // [capacity x slots] gate weight, 0 in unused slots
};

// Copies x[t] into every send row of token t and fills the metadata. Rows beyond the total are not
// touched. `hidden` must be a multiple of 8 (16-byte rows).
void pack_rows(DispatchMode mode, const Bf16* x, int hidden, const RoutingView& routing,
               const PlacementView& placement, const Layout& layout, const SendBuffers& out,
               cudaStream_t stream);

// Plain row pack without metadata: the combine backward (dispatch of the output gradient dy).
void pack_rows_only(const Bf16* x, int hidden, const RoutingView& routing, const Layout& layout, Bf16* rows,
                    cudaStream_t stream);

// Local experts of one device, nn.Linear layout (out x in): y = x W^T.
struct ExpertWeights {
  const Bf16* gate = nullptr;  // [local_experts x ffn x hidden]
  const Bf16* up = nullptr;    // [local_experts x ffn x hidden]
  const Bf16* down = nullptr;  // [local_experts x hidden x ffn]
  int local_experts = 0;
  int hidden = 0;  // multiple of 64
  int ffn = 0;     // multiple of 64
};

// Received rows and their metadata (concatenated over source devices in rank order).
struct RecvView {
  const Bf16* rows = nullptr;            // [rows x hidden]
  const std::int32_t* expert = nullptr;  // [rows x slots] local expert, -1 unused
  const float* weight = nullptr;         // [rows x slots]
  std::int64_t num_rows = 0;
  int slots = 1;
};

// out[r] = sum over the row's slots s of weight[r,s] * down_e(silu(gate_e x_r) * up_e x_r), with
// e = expert[r,s]: gather by index, SwiGLU, gate-weighted scatter-add into one row per received
// row (the pre-reduction); fp32 accumulation, every out row written (zero if a row has no expert).
std::size_t expert_ffn_workspace_bytes(const RecvView& recv, const ExpertWeights& w);
void expert_ffn_forward(const RecvView& recv, const ExpertWeights& w, Bf16* out, void* workspace,
                        cudaStream_t stream);

// Gradients of expert_ffn_forward given d_out [rows x hidden]: d_rows [rows x hidden] (the
// pre-reduced input gradient, sent back by the dispatch backward), d_weight [rows x slots] (gate
// weight gradient, 0 in unused slots) and fp32 weight gradients (overwritten, same shapes as the
// weights). Recomputes the gate/up activations instead of storing them. Runs on tensor cores, on the
// path kernels/expert_ffn_backward.hpp names (default_backward_path; paths and a handle-taking
// overload there): the cuBLAS paths synchronise `stream` once (cuBLAS needs the per-expert counts on
// the host) and keep one cuBLAS handle and a few side streams per calling thread and device; the
// fused path does neither.
struct ExpertGrads {
  Bf16* d_rows = nullptr;
  float* d_weight = nullptr;
  float* d_gate = nullptr;
  float* d_up = nullptr;
  float* d_down = nullptr;
};
std::size_t expert_ffn_backward_workspace_bytes(const RecvView& recv, const ExpertWeights& w);
void expert_ffn_backward(const RecvView& recv, const ExpertWeights& w, const Bf16* d_out,
                         const ExpertGrads& grads, void* workspace, cudaStream_t stream);

// Combine: out[t] = sum of the distinct rows back[pair_row[t, j]] (already gate-weighted).
// Also the dispatch backward (returned input gradients). Every out row is written.
void unpack_reduce(const Bf16* back, int hidden, std::int64_t tokens, int top_k, const Layout& layout,
                   Bf16* out, cudaStream_t stream);

// Gate-weight gradients back in source order: d_weights[t*k+j] = back_dw[pair_row*slots + pair_slot].
void unpack_weight_grad(const float* back_dw, int slots, std::int64_t tokens, int top_k, const Layout& layout,
                        float* d_weights, cudaStream_t stream);

}  // namespace occult::kernels
