#pragma once
// Synthetic routing with controllable expert-load skew and co-activation clusters (docs/traces.md).
#include <cstdint>
#include <functional>
#include <string>

#include "sim/core/trace.hpp"

namespace occult {

struct TraceGenParams {
  int experts = 64;               // E
  int top_k = 8;                  // k; a token's k experts are always distinct
  std::int64_t tokens = 8192;     // tokens per layer
  int layers = 1;                 // layers 0 .. layers-1
  double skew = 0.0;              // Zipf exponent of expert popularity (0 = uniform), re-permuted per layer
  double affinity = 0.0;          // probability that each further expert comes from the first one's group
  int groups = 0;                 // co-activation groups per layer (random partition); 0 = max(1, E / k)
  double gate_temperature = 1.0;  // softmax temperature of the gate logits; lower = peakier weights
  std::uint64_t seed = 1;
  std::string model;  // recorded in the trace when the shape came from a preset

  int effective_groups() const {
    return groups > 0 ? groups : (top_k > 0 && experts / top_k > 1 ? experts / top_k : 1);
  }
};

// Throws InputError (field = the option name without dashes) on out-of-range parameters.
void validate_gen_params(const TraceGenParams& p);

// One layer, independent of the others: the same (params, layer) always gives the same routing, so
// callers may generate layers lazily or in parallel. O(tokens * k * log E), no per-token allocation.
LayerRouting generate_layer(const TraceGenParams& p, int layer);
// The same into a caller-owned buffer, reusing its capacity (for simulators that stream layers).
void generate_layer_into(const TraceGenParams& p, int layer, LayerRouting& out);

// All layers, with `source` describing the parameters (provenance); `on_layer(l)` (may be empty) runs
// after layer l is generated, for progress lines.
Trace generate_trace(const TraceGenParams& p, const std::function<void(int)>& on_layer = {});

// "gen experts=64 top_k=8 ..." as stored in Trace::source.
std::string describe_gen_params(const TraceGenParams& p);

}  // namespace occult
