#include "sim/engine/network_graph.hpp"

#include <algorithm>
#include <cmath>

#include "sim/core/error.hpp"

namespace occult {

const char* link_class_name(LinkClass c) {
  switch (c) {
    case LinkClass::NVLink:
      return "nvlink";
    case LinkClass::PCIe:
      return "pcie";
    case LinkClass::Network:
      return "network";
  }
  return "?";
}

namespace {
double lookup(const std::map<std::string, double>& m, const char* key, double fallback) {
  auto it = m.find(key);
  return it == m.end() ? fallback : it->second;
}
int ceil_div(int a, int b) { return (a + b - 1) / b; }
}  // namespace

NetworkGraph::NetworkGraph(const TopologySpec& topo, int devices, const LinkCorrections& corrections)
    : topo_(topo), devices_(devices), g_(topo.gpus_per_node), nodes_(ceil_div(devices, topo.gpus_per_node)) {
  for (int c = 0; c < kLinkClasses; ++c) {
    const char* name = link_class_name(LinkClass(c));
    factor_[c] = lookup(corrections.bandwidth_factor, name, 1.0);
    floor_[c] = lookup(corrections.floor_latency_s, name, -1.0);
    message_[c] = lookup(corrections.message_s, name, 0.0);
  }
  if (!topo.node_of.empty()) {
    // A permutation of the simulated nodes: each physical node holds one simulated node.
    std::vector<char> seen(std::size_t(nodes_), 0);
    bool ok = int(topo.node_of.size()) == nodes_;
    for (int n : topo.node_of) {
      ok = ok && n >= 0 && n < nodes_ && !seen[std::size_t(n)];
      if (ok) seen[std::size_t(n)] = 1;
    }
    if (!ok)
      throw InputError(topo.source, 0, "node_of",
                       "must be a permutation of the " + std::to_string(nodes_) + " simulated nodes");
    node_of_ = topo.node_of;
  }
  build_intra();
  if (nodes_ > 1) build_fabric();
}

int NetworkGraph::hash_port(int a, int b, int level, int ports) const {
  // splitmix64 of (seed, a, b, level): deterministic, and independent between levels and seeds.
  std::uint64_t x = topo_.ecmp_seed * 0x9e3779b97f4a7c15ULL + (std::uint64_t(unsigned(a)) << 32) +
                    std::uint64_t(unsigned(b)) + (std::uint64_t(unsigned(level)) << 60);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return int(x % std::uint64_t(ports));
}

int NetworkGraph::add(std::string name, LinkClass cls, const LinkParams& p, int node, double factor) {
  links_.push_back({std::move(name), cls, p.bandwidth_Bps * factor * factor_[int(cls)], p.latency_s, node});
  return int(links_.size()) - 1;
}

void NetworkGraph::build_intra() {
  if (g_ == 1) return;
  const int gpus = nodes_ * g_;
  switch (topo_.intra) {
    case IntraNode::NVSwitch:
      for (int gpu = 0; gpu < gpus; ++gpu) {
        const std::string n = "gpu" + std::to_string(gpu) + ".nvlink";
        nv_up_.push_back(add(n + ".up", LinkClass::NVLink, topo_.nvlink, gpu / g_));
        nv_down_.push_back(add(n + ".down", LinkClass::NVLink, topo_.nvlink, gpu / g_));
      }
      break;
    case IntraNode::NVLinkDirect:
      // Every GPU pair has its own link of the given bandwidth in each direction (NV18 on 2 GPUs).
      for (int node = 0; node < nodes_; ++node)
        for (int a = 0; a < g_; ++a)
          for (int b = 0; b < g_; ++b) {
            nv_direct_.push_back(-1);
            if (a == b) continue;
            const std::string n =
                "node" + std::to_string(node) + ".nvlink." + std::to_string(a) + "-" + std::to_string(b);
            nv_direct_.back() = add(n, LinkClass::NVLink, topo_.nvlink, node);
          }
      break;
    case IntraNode::PCIe: {
      for (int gpu = 0; gpu < gpus; ++gpu) {
        const std::string n = "gpu" + std::to_string(gpu) + ".pcie";
        pcie_up_.push_back(add(n + ".up", LinkClass::PCIe, topo_.pcie, gpu / g_));
        pcie_down_.push_back(add(n + ".down", LinkClass::PCIe, topo_.pcie, gpu / g_));
      }
      const int switches = gpus / topo_.gpus_per_pcie_switch;
      for (int s = 0; s < switches; ++s) {
        const std::string n = "pcie-switch" + std::to_string(s) + ".bridge";
        const int node = s * topo_.gpus_per_pcie_switch / g_;
        bridge_up_.push_back(add(n + ".up", LinkClass::PCIe, topo_.host_bridge, node));
        bridge_down_.push_back(add(n + ".down", LinkClass::PCIe, topo_.host_bridge, node));
      }
      break;
    }
    case IntraNode::None:
      break;
  }
  pxn_ = topo_.intra == IntraNode::NVSwitch && topo_.fabric == Fabric::RailOptimized &&
         topo_.nics_per_node == g_;
}

int NetworkGraph::leaf_of(int nic) const {
  if (topo_.fabric == Fabric::RailOptimized) {
    const int node = nic / topo_.nics_per_node, rail = nic % topo_.nics_per_node;
    return rail * leaves_per_rail_ + node / nics_per_leaf_;
  }
  return nic / nics_per_leaf_;
}

void NetworkGraph::build_fabric() {
  const int nics = nodes_ * topo_.nics_per_node;
  for (int n = 0; n < nics; ++n) {
    const std::string name = "nic" + std::to_string(n);
    nic_up_.push_back(add(name + ".up", LinkClass::Network, topo_.nic, -1));
    nic_down_.push_back(add(name + ".down", LinkClass::Network, topo_.nic, -1));
  }
  switch (topo_.fabric) {
    case Fabric::FatTree:
    case Fabric::RailOptimized: {
      // Leaves have radix/2 ports down and radix/2 / oversubscription ports up; with 3 levels, radix/2
      // leaves form a pod whose uplinks carry its leaves' uplink capacity / pod_oversubscription.
      // Spraying (ideal adaptive routing) makes a switch's uplinks one bundle of their summed capacity;
      // hashed ECMP keeps one link per port and each flow takes one of them.
      nics_per_leaf_ = std::max(1, topo_.radix / 2);
      leaves_per_rail_ = ceil_div(nodes_, nics_per_leaf_);
      const int leaves = topo_.fabric == Fabric::RailOptimized ? leaves_per_rail_ * topo_.nics_per_node
                                                               : ceil_div(nics, nics_per_leaf_);
      const bool hash = topo_.ecmp == Ecmp::Hash;
      const double leaf_capacity = nics_per_leaf_ / topo_.oversubscription;  // in links
      leaves_per_pod_ = std::max(1, topo_.radix / 2);
      const double pod_capacity = leaf_capacity * leaves_per_pod_ / topo_.pod_oversubscription;
      leaf_ports_ = hash ? std::max(1, int(std::lround(leaf_capacity))) : 1;
      pod_ports_ = hash ? std::max(1, int(std::lround(pod_capacity))) : 1;
      auto bundle = [&](std::vector<int>& up, std::vector<int>& down, const std::string& name, int ports,
                        double capacity) {
        for (int k = 0; k < ports; ++k) {
          const std::string n = hash ? name + ".port" + std::to_string(k) : name;
          const double f = hash ? 1.0 : capacity;
          up.push_back(add(n + ".up", LinkClass::Network, topo_.fabric_link, -1, f));
          down.push_back(add(n + ".down", LinkClass::Network, topo_.fabric_link, -1, f));
        }
      };
      for (int l = 0; l < leaves; ++l)
        bundle(leaf_up_, leaf_down_, "leaf" + std::to_string(l) + ".uplinks", leaf_ports_, leaf_capacity);
      if (topo_.levels == 3)
        for (int p = 0; p < ceil_div(leaves, leaves_per_pod_); ++p)
          bundle(pod_up_, pod_down_, "pod" + std::to_string(p) + ".uplinks", pod_ports_, pod_capacity);
      break;
    }
    case Fabric::Dragonfly: {
      const int groups = topo_.dragonfly_groups, rpg = topo_.dragonfly_routers_per_group;
      const int nodes_per_router = std::max(1, topo_.nodes / (groups * rpg));
      for (int n = 0; n < nodes_; ++n) router_of_node_.push_back(n / nodes_per_router);
      for (int g = 0; g < groups; ++g)
        for (int a = 0; a < rpg; ++a)
          for (int b = 0; b < rpg; ++b) {
            df_local_.push_back(-1);
            if (a == b) continue;
            df_local_.back() =
                add("df.g" + std::to_string(g) + ".r" + std::to_string(a) + "-r" + std::to_string(b),
                    LinkClass::Network, topo_.fabric_link, -1);
          }
      for (int a = 0; a < groups; ++a)
        for (int b = 0; b < groups; ++b) {
          df_global_.push_back(-1);
          if (a == b) continue;
          df_global_.back() = add("df.g" + std::to_string(a) + "-g" + std::to_string(b), LinkClass::Network,
                                  topo_.fabric_link, -1);
        }
      break;
    }
    case Fabric::Torus: {
      const int dims = int(topo_.torus_dims.size());
      for (int n = 0; n < topo_.nodes; ++n)
        for (int d = 0; d < dims; ++d)
          for (int dir = 0; dir < 2; ++dir)
            torus_links_.push_back(
                add("torus.n" + std::to_string(n) + ".d" + std::to_string(d) + (dir ? "-" : "+"),
                    LinkClass::Network, topo_.fabric_link, -1));
      break;
    }
    case Fabric::None:
      break;
  }
}

int NetworkGraph::intra_route(int a, int b, std::vector<int>& out) const {
  const int la = a % g_, lb = b % g_;
  const std::size_t begin = out.size();
  switch (topo_.intra) {
    case IntraNode::NVSwitch:
      out.push_back(nv_up_[a]);
      out.push_back(nv_down_[b]);
      return int(begin) + 1;
    case IntraNode::NVLinkDirect:
      out.push_back(nv_direct_[std::size_t(a / g_) * g_ * g_ + la * g_ + lb]);
      return int(begin);
    case IntraNode::PCIe: {
      const int sa = a / topo_.gpus_per_pcie_switch, sb = b / topo_.gpus_per_pcie_switch;
      out.push_back(pcie_up_[a]);
      if (sa != sb) out.push_back(bridge_up_[sa]);
      const int split = int(out.size());
      if (sa != sb) out.push_back(bridge_down_[sb]);
      out.push_back(pcie_down_[b]);
      return split;
    }
    case IntraNode::None:
      break;
  }
  return int(begin);
}

int NetworkGraph::fabric_route(int s, int d, int src_gpu, int dst_gpu, std::vector<int>& out) const {
  out.push_back(nic_up_[s]);
  int split = -1;
  switch (topo_.fabric) {
    case Fabric::FatTree:
    case Fabric::RailOptimized: {
      const int ls = leaf_of(s), ld = leaf_of(d);
      if (ls != ld) {
        // Spraying: one bundle per switch (port 0). Hashing: the leaf uplink leads to spine (or pod
        // switch) k; within a pod that switch reaches the destination leaf on its port k too, across
        // pods the pod uplink and the way down are hashed again.
        const bool hash = topo_.ecmp == Ecmp::Hash;
        const int k = hash ? hash_port(src_gpu, dst_gpu, 0, leaf_ports_) : 0;
        out.push_back(leaf_up_[std::size_t(ls) * leaf_ports_ + k]);
        const int ps = ls / leaves_per_pod_, pd = ld / leaves_per_pod_;
        const bool cross_pod = !pod_up_.empty() && ps != pd;
        const int kp = cross_pod && hash ? hash_port(src_gpu, dst_gpu, 1, pod_ports_) : 0;
        if (cross_pod) out.push_back(pod_up_[std::size_t(ps) * pod_ports_ + kp]);
        split = int(out.size());
        if (cross_pod) out.push_back(pod_down_[std::size_t(pd) * pod_ports_ + kp]);
        const int kd = cross_pod && hash ? hash_port(src_gpu, dst_gpu, 2, leaf_ports_) : k;
        out.push_back(leaf_down_[std::size_t(ld) * leaf_ports_ + kd]);
      }
      break;
    }
    case Fabric::Dragonfly: {
      // Minimal routing: local hop to the router that owns the global link, global hop, local hop.
      const int rpg = topo_.dragonfly_routers_per_group, groups = topo_.dragonfly_groups;
      const int rs = router_of_node_[s / topo_.nics_per_node], rd = router_of_node_[d / topo_.nics_per_node];
      const int gs = rs / rpg, gd = rd / rpg;
      auto local = [&](int g, int a, int b) {
        if (a != b) out.push_back(df_local_[std::size_t(g) * rpg * rpg + a * rpg + b]);
      };
      if (gs == gd) {
        local(gs, rs % rpg, rd % rpg);
      } else {
        const int gw_s = gd % rpg, gw_d = gs % rpg;
        local(gs, rs % rpg, gw_s);
        out.push_back(df_global_[std::size_t(gs) * groups + gd]);
        local(gd, gw_d, rd % rpg);
      }
      break;
    }
    case Fabric::Torus: {
      // Dimension-order routing along the shorter way round each ring (ties go the + way).
      const auto& dims = topo_.torus_dims;
      const int nd = int(dims.size());
      int cur = s / topo_.nics_per_node;
      const int dst = d / topo_.nics_per_node;
      int stride = 1;
      for (int k = 0; k < nd; ++k) {
        const int size = dims[k];
        const int cs = (cur / stride) % size, cd = (dst / stride) % size;
        const int fwd = (cd - cs + size) % size;
        const bool plus = fwd <= size - fwd;
        const int steps = plus ? fwd : size - fwd;
        int c = cs;
        for (int i = 0; i < steps; ++i) {
          out.push_back(torus_links_[(std::size_t(cur) * nd + k) * 2 + (plus ? 0 : 1)]);
          const int next = plus ? (c + 1) % size : (c - 1 + size) % size;
          cur += (next - c) * stride;
          c = next;
        }
        stride *= size;
      }
      break;
    }
    case Fabric::None:
      break;
  }
  if (split < 0) split = int(out.size());
  out.push_back(nic_down_[d]);
  return split;
}

int NetworkGraph::route(int a, int b, std::vector<int>& out) const {
  out.clear();
  a = physical(a);
  b = physical(b);
  if (a / g_ == b / g_) return intra_route(a, b, out);
  const int ra = rail_of(a), rb = rail_of(b);
  int rail = ra;
  if (pxn_ && ra != rb) {
    // PXN (NCCL, DeepEP): move to the GPU on the destination's rail over NVLink, then stay on one rail.
    out.push_back(nv_up_[a]);
    out.push_back(nv_down_[(a / g_) * g_ + rb]);
    rail = rb;
  }
  if (topo_.intra == IntraNode::PCIe) out.push_back(pcie_up_[a]);
  const int split = fabric_route(nic_of(a, rail), nic_of(b, rb), a, b, out);
  if (topo_.intra == IntraNode::PCIe) out.push_back(pcie_down_[b]);
  return split;
}

// A calibrated class's floor was measured over the whole route of its calibration machine, so it
// stands for that class's hops once, however many the route has; uncalibrated hops add their latency.
double NetworkGraph::route_latency(const std::vector<int>& r, int messages) const {
  double l = 0, floor = 0, message = 0;
  for (int id : r) {
    const int c = int(links_[std::size_t(id)].cls);
    if (floor_[c] >= 0) {
      floor = std::max(floor, floor_[c]);
    } else {
      l += links_[std::size_t(id)].latency_s;
    }
    message = std::max(message, message_[c]);
  }
  return l + floor + double(std::max(messages, 1) - 1) * message;
}

}  // namespace occult
