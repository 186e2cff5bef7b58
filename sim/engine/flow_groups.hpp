#pragma once
// The grouped flow model's traffic for one exchange step (one plan stage, one direction): the step's
// (source, destination) pairs merged into group flows, computed once per (phase, stage) and reused for
// every chunk. No SimGrid here (comm_step.cpp turns it into activities).
//
// Why groups: per-pair max-min sharing gives every flow its share on every link; flows with the same
// route progress at the same rate, so one flow of their summed bytes, weighted by their number of pairs
// (comm_step.cpp), reproduces them when they start together. Pairs that differ only in a link private
// to their source (its NVLink/PCIe port; PXN's first hop) are merged too: that link gets a port flow
// of the source's bytes instead, and the receiver also waits for it. Only senders estimated to be ready
// at the same time are merged (see aggregate_step). On a rail-optimized cluster with PXN a group is
// (source node, destination GPU, ready-time bucket): about 2 D N flows instead of D^2 when the senders
// of a node are ready together.
#include <algorithm>
#include <map>
#include <vector>

#include "sim/core/pair_matrix.hpp"
#include "sim/engine/network_graph.hpp"

namespace occult {

struct StepTraffic {
  const PairMatrix* rows = nullptr;
  bool transposed = false;  // combine direction: rows(src, dst) is read as rows(dst, src)
  double row_bytes = 0;     // per row, with the metadata that travels with it
  int messages = 1;         // per peer in the exchange's group (each beyond the first costs its start)
  // Per device, seconds of the own-block copies that run beside the transfer (the step ends no
  // earlier); nullptr: none.
  const std::vector<double>* local_s = nullptr;

  std::int64_t at(int src, int dst) const { return transposed ? rows->at(dst, src) : rows->at(src, dst); }
};

// Calls fn(src, dst, bytes, split) for every remote pair of t that moves rows, with `route` holding the
// pair's route and `split` its source/destination split (NetworkGraph::route).
template <class Fn>
void for_each_routed_pair(const NetworkGraph& net, const StepTraffic& t, int devices, std::vector<int>& route,
                          Fn&& fn) {
  // Block-diagonal plans store only their blocks (the band is the same for the transposed matrix).
  for (int s = 0; s < devices; ++s)
    for (int d = t.rows->band_begin(s), end = std::min(devices, t.rows->band_end(s)); d < end; ++d) {
      const std::int64_t r = d == s ? 0 : t.at(s, d);
      if (r == 0) continue;
      const int split = net.route(s, d, route);
      fn(s, d, double(r) * t.row_bytes, split);
    }
}

struct GroupFlow {
  int dest = -1;         // every pair of a group ends at the same device
  int source_node = -1;  // and starts on the same node
  int bucket = 0;        // ready-time bucket of its sources
  int up = -1;           // its route: up_paths[up] (source side), then down_paths[down]
  int down = -1;
  int pairs = 0;  // its weight in max-min sharing
  double bytes = 0;
  double latency_s = 0;  // longest route latency of its pairs, charged before its bytes move
};

struct PortFlow {
  int source = -1;
  int link = -1;  // a link only `source` sends into, left out of the routes of its merged groups
  double bytes = 0;
};

struct AggregatedLoad {
  int buckets = 1;
  int gpus_per_node = 1;
  std::vector<int> bucket_of;                    // per source device
  std::vector<int> link_ids;                     // links with traffic (accounting)
  std::vector<std::vector<double>> bytes;        // per entry of link_ids: {bytes}
  double class_bytes[kLinkClasses] = {0, 0, 0};  // bytes of flows that use each link class (once per flow)

  std::vector<std::vector<int>> up_paths, down_paths;
  std::vector<GroupFlow> groups;
  std::vector<PortFlow> ports;
  std::vector<std::vector<int>> port_nodes;  // per device: source nodes whose port flows carry bytes to it
  // Per device: an estimate of when it has received everything (the ready_key of the next step): the
  // latest ready_key of its senders plus the drain time of the busiest link on its routes.
  std::vector<double> ready_after;

  // SimGrid endpoints, created by the first step that uses this load (all chunks of a phase share
  // them): (up path, weight) -> endpoint, down path -> endpoint.
  mutable std::map<std::pair<int, int>, int> up_endpoint;
  mutable std::map<int, int> down_endpoint;
};

// `ready_key`: an estimate of when each source becomes ready. A group flow only merges sources of one
// ready-time bucket: buckets <= 0, sources with the same estimate; k > 0, estimates within 1/k of the
// step's busiest-link drain time of each other.
AggregatedLoad aggregate_step(const NetworkGraph& net, const StepTraffic& t,
                              const std::vector<double>& ready_key, int buckets, int gpus_per_node);

}  // namespace occult
