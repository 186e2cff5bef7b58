#pragma once
// MoE model configurations: the published presets and custom models from a TOML file.
#include <cstdint>
#include <string>
#include <vector>

namespace occult {

struct ModelConfig {
  std::string name;
  int experts = 0;        // routed experts per MoE layer (E)
  int top_k = 0;          // experts chosen per token (k)
  int hidden = 0;         // model hidden size (h)
  int ffn = 0;            // routed expert FFN size (f); SwiGLU: gate/up h x f, down f x h
  int shared_experts = 0; // always-active shared experts (computed locally, never dispatched)
  int shared_ffn = 0;     // FFN size of one shared expert
  int layers = 0;         // MoE layers (L)
  int elem_bytes = 2;     // activation element size (bf16)

  std::int64_t row_bytes() const { return std::int64_t(hidden) * elem_bytes; }
  // Forward FLOPs of one (token, expert) pair: three h x f GEMMs, 2 FLOPs per MAC.
  double flops_per_pair_fwd() const { return 2.0 * 3.0 * double(hidden) * double(ffn); }
};

// Names accepted by model_preset(), in a stable order for --help and errors.
const std::vector<std::string>& model_preset_names();
// The same, comma-separated, for --help texts.
std::string model_preset_list();
// Throws InputError naming the valid presets when `name` is unknown.
ModelConfig model_preset(const std::string& name);
// Checks ranges (k <= E, sizes > 0); throws InputError with `where` as file context.
void validate_model(const ModelConfig& m, const std::string& where);
// A custom model from a TOML file (fields as in ModelConfig; `preset = "name"` starts from a preset);
// throws InputError with the line and field at fault. Format: docs/traces.md.
ModelConfig load_model_file(const std::string& path);
// What a --model option names: a TOML model file (a path ending in .toml or naming an existing file),
// else a preset.
ModelConfig resolve_model(const std::string& spec);

}  // namespace occult
