#pragma once
// The link-drain flow model, for clusters too large for the grouped model (layer_dag.hpp picks it):
// the bytes every pair would put on each link are summed per link (and per group of sources that become
// ready together), and each link carries one flow of that sum. A route is split into a source side (the
// sender's ports, uplinks, the fabric's middle) and a destination side (the receiver's leaf downlinks and
// ports). A receiver is done when (a) every source-side link of its scope has drained (in an all-to-all
// every sender sends to it; the scope is the node for node-internal steps, else the cluster) and (b) the
// destination-side links of its own routes have drained, plus the longest route latency into it.
// O(links x groups) flows whatever the device count; a bottleneck model, so it misses max-min's tail
// where sender and receiver ports are equally loaded (docs/simulator.md gives its error).
#include <vector>

#include "sim/engine/flow_groups.hpp"
#include "sim/engine/sg_backend.hpp"

namespace occult {

struct DrainLoad {
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
  std::vector<double> ready_after;               // per device: estimate of when it has received everything
};

// `ready_key`: an estimate of when each source becomes ready; sources are grouped into at most
// `buckets` equal-width groups of it (buckets <= 0 counts as 1).
DrainLoad drain_load(const NetworkGraph& net, const StepTraffic& t, const std::vector<double>& ready_key,
                     int buckets, int gpus_per_node);

// Per device, the activity that finishes when the device has received all its data (and not before
// gate[device]). `bytes_scale` splits a step into chunks.
std::vector<int> link_drain_step(SgBackend& sg, const NetworkGraph& net, const DrainLoad& load,
                                 double bytes_scale, const std::vector<int>& gate, int control_host);

}  // namespace occult
