#pragma once
// The work of one MoE layer as the engine executes it, and what the engine reports back. Plain types
// in the core so that the cost model (sim/core) can fill them without depending on sim/engine.
#include <map>
#include <string>
#include <vector>

#include "sim/core/plan.hpp"

namespace occult {

enum class Overlap { None, Chunked };  // chunked: dispatch/compute/combine pipelined in chunks

// One all-to-all of the layer as the GPU backend moves it: the plan's rows, the metadata that travels
// with each row, the messages per peer of its group, and the copies of the rows that stay on their
// device (side-stream device copies that run beside the transfer).
struct ExchangeWork {
  double meta_bytes_per_row = 0;  // bytes that travel with each row besides its hidden vector
  int messages = 1;               // messages per peer in the exchange's group (rows, metadata, counts)
  std::vector<double> local_s;    // per device: the own-block copies' seconds; empty: none
};

struct LayerWork {
  const CommPlan* plan = nullptr;
  // Per-device seconds, each of size D (from the cost model / calibration profile); empty means zero.
  std::vector<double> layout_s, pack_s, expert_fwd_s, unpack_s;
  // Training: the backward mirror. `expert_bwd_s` empty means inference (forward only).
  std::vector<double> grad_pack_s, expert_bwd_s, grad_unpack_s;
  ExchangeWork dispatch, combine, grad_dispatch, grad_combine;
  // A separate exchange of the row counts before the pack (`counts = sync`): one int per peer, then
  // the host reads them back (`counts_host_s`, per device) before it enqueues the pack.
  bool counts_exchange = false;
  std::vector<double> counts_host_s;
  Overlap overlap = Overlap::None;
  int chunks = 1;
};

// The engine's flow models (docs/simulator.md "Flow models"). Auto picks fluid for blocks of up to
// kFluidMaxDevices devices (max-min per flow class solved outside SimGrid, the layer's exchanges
// together: matches per pair) and link drain above (O(links) flows, a bottleneck approximation).
enum class FlowModel { Auto, PerPair, Grouped, LinkDrain, Fluid };
inline constexpr int kFluidMaxDevices = 512;

// The calibration profile's corrections of the topology's links, by link class ("nvlink", "pcie",
// "network"); a class that is absent keeps its nominal figures.
struct LinkCorrections {
  std::map<std::string, double> bandwidth_factor;  // measured efficiency against the nominal bandwidth
  // A calibrated class's exchange floor: a route that enters the class starts moving bytes this long
  // after its exchange starts, instead of after the topology's per-hop latencies of that class.
  std::map<std::string, double> floor_latency_s;
  // Seconds each message per peer beyond the first adds to an exchange's start.
  std::map<std::string, double> message_s;
};

struct SimOptions {
  LinkCorrections links;
  bool per_pair_flows = false;  // force the exact per-(src,dst) flow model (validation); wins over flow_model
  FlowModel flow_model = FlowModel::Auto;
  std::string timeline_path;  // when set, write a Chrome/Perfetto trace of the activities
  bool progress = false;      // progress to stderr on long runs
  bool verbose = false;       // also what the engine builds (activities, links) on stderr
  // Grouped model: which senders may share a group flow. 0: only senders with the same estimated ready
  // time (the accurate default, docs/simulator.md "Flow models"); k > 0: senders whose estimates lie
  // within 1/k of the step's busiest-link drain time (fewer flows, less accurate with staggered senders).
  // Link-drain model: sources are grouped into k equal-width ready-time buckets (0: 8).
  int aggregate_buckets = 0;
  // When the plan is block-diagonal (expert-parallel groups that never exchange tokens) and no link
  // carries two blocks' traffic, simulate each block alone: exact, and much cheaper at thousands of GPUs
  // (sim/engine/block_split.hpp). Never done with a timeline.
  bool split_blocks = true;
  // Fluid model: the max-min rates are re-solved at most once per this share of the shortest exchange's
  // busiest-link drain time (0: at every pair start or end, exact; < 0: fluid_quantum_for() picks;
  // docs/simulator.md, "Flow models").
  double fluid_quantum = -1;
};

// The model a simulation of `devices` devices (one block) runs.
inline FlowModel effective_flow_model(const SimOptions& o, int devices) {
  if (o.per_pair_flows) return FlowModel::PerPair;
  if (o.flow_model != FlowModel::Auto) return o.flow_model;
  return devices <= kFluidMaxDevices ? FlowModel::Fluid : FlowModel::LinkDrain;
}

// The fluid model is exact (quantum 0) up to kFluidExactMaxDevices per block, where it costs at most a
// few seconds (2.7 s for a DeepSeek-V3 layer on 128 GPUs); above, it re-solves at most once per
// kFluidQuantum of the shortest exchange (a 256-GPU DeepSeek-V3 layer: 36-40 s exact, 1.7 s so).
inline constexpr int kFluidExactMaxDevices = 128;
inline constexpr double kFluidQuantum = 0.001;
inline double fluid_quantum_for(const SimOptions& o, int devices) {
  if (o.fluid_quantum >= 0) return o.fluid_quantum;
  return devices <= kFluidExactMaxDevices ? 0.0 : kFluidQuantum;
}

struct PhaseStats {
  double max_s = 0, mean_s = 0, min_s = 0, p50_s = 0, p99_s = 0;  // over devices
};

struct LinkLoad {
  std::string name;
  std::string link_class;
  double bytes = 0;
  double busy_fraction = 0;
};

struct LayerSimResult {
  double total_s = 0;                        // makespan of the layer
  std::map<std::string, PhaseStats> phases;  // by phase name (sim/core/phases.hpp), over devices
  std::map<std::string, double> bytes_by_link_class;
  std::vector<LinkLoad> busiest_links;  // top few by bytes
  std::string model_note;               // which network model/aggregation was used
  double wall_s = 0;                    // simulator wall time
};

}  // namespace occult
