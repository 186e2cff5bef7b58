#include "sim/engine/layer_sim.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <numeric>

#include "sim/engine/block_split.hpp"
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
      for (int t = st.rows.band_begin(s); t < st.rows.band_end(s); ++t)
        if (st.rows.at(s, t) < 0) throw InputError("", 0, "plan.stages", "negative row count");
  }
  check_times(w.layout_s, d, "layout_s", false);
  check_times(w.pack_s, d, "pack_s", false);
  check_times(w.expert_fwd_s, d, "expert_fwd_s", false);
  check_times(w.unpack_s, d, "unpack_s", false);
  check_times(w.expert_bwd_s, d, "expert_bwd_s", false);
  check_times(w.grad_pack_s, d, "grad_pack_s", false);
  check_times(w.grad_unpack_s, d, "grad_unpack_s", false);
  check_times(w.counts_host_s, d, "counts_host_s", false);
  for (const auto* x : {&w.dispatch, &w.combine, &w.grad_dispatch, &w.grad_combine}) {
    check_times(x->local_s, d, "local_s", false);
    if (x->messages < 1 || !(x->meta_bytes_per_row >= 0))
      throw InputError("", 0, "exchange", "needs at least one message and metadata bytes >= 0");
  }
  if (w.overlap == Overlap::Chunked && w.chunks < 1) throw InputError("", 0, "chunks", "must be >= 1");
}

std::string model_note(const SimOptions& opt, int devices) {
  std::string n = "SimGrid CM02 max-min sharing (crosstraffic off, weight-S 0, no TCP window); ";
  switch (effective_flow_model(opt, devices)) {
    case FlowModel::PerPair:
      return n + "one flow per (source, destination) device pair";
    case FlowModel::Fluid:
      return "fluid: max-min sharing per flow class (source node x route), the layer's exchanges solved "
             "together outside SimGrid" +
             (fluid_quantum_for(opt, devices) > 0
                  ? " (rates re-solved at most every " + std::to_string(fluid_quantum_for(opt, devices)) +
                        " of the shortest exchange's drain time)"
                  : std::string(" (exact: rates re-solved at every pair start or end)"));
    case FlowModel::LinkDrain:
      return n + "link drain: one flow per link and ready-time bucket (" +
             std::to_string(opt.aggregate_buckets > 0 ? opt.aggregate_buckets : 8) + " buckets)";
    default:
      return n +
             "grouped: one weighted flow per (source node, destination, route, ready-time group) "
             "(aggregate_buckets " +
             std::to_string(opt.aggregate_buckets) + ")";
  }
}

// One block's simulation, as it comes back from its process: per-device phase times, class bytes and its
// busiest links (ids of the first block's graph).
nlohmann::json run_block(const TopologySpec& topo, const LayerWork& w, const SimOptions& opt,
                         std::size_t top) {
  TopologySpec block_topo = topo;
  block_topo.node_of.clear();  // a block runs on the first block's nodes (find_block_split checked them)
  const NetworkGraph net(block_topo, w.plan->shape.devices, opt.links);
  const DagResult dag = run_layer_dag(net, w, opt);
  nlohmann::json j;
  j["makespan"] = dag.makespan;
  j["phases"] = nlohmann::json::array();
  for (auto& [name, dur] : phase_durations(dag)) j["phases"].push_back({name, dur});
  j["class_bytes"] = {dag.class_bytes[0], dag.class_bytes[1], dag.class_bytes[2]};
  std::vector<int> ids(dag.link_bytes.size());
  std::iota(ids.begin(), ids.end(), 0);
  const std::size_t k = std::min(top, ids.size());
  std::partial_sort(ids.begin(), ids.begin() + long(k), ids.end(), [&](int a, int b) {
    return dag.link_bytes[a] != dag.link_bytes[b] ? dag.link_bytes[a] > dag.link_bytes[b] : a < b;
  });
  j["links"] = nlohmann::json::array();
  for (std::size_t i = 0; i < k && dag.link_bytes[ids[i]] > 0; ++i)
    j["links"].push_back({ids[i], dag.link_bytes[ids[i]]});
  return j;
}

// Blocks run in separate processes, two at a time; the result is the one the whole cluster would give
// (phase statistics over all devices, the makespan is the slowest block's).
LayerSimResult simulate_blocks(const TopologySpec& topo, const LayerWork& work, const SimOptions& opt,
                               const NetworkGraph& full, const BlockSplit& split) {
  constexpr std::size_t kTop = 10;
  std::vector<nlohmann::json> parts(std::size_t(split.blocks));
  run_jobs(
      split.blocks, 2,
      [&](int b) {
        CommPlan plan;
        const LayerWork w = block_work(work, b, split.block_devices, plan);
        return run_block(topo, w, opt, kTop).dump();
      },
      [&](int b, const std::string& out) {
        parts[std::size_t(b)] = nlohmann::json::parse(out);
        if (opt.progress) std::cerr << "occult: block " << b + 1 << " of " << split.blocks << " simulated\n";
      });

  LayerSimResult r;
  std::vector<std::pair<std::string, std::vector<double>>> phases;
  double class_bytes[kLinkClasses] = {0, 0, 0};
  std::vector<std::pair<int, double>> links;  // full-cluster link id, bytes
  for (int b = 0; b < split.blocks; ++b) {
    const auto& j = parts[std::size_t(b)];
    r.total_s = std::max(r.total_s, j.at("makespan").get<double>());
    const auto& ph = j.at("phases");
    if (phases.empty())
      for (const auto& p : ph) phases.emplace_back(p.at(0).get<std::string>(), std::vector<double>{});
    for (std::size_t i = 0; i < phases.size(); ++i)
      for (double x : ph.at(i).at(1)) phases[i].second.push_back(x);
    for (int c = 0; c < kLinkClasses; ++c)
      class_bytes[c] += j.at("class_bytes").at(std::size_t(c)).get<double>();
    for (const auto& l : j.at("links"))
      links.emplace_back(split.link_of[std::size_t(b)].at(l.at(0).get<std::size_t>()), l.at(1).get<double>());
  }
  for (auto& [name, dur] : phases) r.phases[name] = phase_stats(std::move(dur));
  for (int c = 0; c < kLinkClasses; ++c)
    r.bytes_by_link_class[link_class_name(LinkClass(c))] = class_bytes[c];
  std::sort(links.begin(), links.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  for (std::size_t i = 0; i < std::min(kTop, links.size()); ++i) {
    const NetLink& l = full.links().at(std::size_t(links[i].first));
    const double busy = links[i].second / l.bandwidth_Bps;
    r.busiest_links.push_back({l.name, link_class_name(l.cls), links[i].second,
                               r.total_s > 0 ? std::min(1.0, busy / r.total_s) : 0.0});
  }
  r.model_note = model_note(opt, split.block_devices) + "; simulated as " + std::to_string(split.blocks) +
                 " independent blocks of " + std::to_string(split.block_devices) +
                 " GPUs (block-diagonal plan, no shared link)";
  return r;
}

}  // namespace

LayerSimResult simulate_layer(const TopologySpec& topo, const LayerWork& work, const SimOptions& opt) {
  validate(topo, work);
  const auto t0 = std::chrono::steady_clock::now();
  const CommPlan& plan = *work.plan;
  const int block = opt.split_blocks && opt.timeline_path.empty()
                        ? plan_block_size(plan, plan.shape.gpus_per_node)
                        : plan.shape.devices;
  if (block < plan.shape.devices) {
    const NetworkGraph full(topo, plan.shape.devices, opt.links);
    TopologySpec first_topo = topo;
    first_topo.node_of.clear();
    const NetworkGraph first(first_topo, block, opt.links);
    const BlockSplit split = find_block_split(full, first, plan, block);
    if (split.blocks > 0) {
      LayerSimResult r = simulate_blocks(topo, work, opt, full, split);
      r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return r;
    }
  }
  const std::string payload = run_in_child([&] {
    const NetworkGraph net(topo, work.plan->shape.devices, opt.links);
    const DagResult dag = run_layer_dag(net, work, opt);
    if (!opt.timeline_path.empty()) write_timeline(opt.timeline_path, dag, topo.gpus_per_node);
    RunResult r;
    static_cast<LayerSimResult&>(r) = summarize(net, dag, 10);
    r.model_note = model_note(opt, work.plan->shape.devices);
    return run_result_json(r).dump();
  });
  LayerSimResult r = run_result_from_json(nlohmann::json::parse(payload));
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace occult
