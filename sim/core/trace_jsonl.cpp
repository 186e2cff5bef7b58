// JSONL routing logs: one JSON object per line (DESIGN.md 4). Accepted field names:
//   layer; topk_ids or experts; topk_weights or gating_probs (optional).
// Lines with a "type" other than "route" (the vLLM logger's "meta" header, ...) are skipped.
#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "sim/core/error.hpp"
#include "sim/core/memory_budget.hpp"
#include "sim/core/trace_import_collector.hpp"

namespace occult::detail {
namespace {

using nlohmann::json;

const json* field(const json& rec, const char* a, const char* b) {
  if (auto it = rec.find(a); it != rec.end()) return &*it;
  if (auto it = rec.find(b); it != rec.end()) return &*it;
  return nullptr;
}

// Integer-valued JSON number in [lo, hi] (3.0 or "3" are not ids).
bool as_int(const json& v, std::int64_t lo, std::int64_t hi, std::int64_t& out) {
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (u > std::uint64_t(std::numeric_limits<std::int64_t>::max())) return false;
    out = std::int64_t(u);
  } else if (v.is_number_integer()) {
    out = v.get<std::int64_t>();
  } else {
    return false;
  }
  return out >= lo && out <= hi;
}

}  // namespace

void read_jsonl(InputFile& in, RoutingCollector& sink) {
  // A record of 1,024 ids and weights is under 40 KiB; a longer line is not a routing log (/dev/zero).
  const std::size_t max_line = std::size_t(std::clamp<std::uint64_t>(memory_limit() / 16, 1 << 20, 1 << 26));
  std::string text;
  std::vector<std::int64_t> ids;
  std::vector<double> weights;
  constexpr auto kInt64Min = std::numeric_limits<std::int64_t>::min();
  constexpr auto kInt64Max = std::numeric_limits<std::int64_t>::max();
  long line = 0;
  std::uint64_t ids_read = 0, next_check = 1u << 20;
  while (in.read_line(text, max_line, line + 1)) {
    ++line;
    if (text.find_first_not_of(" \t") == std::string::npos) continue;
    const json rec = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (rec.is_discarded() || !rec.is_object()) {
      sink.bad(line, "", "not a JSON object");
      continue;
    }
    if (auto type = rec.find("type"); type != rec.end()) {
      if (!type->is_string()) {
        sink.bad(line, "type", "must be a string");
        continue;
      }
      if (type->get_ref<const std::string&>() != "route") {
        sink.typed_skipped();
        continue;
      }
    }
    auto layer = rec.find("layer");
    std::int64_t layer_index = 0;
    if (layer == rec.end()) {
      sink.bad(line, "layer", "missing");
      continue;
    }
    if (!as_int(*layer, 0, 1'000'000, layer_index)) {
      sink.bad(line, "layer", "must be an integer in [0, 1000000], got " + layer->dump());
      continue;
    }
    const json* id_list = field(rec, "topk_ids", "experts");
    if (!id_list) {
      sink.bad(line, "topk_ids", "missing (neither topk_ids nor experts)");
      continue;
    }
    if (!id_list->is_array()) {
      sink.bad(line, "topk_ids", "must be an array of integers");
      continue;
    }
    ids.clear();
    bool ok = true;
    for (std::size_t j = 0; j < id_list->size() && ok; ++j) {
      std::int64_t v = 0;
      ok = as_int((*id_list)[j], kInt64Min, kInt64Max, v);
      if (!ok)
        sink.bad(line, "topk_ids[" + std::to_string(j) + "]", "not an integer: " + (*id_list)[j].dump());
      ids.push_back(v);
    }
    if (!ok) continue;
    weights.clear();
    if (const json* w = field(rec, "topk_weights", "gating_probs"); w && !w->is_null()) {
      if (!w->is_array()) {
        sink.bad(line, "topk_weights", "must be an array of numbers");
        continue;
      }
      for (std::size_t j = 0; j < w->size() && ok; ++j) {
        ok = (*w)[j].is_number();
        if (!ok) sink.bad(line, "topk_weights[" + std::to_string(j) + "]", "not a number: " + (*w)[j].dump());
        weights.push_back(ok ? (*w)[j].get<double>() : 0.0);
      }
      if (!ok) continue;
    }
    PassMark mark;
    std::int64_t v = 0;
    if (auto p = rec.find("pass"); p != rec.end()) {
      if (!as_int(*p, kInt64Min, kInt64Max, v)) {
        sink.bad(line, "pass", "must be an integer, got " + p->dump());
        continue;
      }
      mark.pass = v;
    }
    if (auto t = rec.find("token_idx"); t != rec.end() && as_int(*t, kInt64Min, kInt64Max, v))
      mark.token_idx = v;
    sink.add(int(layer_index), ids, weights, line, mark);
    // A log streams in without a size: check what its records take as they arrive (ids and weights,
    // 8 bytes per id), every million ids.
    ids_read += ids.size();
    if (ids_read >= next_check) {
      check_memory(sat_mul(ids_read, 8), "the routing records read so far from " + in.name(), in.name(),
                   line);
      next_check = ids_read + (1u << 20);
    }
  }
}

}  // namespace occult::detail
