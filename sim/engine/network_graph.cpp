#include "sim/engine/network_graph.hpp"

#include <algorithm>

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
  build_intra();
  if (nodes_ > 1) build_fabric();
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
      // Leaves have radix/2 ports down; their uplinks (radix/2 / oversubscription ports) are one bundle:
      // a fluid model of ideal ECMP. Higher levels are not oversubscribed.
      nics_per_leaf_ = std::max(1, topo_.radix / 2);
      leaves_per_rail_ = ceil_div(nodes_, nics_per_leaf_);
      const int leaves = topo_.fabric == Fabric::RailOptimized ? leaves_per_rail_ * topo_.nics_per_node
                                                               : ceil_div(nics, nics_per_leaf_);
      const double leaf_factor = nics_per_leaf_ / topo_.oversubscription;
      for (int l = 0; l < leaves; ++l) {
        const std::string name = "leaf" + std::to_string(l) + ".uplinks";
        leaf_up_.push_back(add(name + ".up", LinkClass::Network, topo_.fabric_link, -1, leaf_factor));
        leaf_down_.push_back(add(name + ".down", LinkClass::Network, topo_.fabric_link, -1, leaf_factor));
      }
      if (topo_.levels == 3) {
        leaves_per_pod_ = std::max(1, topo_.radix / 2);
        for (int p = 0; p < ceil_div(leaves, leaves_per_pod_); ++p) {
          const std::string name = "pod" + std::to_string(p) + ".uplinks";
          const double f = leaf_factor * leaves_per_pod_;
          pod_up_.push_back(add(name + ".up", LinkClass::Network, topo_.fabric_link, -1, f));
          pod_down_.push_back(add(name + ".down", LinkClass::Network, topo_.fabric_link, -1, f));
        }
      }
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

int NetworkGraph::fabric_route(int s, int d, std::vector<int>& out) const {
  out.push_back(nic_up_[s]);
  int split = -1;
  switch (topo_.fabric) {
    case Fabric::FatTree:
    case Fabric::RailOptimized: {
      const int ls = leaf_of(s), ld = leaf_of(d);
      if (ls != ld) {
        out.push_back(leaf_up_[ls]);
        const int ps = ls / leaves_per_pod_, pd = ld / leaves_per_pod_;
        if (!pod_up_.empty() && ps != pd) out.push_back(pod_up_[ps]);
        split = int(out.size());
        if (!pod_up_.empty() && ps != pd) out.push_back(pod_down_[pd]);
        out.push_back(leaf_down_[ld]);
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
  const int split = fabric_route(nic_of(a, rail), nic_of(b, rb), out);
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
