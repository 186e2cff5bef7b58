#pragma once
// Cluster descriptions (topologies/*.toml, docs/topologies.md): the GPUs, how they are linked inside a
// node, and the fabric between nodes. Core model: no SimGrid here; sim/engine turns it into a platform.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/cluster_shape.hpp"

namespace occult {

enum class IntraNode { NVSwitch, NVLinkDirect, PCIe, None };
enum class Fabric { None, FatTree, RailOptimized, Dragonfly, Torus };
// How a fat tree's switches spread flows over their uplinks: spray (ideal adaptive routing: a switch's
// uplinks act as one bundle) or hash (static ECMP: each flow takes one uplink per level, chosen by a
// hash of its endpoints and a seed, so flows can collide on one uplink while another idles).
enum class Ecmp { Spray, Hash };

struct LinkParams {
  double bandwidth_Bps = 0;  // per direction
  double latency_s = 0;
};

struct TopologySpec {
  std::string name;
  std::string source;  // file it came from
  std::string gpu;     // the GPU model, e.g. "NVIDIA H200" (optional): a profile of another warns

  int gpus_per_node = 8;
  int nodes = 1;

  // Inside a node.
  IntraNode intra = IntraNode::NVSwitch;
  LinkParams nvlink;  // per GPU into the NVSwitch (or per direct link)
  LinkParams pcie;    // GPU <-> PCIe switch
  int gpus_per_pcie_switch = 2;
  LinkParams host_bridge;  // PCIe switch <-> host (CPU root complex / inter-socket path)

  // Between nodes.
  Fabric fabric = Fabric::None;
  LinkParams nic;  // one NIC per GPU (rail-optimized) or per node
  int nics_per_node = 8;
  LinkParams fabric_link;       // switch-to-switch links
  double oversubscription = 1;  // leaf uplink oversubscription (>= 1)
  int levels = 2;               // fat tree: 2 or 3
  // 3-level fat tree: a pod's uplinks carry the pod's leaf uplink capacity / this (>= 1).
  double pod_oversubscription = 1;
  Ecmp ecmp = Ecmp::Spray;
  std::uint64_t ecmp_seed = 0;  // hash: the same seed gives the same paths
  int radix = 64;               // switch ports
  std::vector<int> torus_dims;  // torus: nodes per dimension
  int dragonfly_groups = 0, dragonfly_routers_per_group = 0;

  std::string platform_xml;  // when set: a SimGrid platform file used as is (hosts named gpu-<i>)

  // Where the simulated nodes sit: node i of the simulation (GPUs [i G, (i + 1) G)) is physical node
  // node_of[i] of the fabric. Empty: node i is node i. Set by a scenario's cluster.group_placement, so
  // that an expert-parallel group can be spread over leaves as a scheduler that does not know about
  // expert parallelism places it; must then be a permutation of the simulated nodes.
  std::vector<int> node_of;

  ClusterShape shape() const { return {gpus_per_node * nodes, gpus_per_node}; }
};

// Parses a topology TOML file; InputError names file, line and field (e.g. negative bandwidth).
TopologySpec load_topology(const std::string& path);
// Re-checks a spec after overrides (e.g. `--set cluster.nodes=128`).
void validate_topology(const TopologySpec& t, const std::string& where);

}  // namespace occult
