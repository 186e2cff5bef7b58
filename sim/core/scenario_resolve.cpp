// ScenarioDoc::resolve: from the TOML document to a typed, validated Scenario. Errors that other
// modules raise without a position (an unknown preset, a bad strategy) are re-raised at the line of
// the key that caused them.
#include <cstdio>
#include <filesystem>
#include <functional>

#include <toml++/toml.h>

#include "sim/core/error.hpp"
#include "sim/core/group_placement.hpp"
#include "sim/core/memory_budget.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/scenario_impl.hpp"
#include "sim/core/scenario_memory.hpp"

namespace occult {
namespace {

const char* const kPlacementAlgos[] = {"contiguous", "round-robin",  "greedy",
                                       "metis",      "hierarchical", "load-aware"};

class Resolver {
 public:
  explicit Resolver(const ScenarioDoc::Impl& d) : d_(d) {}

  bool has(const std::string& key) const { return d_.root.at_path(key).node() != nullptr; }

  [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
    throw InputError(d_.file_of(key), d_.line_of(key), key, msg);
  }
  // Runs `f`; an InputError from it is re-raised at `key` unless it already names a file.
  template <typename F>
  auto at(const std::string& key, F&& f) const {
    try {
      return f();
    } catch (const InputError& e) {
      if (!e.file().empty()) throw;
      fail(key, e.message());
    }
  }

  std::string str(const std::string& key, const std::string& def) {
    auto v = d_.root.at_path(key).value<std::string>();
    return record(key, v ? *v : def);
  }
  std::int64_t integer(const std::string& key, std::int64_t def, std::int64_t lo, std::int64_t hi) {
    auto v = d_.root.at_path(key).value<std::int64_t>();
    const std::int64_t x = v ? *v : def;
    if (x < lo || x > hi) fail(key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return record(key, x);
  }
  double number(const std::string& key, double def, double lo, double hi) {
    auto v = d_.root.at_path(key).value<double>();
    const double x = v ? *v : def;
    if (!(x >= lo && x <= hi)) fail(key, "must be in [" + num(lo) + ", " + num(hi) + "], got " + num(x));
    return record(key, x);
  }
  // A number that must be > 0 (a bandwidth, a rate): "in [1e-09, ...]" would read as "0 is fine".
  double positive(const std::string& key, double def, double hi) {
    auto v = d_.root.at_path(key).value<double>();
    const double x = v ? *v : def;
    if (!(x > 0 && x <= hi)) fail(key, "must be > 0 and <= " + num(hi) + ", got " + num(x));
    return record(key, x);
  }
  bool boolean(const std::string& key, bool def) {
    auto v = d_.root.at_path(key).value<bool>();
    return record(key, v ? *v : def);
  }
  std::vector<std::string> list(const std::string& key, std::vector<std::string> def) {
    if (const toml::node* n = d_.root.at_path(key).node()) {
      def.clear();
      for (const auto& e : *n->as_array()) def.push_back(*e.value<std::string>());
      if (def.empty()) fail(key, "must not be empty");
    }
    return record(key, def);
  }
  // A path relative to the scenario file's folder (values from --set are already absolute).
  std::string path(const std::string& key, bool must_exist) {
    std::string p = str(key, "");
    if (p.empty()) return p;
    std::filesystem::path fp(p);
    if (fp.is_relative() && !base_dir(key).empty()) fp = std::filesystem::path(base_dir(key)) / fp;
    p = fp.lexically_normal().string();
    if (must_exist) check_regular_file(key, p);
    return p;
  }

  // Files a scenario names are read more than once (by every sweep point, every forked job), so they
  // must be regular files: a pipe could be read only once.
  void check_regular_file(const std::string& key, const std::string& p) const {
    std::error_code ec;
    const auto st = std::filesystem::status(p, ec);
    if (!std::filesystem::exists(st)) fail(key, "file not found: " + p);
    if (std::filesystem::is_directory(st)) fail(key, p + " is a directory, not a file");
    if (!std::filesystem::is_regular_file(st))
      fail(key, p + " is not a regular file (a pipe or a device): files a scenario names are read more "
                    "than once; save it to a file");
  }

  // Folder that relative paths of `key` are relative to: the scenario's, or the current one for --set.
  std::string base_dir(const std::string& key) const {
    auto it = d_.origins.find(key);
    if (it != d_.origins.end() && it->second.first.rfind("--set", 0) == 0) return "";
    return d_.dir;
  }

  nlohmann::json resolved;

 private:
  template <typename T>
  T record(const std::string& key, T value) {
    resolved[key] = value;
    return value;
  }
  // Shortest form that reads back as the same bound: 1e-06, 0.1, 1000000000.
  static std::string num(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.10g", x);
    return buf;
  }
  const ScenarioDoc::Impl& d_;
};

constexpr std::int64_t kBig = std::int64_t(1) << 40;

void resolve_model(Resolver& r, Scenario& s) {
  const std::string preset = r.str("model.preset", "");
  ModelConfig m;
  const std::string file = r.path("model.file", true);
  if (!preset.empty() && !file.empty()) r.fail("model.file", "give model.preset or model.file, not both");
  if (!preset.empty()) {
    m = r.at("model.preset", [&] { return model_preset(preset); });
    s.model_source = "preset " + preset;
  } else if (!file.empty()) {
    m = load_model_file(file);
    s.model_source = "file " + file;
  } else {
    for (const char* k : {"model.experts", "model.top_k", "model.hidden", "model.ffn"})
      if (!r.has(k)) r.fail(k, "missing: give model.preset, model.file or every field of a custom model");
    m.name = "custom";
    m.layers = 1;
    s.model_source = "inline";
  }
  m.name = r.str("model.name", m.name);
  m.experts = int(r.integer("model.experts", m.experts, 1, 1 << 20));
  m.top_k = int(r.integer("model.top_k", m.top_k, 1, 1 << 10));
  m.hidden = int(r.integer("model.hidden", m.hidden, 1, 1 << 20));
  m.ffn = int(r.integer("model.ffn", m.ffn, 1, 1 << 22));
  m.shared_experts = int(r.integer("model.shared_experts", m.shared_experts, 0, 1 << 10));
  m.shared_ffn = int(r.integer("model.shared_ffn", m.shared_ffn, 0, 1 << 22));
  m.layers = int(r.integer("model.layers", m.layers, 1, 1 << 16));
  m.elem_bytes = int(r.integer("model.elem_bytes", m.elem_bytes, 1, 4));
  // Blame the key that holds the bad value: one set in the scenario or by --set, else the preset or
  // file the value came from.
  const std::string source = !preset.empty() ? "model.preset" : !file.empty() ? "model.file" : "";
  auto blame = [&](const std::vector<std::string>& keys) {
    for (const auto& k : keys)
      if (r.has(k)) return k;
    return source.empty() ? keys.front() : source;
  };
  if (m.top_k > m.experts)
    r.fail(
        blame({"model.top_k", "model.experts"}),
        "top_k = " + std::to_string(m.top_k) + " exceeds the model's experts = " + std::to_string(m.experts));
  try {
    validate_model(m, "");
  } catch (const InputError& e) {
    const std::string key = blame({"model." + e.field()});
    r.fail(key, (key == "model." + e.field() ? "" : "the model's " + e.field() + " ") + e.message());
  }
  s.model = m;
}

void resolve_workload(Resolver& r, Scenario& s) {
  s.mode = r.at("workload.mode", [&] { return parse_mode(r.str("workload.mode", "train")); });
  s.tokens_per_device = r.integer("workload.tokens_per_device", 4096, 1, kBig);
  s.layers = int(r.integer("workload.layers", 1, 1, 1 << 16));
  s.first_layer = int(r.integer("workload.first_layer", 0, 0, 1 << 16));
  s.trace_path = r.path("workload.trace", true);
  s.synthetic.skew = r.number("workload.skew", 0.0, 0.0, 10.0);
  s.synthetic.affinity = r.number("workload.affinity", 0.0, 0.0, 1.0);
  s.synthetic.groups = int(r.integer("workload.groups", 0, 0, 1 << 20));
}

void resolve_cluster(Resolver& r, Scenario& s) {
  if (!r.has("cluster.topology")) r.fail("cluster.topology", "missing: a topology file is required");
  const std::string topo_path = r.path("cluster.topology", true);
  TopologySpec t = load_topology(topo_path);
  if (r.has("cluster.nodes")) t.nodes = int(r.integer("cluster.nodes", t.nodes, 1, 1 << 20));
  if (r.has("cluster.gpus_per_node"))
    t.gpus_per_node = int(r.integer("cluster.gpus_per_node", t.gpus_per_node, 1, 1 << 12));
  auto gbps = [&](const char* key, LinkParams& l) {
    if (r.has(key)) l.bandwidth_Bps = r.positive(key, 0, 1e9) * 1e9;
  };
  gbps("cluster.nic_GBps", t.nic);
  gbps("cluster.nvlink_GBps", t.nvlink);
  gbps("cluster.pcie_GBps", t.pcie);
  if (r.has("cluster.oversubscription"))
    t.oversubscription = r.number("cluster.oversubscription", t.oversubscription, 1.0, 1e6);
  if (r.has("cluster.pod_oversubscription"))
    t.pod_oversubscription = r.number("cluster.pod_oversubscription", t.pod_oversubscription, 1.0, 1e6);
  if (r.has("cluster.ecmp")) {
    const std::string e = r.str("cluster.ecmp", "spray");
    if (e != "spray" && e != "hash") r.fail("cluster.ecmp", "'" + e + "' is not valid (valid: spray, hash)");
    t.ecmp = e == "hash" ? Ecmp::Hash : Ecmp::Spray;
    if (t.ecmp == Ecmp::Hash && t.fabric != Fabric::FatTree && t.fabric != Fabric::RailOptimized)
      r.fail("cluster.ecmp", "hash needs a fat-tree or rail-optimized fabric (the others route one path)");
  }
  if (r.has("cluster.ecmp_seed")) t.ecmp_seed = std::uint64_t(r.integer("cluster.ecmp_seed", 0, 0, kBig));
  // Overrides can break the topology (a torus whose dimensions no longer match): check again.
  const char* size_key = r.has("cluster.gpus_per_node") ? "cluster.gpus_per_node"
                         : r.has("cluster.nodes")       ? "cluster.nodes"
                                                        : "cluster.topology";
  try {
    validate_topology(t, "");
  } catch (const InputError& e) {
    const std::string field = e.field().empty() ? "" : e.field() + " ";
    r.fail(size_key, "the topology's " + field + e.message() + " (with the cluster overrides)");
  }
  const int gpus = t.gpus_per_node * t.nodes;
  r.resolved["cluster.nodes"] = t.nodes;
  r.resolved["cluster.gpus_per_node"] = t.gpus_per_node;
  const std::string d_key = r.has("cluster.devices") ? "cluster.devices" : size_key;
  const int D = int(r.integer("cluster.devices", gpus, 1, 1 << 24));
  if (D > gpus)
    r.fail(d_key, "D = " + std::to_string(D) + " devices, but topology " + t.name + " has only " +
                      std::to_string(gpus) + " GPUs (" + std::to_string(t.nodes) + " nodes x " +
                      std::to_string(t.gpus_per_node) + ")");
  if (D > t.gpus_per_node && D % t.gpus_per_node != 0)
    r.fail(d_key, "D = " + std::to_string(D) + " must be a multiple of the GPUs per node (" +
                      std::to_string(t.gpus_per_node) + ") when it spans several nodes");
  const int ep = int(r.integer("cluster.ep_size", D, 1, 1 << 24));
  const std::string ep_key = r.has("cluster.ep_size") ? "cluster.ep_size" : d_key;
  if (D % ep != 0)
    r.fail(ep_key, "ep_size " + std::to_string(ep) + " does not divide D = " + std::to_string(D));
  if (s.model.experts % ep != 0)
    r.fail(ep_key, "D = " + std::to_string(ep) +
                       " GPUs per expert-parallel group does not divide the model's " +
                       std::to_string(s.model.experts) +
                       " experts (each GPU holds E/D experts; see cluster.ep_size)");
  if (ep > t.gpus_per_node ? ep % t.gpus_per_node != 0 : t.gpus_per_node % ep != 0)
    r.fail(ep_key, "an expert-parallel group of " + std::to_string(ep) + " GPUs must span whole nodes of " +
                       std::to_string(t.gpus_per_node) + " GPUs or divide one");
  if (r.has("cluster.group_placement")) {
    const GroupPlacement gp = r.at("cluster.group_placement", [&] {
      return parse_group_placement(r.str("cluster.group_placement", ""));
    });
    const int nodes = (D + t.gpus_per_node - 1) / t.gpus_per_node;
    t.node_of = group_node_order(gp, nodes, D / ep, s.seed);
  }
  s.ep_size = ep;
  s.topology = std::move(t);
  s.devices = D;
}

void resolve_compare(Resolver& r, Scenario& s) {
  for (const auto& name : r.list("compare.strategies", {"standard", "occult"})) {
    s.strategies.push_back(r.at("compare.strategies", [&] { return parse_strategy(name); }));
    // Two spellings of one strategy would be the same run twice: two rows with one run_id.
    for (std::size_t i = 0; i + 1 < s.strategies.size(); ++i)
      if (s.strategies[i].name() == s.strategies.back().name())
        r.fail("compare.strategies", "'" + name + "' is " + s.strategies[i].name() + ", listed twice");
  }
  auto placements = r.list("compare.placements", {"contiguous"});
  for (std::size_t i = 0; i < placements.size(); ++i) {
    const std::string& p = placements[i];
    if (p.size() > 5 && p.ends_with(".json")) {
      // Placement files are resolved like the other paths: relative to the scenario's folder.
      std::filesystem::path fp(p);
      const std::string dir = r.base_dir("compare.placements");
      if (fp.is_relative() && !dir.empty()) fp = std::filesystem::path(dir) / fp;
      r.check_regular_file("compare.placements", fp.string());
      s.placements.push_back(fp.lexically_normal().string());
      continue;
    }
    bool known = false;
    for (const char* a : kPlacementAlgos) known = known || p == a;
    if (!known)
      r.fail("compare.placements",
             "'" + p +
                 "' is neither a placement algorithm (contiguous, round-robin, greedy, metis, "
                 "hierarchical, load-aware) nor a .json placement file");
    s.placements.push_back(p);
  }
  for (std::size_t i = 0; i < s.placements.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (s.placements[i] == s.placements[j])
        r.fail("compare.placements", "'" + s.placements[i] + "' is listed twice");
}

void resolve_rest(Resolver& r, Scenario& s) {
  const std::string overlap = r.str("overlap.mode", "none");
  if (overlap == "none")
    s.overlap = Overlap::None;
  else if (overlap == "chunked")
    s.overlap = Overlap::Chunked;
  else
    r.fail("overlap.mode", "'" + overlap + "' is not valid (valid: none, chunked)");
  s.chunks = int(r.integer("overlap.chunks", s.overlap == Overlap::Chunked ? 4 : 1, 1, 1024));

  s.profile_path = r.path("calibration.profile", true);
  s.link_correction = r.at("calibration.links",
                           [&] { return parse_link_correction(r.str("calibration.links", "calibrated")); });
  s.execution.transport = r.str("execution.transport", "nccl");
  if (s.execution.transport != "nccl" && s.execution.transport != "p2p")
    r.fail("execution.transport", "'" + s.execution.transport + "' is not valid (valid: nccl, p2p)");
  s.execution.nccl_mode = r.str("execution.nccl_mode", "blocking");
  if (s.execution.nccl_mode != "blocking" && s.execution.nccl_mode != "nonblocking")
    r.fail("execution.nccl_mode",
           "'" + s.execution.nccl_mode + "' is not valid (valid: blocking, nonblocking)");
  const std::string counts = r.str("execution.counts", "fused");
  if (counts != "fused" && counts != "sync")
    r.fail("execution.counts", "'" + counts + "' is not valid (valid: fused, sync)");
  s.execution.counts_sync = counts == "sync";
  s.execution.comm_only = r.boolean("execution.comm_only", false);
  RooflineParams def;
  s.roofline.peak_tflops = r.positive("calibration.peak_tflops", def.peak_tflops, 1e9);
  s.roofline.gemm_efficiency = r.positive("calibration.gemm_efficiency", def.gemm_efficiency, 1.0);
  s.roofline.hbm_Bps = r.positive("calibration.hbm_GBps", def.hbm_Bps / 1e9, 1e9) * 1e9;
  s.roofline.hbm_efficiency = r.positive("calibration.hbm_efficiency", def.hbm_efficiency, 1.0);
  s.roofline.launch_s = r.number("calibration.launch_us", def.launch_s * 1e6, 0.0, 1e9) * 1e-6;
  s.per_pair_flows = r.boolean("engine.per_pair_flows", false);
  if (r.has("engine.fluid_quantum")) s.fluid_quantum = r.number("engine.fluid_quantum", 0.0, 0.0, 0.1);
  const std::string flow = r.str("engine.flow_model", "auto");
  if (flow == "auto")
    s.flow_model = FlowModel::Auto;
  else if (flow == "grouped")
    s.flow_model = FlowModel::Grouped;
  else if (flow == "link-drain")
    s.flow_model = FlowModel::LinkDrain;
  else if (flow == "fluid")
    s.flow_model = FlowModel::Fluid;
  else if (flow == "per-pair")
    s.flow_model = FlowModel::PerPair;
  else
    r.fail("engine.flow_model",
           "'" + flow + "' is not valid (valid: auto, fluid, grouped, link-drain, per-pair)");
}

// Refuses, before anything is allocated, a scenario whose one simulated layer needs more memory than the
// limit, at the line of the key that drives the estimate (or the one it came from).
void check_scenario_memory(Resolver& r, const Scenario& s) {
  const MemoryEstimate e = estimate_scenario_memory(s);
  std::string key = e.key;
  const std::vector<std::string> size_keys = {"cluster.devices", "cluster.nodes", "cluster.gpus_per_node"};
  if (!r.has(key)) {
    if (key == "cluster.nodes" || key == "cluster.ep_size") {
      key = "cluster.topology";
      for (const auto& k : size_keys)
        if (r.has(k)) {
          key = k;
          break;
        }
    } else if (key == "model.experts") {
      key = r.has("model.file") ? "model.file" : "model.preset";
    }
  }
  try {
    check_memory(e.bytes, "simulating a layer (largest part: " + e.detail + ")");
  } catch (const InputError& err) {
    r.fail(key, err.message());
  }
}

}  // namespace

Scenario ScenarioDoc::resolve() const {
  Resolver r(*impl_);
  Scenario s;
  s.file = impl_->file;
  std::string stem = std::filesystem::path(impl_->file).stem().string();
  s.name = r.str("name", stem.empty() ? "scenario" : stem);
  s.description = r.str("description", "");
  s.seed = std::uint64_t(r.integer("seed", 1, 0, kBig));
  resolve_model(r, s);
  resolve_workload(r, s);
  resolve_cluster(r, s);
  resolve_compare(r, s);
  resolve_rest(r, s);
  check_scenario_memory(r, s);
  s.resolved = std::move(r.resolved);
  return s;
}

}  // namespace occult

namespace occult {

Workload Scenario::workload() const {
  Workload w;
  w.model = model;
  w.mode = mode;
  w.tokens_per_device = tokens_per_device;
  w.layers = layers;
  w.first_layer = first_layer;
  w.seed = seed;
  w.trace_path = trace_path;
  w.synthetic = synthetic;
  w.devices = devices;
  w.ep_size = ep_size;
  w.gpus_per_node = shape().gpus_per_node;
  w.strategies = strategies;
  w.placements = placements;
  return w;
}

}  // namespace occult
