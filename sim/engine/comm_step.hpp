#pragma once
// One exchange step of a layer (one plan stage, one direction, one chunk) as SimGrid activities, in
// one of two flow models (the third, link drain, is sim/engine/link_drain.hpp; layer_dag picks one):
// - per pair: one flow per (source, destination) device pair over its full route. Exact, D^2 flows.
// - grouped: the group flows and port flows of flow_groups.hpp. A receiver is done when its group
//   flows and the port flows of the nodes that send to it have finished, plus the longest route latency
//   into it. About 2 D N flows on a rail-optimized cluster (N nodes); validated against per pair in
//   docs/simulator.md ("Flow models").
// In both models SimGrid links have no latency: CM02 would weight each flow's share by its route latency
// (TCP RTT-unfairness), which NVLink and RDMA do not have. Route latency is charged as a delay instead.
#include <vector>

#include "sim/engine/flow_groups.hpp"
#include "sim/engine/sg_backend.hpp"

namespace occult {

// Both return, per device, the activity that finishes when the device has received all its data (and
// not before gate[device]). Flows from a source start when its gate has finished (a group flow: when
// the gates of its node's sources in its bucket have). `bytes_scale` splits a step into chunks.
std::vector<int> per_pair_step(SgBackend& sg, const NetworkGraph& net, const StepTraffic& t,
                               double bytes_scale, const std::vector<int>& gate);
std::vector<int> aggregated_step(SgBackend& sg, const NetworkGraph& net, const AggregatedLoad& load,
                                 double bytes_scale, const std::vector<int>& gate, int control_host);

}  // namespace occult
