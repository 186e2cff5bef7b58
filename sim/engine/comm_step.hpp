#pragma once
// One exchange step of a layer (one plan stage, one direction, one chunk) as SimGrid activities, in
// one of two flow models:
// - per pair: one flow per (source, destination) device pair over its full route. Exact, D^2 flows.
// - aggregated: the bytes every flow would put on each link are summed per link (and per group of
//   sources that become ready together), and each link carries one flow of that sum. A receiver is done
//   when (a) every source-side link of its scope has drained (its senders' ports, uplinks and the
//   fabric's middle: in an all-to-all every sender sends to it; the scope is the node for node-internal
//   steps, else the cluster) and (b) the destination-side links of its own routes (its port, its leaf's
//   downlinks) have drained, plus the longest route latency into it. O(links) flows; validated against
//   per pair in docs/simulator.md.
// In both models SimGrid links have no latency: CM02 would weight each flow's share by its route latency
// (TCP RTT-unfairness), which NVLink and RDMA do not have. Route latency is charged as a delay instead.
#include <vector>

#include "sim/core/pair_matrix.hpp"
#include "sim/engine/network_graph.hpp"
#include "sim/engine/sg_backend.hpp"

namespace occult {

struct StepTraffic {
  const PairMatrix* rows = nullptr;
  bool transposed = false;  // combine direction: rows(src, dst) is read as rows(dst, src)
  double row_bytes = 0;

  std::int64_t at(int src, int dst) const { return transposed ? rows->at(dst, src) : rows->at(src, dst); }
  bool intra_node_only(int gpus_per_node) const;
};

// Per-link load of a step, precomputed once per (phase, stage) and reused for every chunk.
struct AggregatedLoad {
  int buckets = 1;
  int gpus_per_node = 1;
  bool per_node_scope = false;             // node-internal step: each node drains on its own
  std::vector<int> bucket_of;              // per source device
  std::vector<int> link_ids;               // links with traffic
  std::vector<std::vector<double>> bytes;  // per entry of link_ids, per bucket
  std::vector<char> source_side;  // per entry: on the source side of some route (drains into the barrier)
  std::vector<std::vector<int>> dest_entries;    // per device: entries on the destination side of its routes
  std::vector<double> latency_into;              // per device: longest route latency of a flow into it
  std::vector<char> receives;                    // per device: gets any remote bytes
  double class_bytes[kLinkClasses] = {0, 0, 0};  // bytes of flows that use each link class (once per flow)
};

// `ready_key`: an estimate of when each source becomes ready (seconds of work before the step); sources
// are grouped into at most `buckets` equal-width groups of it.
AggregatedLoad aggregate_step(const NetworkGraph& net, const StepTraffic& t,
                              const std::vector<double>& ready_key, int buckets, int gpus_per_node);

// Both return, per device, the activity that finishes when the device has received all its data (and
// not before gate[device]). Flows from a source start when its gate has finished. `bytes_scale` splits a
// step into chunks.
std::vector<int> per_pair_step(SgBackend& sg, const NetworkGraph& net, const StepTraffic& t,
                               double bytes_scale, const std::vector<int>& gate);
std::vector<int> aggregated_step(SgBackend& sg, const NetworkGraph& net, const AggregatedLoad& load,
                                 double bytes_scale, const std::vector<int>& gate, int control_host);

}  // namespace occult
