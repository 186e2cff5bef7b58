#pragma once
// Checks one rank's layer outputs: every element written (outputs were poisoned with NaN), and sample
// tokens against the fp32 CPU reference of kernels/ref (recomputed from the synthetic seed).
#include <cstdint>
#include <vector>

#include "backend/moe_layer.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/trace.hpp"

namespace occult::gpu {

struct LayerOutputs {
  std::vector<std::uint16_t> y, dx;  // bf16 bits, [tokens x hidden]
  std::vector<float> d_weights;      // [tokens x k]
};

struct CheckResult {
  std::int64_t unwritten = 0;  // NaN elements left in the outputs
  std::int64_t checked_tokens = 0;
  double y_err = 0, dx_err = 0, dw_err = 0;  // relative Frobenius error against the reference
  double worst() const;
};

LayerOutputs read_outputs(const MoeLayerRank& layer);

// `samples` tokens spread over the rank's block. With comm_only the expected output is exact in
// closed form: each token gets back the sum of its distinct rows, i.e. c_t * x_t with c_t = k
// (standard) or |Dev_t| (occult).
CheckResult check_layer(const MoeLayerRank& layer, const LayerOutputs& out, const LayerRouting& routing,
                        const LayerPlacement& placement, int samples);

// ||a - b|| / ||b|| over bf16 arrays.
double rel_error_bf16(const std::vector<std::uint16_t>& a, const std::vector<std::uint16_t>& b);

}  // namespace occult::gpu
