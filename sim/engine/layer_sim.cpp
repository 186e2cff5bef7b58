#include "sim/engine/layer_sim.hpp"

#include <chrono>
#include <cmath>

#include "sim/engine/fork_run.hpp"
#include "sim/engine/layer_dag.hpp"
#include "sim/engine/layer_result.hpp"

namespace occult {
namespace {

void check_times(const std::vector<double>& v, int devices, const char* field, bool required) {
  if (v.empty() && !required) return;
  if (int(v.size()) != devices)
    throw InputError(
        "", 0, field,
        "needs one value per device (" + std::to_string(devices) + "), got " + std::to_string(v.size()));
  for (double x : v)
    if (!(x >= 0) || !std::isfinite(x)) throw InputError("", 0, field, "times must be finite and >= 0");
}

void validate(const TopologySpec& topo, const LayerWork& w) {
  if (!w.plan) throw InputError("", 0, "plan", "no communication plan given");
  const CommPlan& p = *w.plan;
  const int d = p.shape.devices;
  validate_shape(p.shape);
  validate_topology(topo, topo.source);
  if (!topo.platform_xml.empty())
    throw InputError(topo.source, 0, "platform_xml",
                     "SimGrid platform files are not supported by this engine yet");
  const long gpus = long(topo.gpus_per_node) * topo.nodes;
  if (gpus < d)
    throw InputError(topo.source, 0, "nodes",
                     "topology '" + topo.name + "' has " + std::to_string(gpus) + " GPUs, fewer than the " +
                         std::to_string(d) + " devices to simulate");
  if (p.shape.nodes() > 1 && p.shape.gpus_per_node != topo.gpus_per_node)
    throw InputError(topo.source, 0, "gpus_per_node",
                     "the plan has " + std::to_string(p.shape.gpus_per_node) +
                         " GPUs per node, the topology " + std::to_string(topo.gpus_per_node));
  if (p.shape.nodes() == 1 && d > topo.gpus_per_node && topo.nodes > 1)
    throw InputError(topo.source, 0, "gpus_per_node",
                     "a single-node plan does not fit in one node of the topology");
  if (p.row_bytes < 0) throw InputError("", 0, "row_bytes", "must be >= 0");
  for (const auto& st : p.stages) {
    if (st.rows.size() != d)
      throw InputError("", 0, "plan.stages", "matrix size differs from the device count");
    for (int s = 0; s < d; ++s)
      for (int t = 0; t < d; ++t)
        if (st.rows.at(s, t) < 0) throw InputError("", 0, "plan.stages", "negative row count");
  }
  check_times(w.layout_s, d, "layout_s", false);
  check_times(w.pack_s, d, "pack_s", false);
  check_times(w.expert_fwd_s, d, "expert_fwd_s", false);
  check_times(w.unpack_s, d, "unpack_s", false);
  check_times(w.expert_bwd_s, d, "expert_bwd_s", false);
  if (w.overlap == Overlap::Chunked && w.chunks < 1) throw InputError("", 0, "chunks", "must be >= 1");
}

std::string model_note(const SimOptions& opt) {
  std::string n = "SimGrid CM02 max-min sharing (crosstraffic off, weight-S 0, no TCP window); ";
  if (opt.per_pair_flows) return n + "one flow per (source, destination) device pair";
  return n + "aggregated: one flow per link and ready-time group (" + std::to_string(opt.aggregate_buckets) +
         " groups), receivers finish when their scope drains plus their longest route latency";
}

}  // namespace

LayerSimResult simulate_layer(const TopologySpec& topo, const LayerWork& work, const SimOptions& opt) {
  validate(topo, work);
  const auto t0 = std::chrono::steady_clock::now();
  const std::string payload = run_in_child([&] {
    const NetworkGraph net(topo, work.plan->shape.devices, opt.bandwidth_factor, opt.extra_latency_s);
    const DagResult dag = run_layer_dag(net, work, opt);
    if (!opt.timeline_path.empty()) write_timeline(opt.timeline_path, dag, topo.gpus_per_node);
    LayerSimResult r = summarize(net, dag, 10);
    r.model_note = model_note(opt);
    return result_to_json(r).dump();
  });
  LayerSimResult r = result_from_json(nlohmann::json::parse(payload));
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace occult
