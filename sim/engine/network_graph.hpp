#pragma once
// The cluster as unidirectional links and a deterministic route between any two GPUs. This is the
// project's own routing (not SimGrid's zones): SimGrid's hierarchical zones cannot express a GPU that
// sits both behind an NVSwitch and on its own NIC rail, so the engine hands SimGrid explicit routes.
#include <map>
#include <string>
#include <vector>

#include "sim/core/layer_work.hpp"
#include "sim/core/topology.hpp"

namespace occult {

enum class LinkClass { NVLink = 0, PCIe = 1, Network = 2 };
inline constexpr int kLinkClasses = 3;
const char* link_class_name(LinkClass c);  // "nvlink", "pcie", "network" (the calibration's keys)

struct NetLink {
  std::string name;
  LinkClass cls = LinkClass::Network;
  double bandwidth_Bps = 0;
  double latency_s = 0;
  int node = -1;  // node the link lies inside; -1 for NICs' fabric side and switch links
};

class NetworkGraph {
 public:
  // `devices` GPUs are used (the first ones); the calibration's per-class corrections apply here.
  NetworkGraph(const TopologySpec& topo, int devices, const LinkCorrections& corrections);

  int devices() const { return devices_; }
  int gpus_per_node() const { return g_; }
  const std::vector<NetLink>& links() const { return links_; }
  // Links from GPU src to GPU dst (src != dst), in order; `out` is overwritten. Returns where the
  // destination side begins: out[ret..] only carry traffic towards dst's part of the tree (its NIC, its
  // leaf's downlinks, its PCIe/NVLink port), out[..ret) are the source side and the fabric's middle.
  int route(int src, int dst, std::vector<int>& out) const;
  // Seconds before a pair's bytes move on `route`: the calibrated floor of the classes it enters (the
  // largest) or, for uncalibrated classes, the topology's per-hop latencies; plus the calibrated cost
  // of each message per peer beyond the first of an exchange of `messages`.
  double route_latency(const std::vector<int>& route, int messages = 1) const;

 private:
  int add(std::string name, LinkClass cls, const LinkParams& p, int node, double factor = 1);
  void build_intra();
  void build_fabric();
  int intra_route(int src, int dst, std::vector<int>& out) const;
  int fabric_route(int src_nic, int dst_nic, int src_gpu, int dst_gpu, std::vector<int>& out) const;
  int nic_of(int gpu, int rail) const { return (gpu / g_) * topo_.nics_per_node + rail; }
  // The physical GPU of simulated GPU `gpu` (TopologySpec::node_of).
  int physical(int gpu) const {
    return node_of_.empty() ? gpu : node_of_[std::size_t(gpu / g_)] * g_ + gpu % g_;
  }
  // Hashed ECMP: the uplink port (0 <= port < ports) a flow from GPU a to GPU b takes at `level`.
  int hash_port(int a, int b, int level, int ports) const;
  int rail_of(int gpu) const { return (gpu % g_) / (g_ / topo_.nics_per_node); }
  int leaf_of(int nic) const;

  TopologySpec topo_;
  int devices_ = 0, g_ = 1, nodes_ = 1;
  double factor_[kLinkClasses] = {1, 1, 1};
  double floor_[kLinkClasses] = {-1, -1, -1};  // < 0: not calibrated
  double message_[kLinkClasses] = {0, 0, 0};
  std::vector<NetLink> links_;

  // Link ids by role; -1 where a role does not exist in this topology.
  std::vector<int> nv_up_, nv_down_;          // NVSwitch: per GPU
  std::vector<int> nv_direct_;                // direct NVLink: per node, G x G (src-major)
  std::vector<int> pcie_up_, pcie_down_;      // per GPU
  std::vector<int> bridge_up_, bridge_down_;  // per PCIe switch
  std::vector<int> nic_up_, nic_down_;        // per NIC
  // Fat tree: per leaf (pod) its uplinks, leaf_ports_ (pod_ports_) each: one bundle when spraying,
  // one link per port with hashed ECMP.
  std::vector<int> leaf_up_, leaf_down_;
  std::vector<int> pod_up_, pod_down_;  // 3 levels
  int leaves_per_rail_ = 0, nics_per_leaf_ = 1, leaves_per_pod_ = 1, leaf_ports_ = 1, pod_ports_ = 1;
  std::vector<int> node_of_;               // simulated node -> physical node; empty: the same
  std::vector<int> router_of_node_;        // dragonfly / torus
  std::vector<int> df_local_, df_global_;  // dragonfly: per (group, router, router), per (group, group)
  std::vector<int> torus_links_;           // torus: per (node, dim, dir)
  bool pxn_ = false;                       // cross-rail traffic hops over NVLink to the destination rail
};

}  // namespace occult
