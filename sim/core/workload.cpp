#include "sim/core/workload.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>

#include "sim/core/error.hpp"
#include "sim/core/json_reader.hpp"
#include "sim/core/trace_gen.hpp"

namespace occult {
namespace {

// Placement algorithms are profiled on at most this many tokens: enough for stable co-activation
// statistics, small enough to keep placement fast at thousands of GPUs.
constexpr std::int64_t kMaxProfileTokens = std::int64_t(1) << 18;

// Tokens [begin, end) of r into out, reusing out's buffers; indices past r's end wrap around (a trace
// shorter than the workload).
void take(const LayerRouting& r, std::int64_t begin, std::int64_t end, LayerRouting& out) {
  out.layer = r.layer;
  out.top_k = r.top_k;
  const std::int64_t n = r.tokens();
  const auto k = std::size_t(r.top_k);
  out.experts.resize(std::size_t(end - begin) * k);
  out.weights.resize(r.weights.empty() ? 0 : out.experts.size());
  for (std::int64_t t = begin; t < end; ++t) {
    const auto src = std::size_t(t % n) * k, dst = std::size_t(t - begin) * k;
    std::copy_n(r.experts.begin() + std::ptrdiff_t(src), k, out.experts.begin() + std::ptrdiff_t(dst));
    if (!r.weights.empty())
      std::copy_n(r.weights.begin() + std::ptrdiff_t(src), k, out.weights.begin() + std::ptrdiff_t(dst));
  }
}

}  // namespace

ClusterShape Workload::shape() const { return {devices, std::min(devices, gpus_per_node)}; }
ClusterShape Workload::group_shape() const { return {ep_size, std::min(ep_size, gpus_per_node)}; }

void workload_routing(const Workload& w, int layer, const Trace* trace, int group, WorkloadRouting& out) {
  const std::int64_t T = w.tokens_per_device * w.ep_size;
  const int routed = w.first_layer + layer;
  out.note.clear();
  out.profile = {};
  if (!trace) {
    TraceGenParams p;
    p.experts = w.model.experts;
    p.top_k = w.model.top_k;
    p.skew = w.synthetic.skew;
    p.affinity = w.synthetic.affinity;
    p.groups = w.synthetic.groups;
    // Every group draws its own tokens; group 0 uses the workload's seed as is.
    p.seed = w.seed + std::uint64_t(group) * 1000003ull;
    p.layers = routed + 1;
    if (group != 0) {
      p.tokens = T;
      generate_layer_into(p, routed, out.sim);
      return;
    }
    // The generator draws tokens one after another, so the first T are the same whatever follows.
    const std::int64_t P = std::min(T, kMaxProfileTokens);
    p.tokens = T + P;
    const LayerRouting all = generate_layer(p, routed);
    take(all, 0, T, out.sim);
    take(all, T, T + P, out.profile);
    return;
  }
  const LayerRouting& r = trace->layers.at(std::size_t(routed));
  const std::int64_t n = r.tokens(), total = T * (w.devices / w.ep_size);
  take(r, std::int64_t(group) * T, std::int64_t(group + 1) * T, out.sim);
  if (group != 0) return;
  if (n >= total + std::min<std::int64_t>(total, 1024)) {
    take(r, total, std::min(n, total + kMaxProfileTokens), out.profile);
  } else {
    // Not enough tokens for a separate profiling set: placements see the tokens they are judged on.
    take(r, 0, std::min(n, kMaxProfileTokens), out.profile);
    out.note = "trace layer " + std::to_string(routed) + " has " + std::to_string(n) + " tokens for " +
               std::to_string(total) + " needed" + (n < total ? " (reused cyclically)" : "") +
               "; placements were profiled on the same tokens (in-sample)";
  }
}

LayerPlacement workload_placement(const Workload& w, const std::string& name, const LayerRouting& profile,
                                  int layer, const PlacementAlgorithm& algo) {
  const ClusterShape shape = w.group_shape();
  const int E = w.model.experts;
  layer += w.first_layer;
  if (name == "contiguous") return contiguous_placement(E, shape, 1).layers[0];
  if (name == "round-robin") return round_robin_placement(E, shape, 1).layers[0];
  if (name.ends_with(".json")) {
    Placement p = read_placement(name);
    if (p.shape.devices != shape.devices || p.shape.gpus_per_node != shape.gpus_per_node)
      throw InputError(name, 0, "shape",
                       "placement is for " + std::to_string(p.shape.devices) + " devices (" +
                           std::to_string(p.shape.gpus_per_node) + " per node); the workload has " +
                           std::to_string(shape.devices) + " (" + std::to_string(shape.gpus_per_node) + ")");
    validate_placement(p, E, std::max(int(p.layers.size()), 1), name);
    if (p.layers.size() != 1 && std::size_t(layer) >= p.layers.size())
      throw InputError(name, 0, "layers",
                       "has " + std::to_string(p.layers.size()) + " layers; the workload runs layer " +
                           std::to_string(layer));
    return p.layer(std::size_t(layer));
  }
  if (!algo)
    throw InputError("", 0, "placement",
                     "'" + name +
                         "' needs the placement algorithms of the full build; give contiguous, round-robin "
                         "or a placement .json made with `occult place`");
  return algo(name, profile, E, w.model.top_k, shape, w.seed + std::uint64_t(layer));
}

std::string file_digest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "", "cannot read the file to check its digest");
  std::uint64_t h = 1469598103934665603ull;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      h ^= static_cast<unsigned char>(buf[i]);
      h *= 1099511628211ull;
    }
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

nlohmann::json workload_to_json(const Workload& w) {
  const ModelConfig& m = w.model;
  nlohmann::json strategies = nlohmann::json::array();
  for (const auto& s : w.strategies) strategies.push_back(s.name());
  nlohmann::json routing = {{"skew", w.synthetic.skew},
                            {"affinity", w.synthetic.affinity},
                            {"groups", w.synthetic.groups}};
  if (!w.trace_path.empty()) routing = {{"trace", w.trace_path}, {"digest", w.trace_digest}};
  return {{"model",
           {{"name", m.name},
            {"experts", m.experts},
            {"top_k", m.top_k},
            {"hidden", m.hidden},
            {"ffn", m.ffn},
            {"shared_experts", m.shared_experts},
            {"shared_ffn", m.shared_ffn},
            {"layers", m.layers},
            {"elem_bytes", m.elem_bytes}}},
          {"mode", mode_name(w.mode)},
          {"tokens_per_device", w.tokens_per_device},
          {"first_layer", w.first_layer},
          {"layers", w.layers},
          {"seed", w.seed},
          {"routing", routing},
          {"devices", w.devices},
          {"ep_size", w.ep_size},
          {"gpus_per_node", w.gpus_per_node},
          {"strategies", strategies},
          {"placements", w.placements}};
}

Workload workload_from_json(const nlohmann::json& j, const std::string& where) {
  JsonReader r(where);
  const std::string p = "workload.";
  Workload w;
  const auto& m = r.object(j, "model", p);
  const std::string mp = p + "model.";
  w.model.name = r.text(m, "name", mp);
  w.model.experts = int(r.integer(m, "experts", mp, 1, 1 << 20));
  w.model.top_k = int(r.integer(m, "top_k", mp, 1, 1 << 10));
  w.model.hidden = int(r.integer(m, "hidden", mp, 1, 1 << 24));
  w.model.ffn = int(r.integer(m, "ffn", mp, 1, 1 << 24));
  w.model.shared_experts = int(r.integer(m, "shared_experts", mp, 0, 1 << 10));
  w.model.shared_ffn = int(r.integer(m, "shared_ffn", mp, 0, 1 << 24));
  w.model.layers = int(r.integer(m, "layers", mp, 0, 1 << 16));
  w.model.elem_bytes = int(r.integer(m, "elem_bytes", mp, 1, 16));
  validate_model(w.model, where);
  try {
    w.mode = parse_mode(r.text(j, "mode", p));
  } catch (const InputError& e) {
    r.fail(p + "mode", e.message());
  }
  w.tokens_per_device = r.integer(j, "tokens_per_device", p, 1, std::int64_t(1) << 40);
  w.first_layer = int(r.integer(j, "first_layer", p, 0, 1 << 20));
  w.layers = int(r.integer(j, "layers", p, 1, 1 << 20));
  w.seed = std::uint64_t(r.integer(j, "seed", p, 0, std::numeric_limits<std::int64_t>::max()));
  const auto& rt = r.object(j, "routing", p);
  if (r.has(rt, "trace")) {
    w.trace_path = r.text(rt, "trace", p + "routing.");
    w.trace_digest = r.text(rt, "digest", p + "routing.");
  } else {
    w.synthetic.skew = r.number(rt, "skew", p + "routing.", false);
    w.synthetic.affinity = r.number(rt, "affinity", p + "routing.", false);
    w.synthetic.groups = int(r.integer(rt, "groups", p + "routing.", 0, 1 << 20));
  }
  w.devices = int(r.integer(j, "devices", p, 1, 1 << 24));
  w.ep_size = int(r.integer(j, "ep_size", p, 1, w.devices));
  if (w.devices % w.ep_size != 0) r.fail(p + "ep_size", "must divide devices");
  w.gpus_per_node = int(r.integer(j, "gpus_per_node", p, 1, 1 << 20));
  for (const auto& s : r.array(j, "strategies", p)) {
    if (!s.is_string()) r.fail(p + "strategies", "must be strategy names");
    try {
      w.strategies.push_back(parse_strategy(s.get<std::string>()));
    } catch (const InputError& e) {
      r.fail(p + "strategies", e.message());
    }
  }
  for (const auto& s : r.array(j, "placements", p)) {
    if (!s.is_string()) r.fail(p + "placements", "must be placement names");
    w.placements.push_back(s.get<std::string>());
  }
  if (w.strategies.empty()) r.fail(p + "strategies", "needs at least one strategy");
  if (w.placements.empty()) r.fail(p + "placements", "needs at least one placement");
  return w;
}

}  // namespace occult
