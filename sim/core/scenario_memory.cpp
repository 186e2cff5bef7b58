#include "sim/core/scenario_memory.hpp"

#include <filesystem>
#include <vector>

#include "sim/core/memory_budget.hpp"

namespace occult {
namespace {

// Fitted constants (bytes), from the peak resident memory of `occult simulate` (the process and its
// forked jobs together) on scenarios/default.toml with synthetic routing, 8 to 8,192 GPUs, expert-parallel
// groups of 8 to 64 GPUs, 4,096 to 262,144 tokens per GPU (docs/guarantees.md), rounded up: the process
// itself; each simulated GPU (its SimGrid host and links, per-device vectors); each (source,
// destination) pair of an expert-parallel group, in every strategy's plan (block-diagonal row matrices,
// up to two stages) and in the engine's flows (one strategy is simulated at a time); each routed (token,
// expert) choice of the group being planned (ids, weights, copies). The engine's part assumes the
// cluster is simulated whole: when the engine splits it into independent blocks (docs/simulator.md) it
// needs less, so the estimate errs high for such clusters (1.7 GiB for scenarios/scale/dsv3-ep16384.toml,
// which peaks at a quarter of a GiB).
constexpr std::uint64_t kBase = std::uint64_t(64) << 20;
constexpr std::uint64_t kPerDevice = 16 << 10;
constexpr std::uint64_t kPerPairPlan = 16;
constexpr std::uint64_t kPerPairEngine = 256;
constexpr std::uint64_t kPerChoice = 12;
constexpr std::int64_t kMaxProfileTokens = std::int64_t(1) << 18;  // as in scenario_layer.cpp

bool places_from_coactivation(const std::string& placement) {
  return placement != "contiguous" && placement != "round-robin" && !placement.ends_with(".json");
}

}  // namespace

MemoryEstimate estimate_scenario_memory(const Scenario& s) {
  const auto D = std::uint64_t(s.devices), ep = std::uint64_t(s.ep_size), E = std::uint64_t(s.model.experts);
  const auto k = std::uint64_t(s.model.top_k), T = std::uint64_t(s.tokens_per_device);
  std::uint64_t pruned = 0;
  for (const auto& st : s.strategies) pruned += st.pruned() ? 1 : 0;
  bool coactivation = false;
  for (const auto& p : s.placements) coactivation = coactivation || places_from_coactivation(p);

  struct Part {
    std::uint64_t bytes;
    const char* key;
    std::string detail;
  };
  // One expert-parallel group's routing is held at a time (with its profiling tokens), plus a pruned
  // copy per pruned strategy.
  const std::uint64_t group_tokens = sat_mul(T, ep);
  const std::uint64_t profile = std::min<std::uint64_t>(group_tokens, kMaxProfileTokens);
  const std::vector<Part> parts = {
      {sat_mul(D, kPerDevice), "cluster.nodes", std::to_string(D) + " simulated GPUs"},
      {sat_product(D, ep, sat_add(sat_mul(kPerPairPlan, s.strategies.size()), kPerPairEngine)),
       "cluster.ep_size", std::to_string(D) + " GPUs x " + std::to_string(ep) + " per expert-parallel group"},
      {sat_product(sat_add(sat_mul(group_tokens, 2 + pruned), profile), k, kPerChoice),
       "workload.tokens_per_device",
       std::to_string(T) + " tokens per GPU x " + std::to_string(ep) + " GPUs per group x top-" +
           std::to_string(k)},
      {coactivation ? sat_product(E, E, 3 * 8) : 0, "model.experts",
       "the co-activation graph of " + std::to_string(E) + " experts"},
  };
  MemoryEstimate e;
  e.bytes = kBase;
  const Part* largest = &parts.front();
  for (const auto& p : parts) {
    e.bytes = sat_add(e.bytes, p.bytes);
    if (p.bytes > largest->bytes) largest = &p;
  }
  if (!s.trace_path.empty()) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(s.trace_path, ec);
    if (!ec) e.bytes = sat_add(e.bytes, size);
  }
  e.key = largest->key;
  e.detail = largest->detail;
  return e;
}

}  // namespace occult
