#pragma once
// The MoE layer as a DAG of SimGrid activities, per device, in the phases of sim/core/phases.hpp:
//   layout -> [counts] -> pack -> dispatch (plan stages in order) -> expert -> combine (stages reversed,
//   transposed) -> unpack [-> grad_pack -> grad_dispatch (dispatch direction) -> expert_backward ->
//   grad_combine (combine direction) -> grad_unpack]
// With chunked overlap the rows are split into `chunks`: chunk c's expert work runs while chunk c+1 is
// in flight; a device issues a chunk's exchange once its previous chunk's exchange has completed (as a
// sequence of all-to-all calls does). Senders push as soon as their data is ready (one-sided writes, as
// in DeepEP); a device's exchange ends when it has received everything addressed to it and its own-block
// copies are done. A phase's time on a device runs from the end of its previous phase, so an exchange
// includes the wait for late senders, as the GPU backend's events measure it.
// Must run in a process that has no other SimGrid engine (see fork_run.hpp).
#include <map>
#include <string>
#include <vector>

#include "sim/engine/layer_sim.hpp"
#include "sim/engine/network_graph.hpp"

namespace occult {

struct DagResult {
  double makespan = 0;
  std::vector<std::string> phase_order;
  std::map<std::string, std::vector<double>> phase_start, phase_end;  // per device
  std::vector<double> link_bytes;                                     // per NetworkGraph link
  double class_bytes[kLinkClasses] = {0, 0, 0};
  std::size_t activities = 0;
};

DagResult run_layer_dag(const NetworkGraph& net, const LayerWork& work, const SimOptions& opt);

}  // namespace occult
