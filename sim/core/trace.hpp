#pragma once
// Routing traces: per MoE layer, the top-k expert ids and gate weights of every token.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace occult {

struct LayerRouting {
  int layer = 0;                      // model layer index, as logged
  int top_k = 0;                      // k
  std::vector<std::int32_t> experts;  // [tokens x k], row-major
  std::vector<float> weights;         // [tokens x k]; empty means uniform 1/k

  std::int64_t tokens() const { return top_k > 0 ? std::int64_t(experts.size()) / top_k : 0; }
  std::span<const std::int32_t> token_experts(std::int64_t t) const {
    return {experts.data() + t * top_k, std::size_t(top_k)};
  }
  float weight(std::int64_t t, int j) const {
    return weights.empty() ? 1.0f / float(top_k) : weights[std::size_t(t * top_k + j)];
  }
};

struct Trace {
  int num_experts = 0;  // E
  int top_k = 0;        // k
  std::string model;    // preset name when known, else empty
  std::string source;   // provenance: importer input or generator parameters
  std::vector<LayerRouting> layers;

  std::int64_t tokens_per_layer() const { return layers.empty() ? 0 : layers.front().tokens(); }
};

// Checks ids in [0, E), k consistent across layers, weights sized like ids, no NaN weights.
// Throws InputError with `where` as the file context.
void validate_trace(const Trace& trace, const std::string& where);

// The project's own trace format (docs/formats/trace.md): reading validates; errors are InputError.
Trace read_trace(const std::string& path);
void write_trace(const Trace& trace, const std::string& path);

// Tokens are assigned to source devices in contiguous blocks of (nearly) equal size (docs/design.md 3).
inline int source_device(std::int64_t token, std::int64_t tokens, int devices) {
  return int((token * devices) / tokens);
}

}  // namespace occult
