// Custom models from TOML, e.g.
//   name = "my-moe"
//   experts = 128
//   top_k = 8
//   hidden = 4096
//   ffn = 1536
//   layers = 48
// Optional: shared_experts, shared_ffn, elem_bytes, and preset = "deepseek-v3" to start from a preset.
#include <toml++/toml.h>

#include <limits>
#include <map>

#include "sim/core/error.hpp"
#include "sim/core/model.hpp"
#include "sim/core/toml_text.hpp"

namespace occult {
namespace {

long line_of(const toml::node& n) { return long(n.source().begin.line); }

}  // namespace

ModelConfig load_model_file(const std::string& path) {
  const toml::table doc = parse_toml_file(path, "model file");
  ModelConfig m;
  std::map<std::string, long> lines;
  if (const auto* preset = doc.get("preset")) {
    const auto name = preset->value<std::string>();
    if (!name) throw InputError(path, line_of(*preset), "preset", "must be a string");
    try {
      m = model_preset(*name);
    } catch (const InputError& e) {
      throw InputError(path, line_of(*preset), "preset", e.message());
    }
  }
  const std::map<std::string, int ModelConfig::*> ints = {
      {"experts", &ModelConfig::experts},
      {"top_k", &ModelConfig::top_k},
      {"hidden", &ModelConfig::hidden},
      {"ffn", &ModelConfig::ffn},
      {"shared_experts", &ModelConfig::shared_experts},
      {"shared_ffn", &ModelConfig::shared_ffn},
      {"layers", &ModelConfig::layers},
      {"elem_bytes", &ModelConfig::elem_bytes},
  };
  for (const auto& [key, node] : doc) {
    const std::string k(key.str());
    const long line = line_of(node);
    lines[k] = line;
    if (k == "preset") continue;
    if (k == "name") {
      auto v = node.value<std::string>();
      if (!v || v->empty()) throw InputError(path, line, k, "must be a non-empty string");
      m.name = *v;
      continue;
    }
    auto it = ints.find(k);
    if (it == ints.end()) {
      std::string valid = "name, preset";
      for (const auto& [name, member] : ints) valid += ", " + name;
      throw InputError(path, line, k, "unknown field (valid: " + valid + ")");
    }
    const auto* v = node.as_integer();
    if (!v) throw InputError(path, line, k, "must be an integer");
    const std::int64_t x = v->get();
    if (x < std::numeric_limits<int>::min() || x > std::numeric_limits<int>::max())
      throw InputError(path, line, k, "value " + std::to_string(x) + " out of range");
    m.*(it->second) = int(x);
  }
  if (m.name.empty()) throw InputError(path, 0, "name", "missing (every model needs a name)");
  try {
    validate_model(m, path);
  } catch (const InputError& e) {
    // Point at the offending line when the field was in the file (not inherited from a preset).
    auto at = lines.find(e.field());
    throw InputError(path, at == lines.end() ? 0 : at->second, e.field(),
                     e.message() + (at == lines.end() ? " (field missing?)" : ""));
  }
  return m;
}

}  // namespace occult
