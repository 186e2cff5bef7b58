#include <algorithm>

#include "sim/core/error.hpp"
#include "sim/core/model.hpp"

namespace occult {
namespace {
// Published Hugging Face configurations (config.json of each release). L counts MoE layers only:
// DeepSeek models replace their first layers with dense FFNs (first_k_dense_replace).
const std::vector<ModelConfig>& presets() {
  static const std::vector<ModelConfig> kPresets = {
      {"olmoe-1b-7b", 64, 8, 2048, 1024, 0, 0, 16, 2},
      {"qwen1.5-moe-a2.7b", 60, 4, 2048, 1408, 4, 1408, 24, 2},
      {"deepseek-moe-16b", 64, 6, 2048, 1408, 2, 1408, 27, 2},
      {"mixtral-8x7b", 8, 2, 4096, 14336, 0, 0, 32, 2},
      {"deepseek-v3", 256, 8, 7168, 2048, 1, 2048, 58, 2},
      {"qwen3-235b-a22b", 128, 8, 4096, 1536, 0, 0, 94, 2},
  };
  return kPresets;
}
}  // namespace

std::string model_preset_list() {
  std::string s;
  for (const auto& n : model_preset_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

const std::vector<std::string>& model_preset_names() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> n;
    for (const auto& p : presets()) n.push_back(p.name);
    return n;
  }();
  return kNames;
}

ModelConfig model_preset(const std::string& name) {
  auto it = std::find_if(presets().begin(), presets().end(), [&](const ModelConfig& m) { return m.name == name; });
  if (it == presets().end()) {
    std::string valid;
    for (const auto& n : model_preset_names()) valid += (valid.empty() ? "" : ", ") + n;
    throw InputError("", 0, "model", "unknown preset '" + name + "' (valid: " + valid + ")");
  }
  return *it;
}

void validate_model(const ModelConfig& m, const std::string& where) {
  auto need = [&](bool ok, const char* field, const std::string& msg) {
    if (!ok) throw InputError(where, 0, field, msg);
  };
  need(m.experts > 0, "experts", "must be positive");
  need(m.top_k > 0 && m.top_k <= m.experts, "top_k", "must be in [1, experts]");
  need(m.hidden > 0, "hidden", "must be positive");
  need(m.ffn > 0, "ffn", "must be positive");
  need(m.layers > 0, "layers", "must be positive");
  need(m.shared_experts >= 0, "shared_experts", "must be >= 0");
  need(m.elem_bytes == 1 || m.elem_bytes == 2 || m.elem_bytes == 4, "elem_bytes", "must be 1, 2 or 4");
}

}  // namespace occult
