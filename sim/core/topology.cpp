#include "sim/core/topology.hpp"

#include <toml++/toml.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "sim/core/toml_reader.hpp"
#include "sim/core/toml_text.hpp"

namespace occult {
namespace {

// Reads one TOML table and remembers which keys were consumed, so that a misspelt key is an error
// instead of a silently ignored setting.

// A link table: bandwidth in GB/s (bytes) or Gb/s (bits), exactly one of them, and latency in us.
LinkParams read_link(TableReader& parent, const std::string& key, bool required) {
  const toml::table* t = parent.sub(key);
  if (!t) {
    if (required) parent.fail(key, "missing required table [" + parent.field(key) + "]");
    return {};
  }
  TableReader r(*t, parent.file(), parent.field(key));
  LinkParams p;
  const bool bytes = r.has("bandwidth_GBps"), bits = r.has("bandwidth_Gbps");
  if (bytes == bits)
    r.fail("bandwidth_GBps", "give exactly one of bandwidth_GBps (bytes/s) or bandwidth_Gbps (bits/s)");
  const std::string bkey = bytes ? "bandwidth_GBps" : "bandwidth_Gbps";
  const double bw = r.number(bkey);
  if (!(bw > 0) || !std::isfinite(bw)) r.fail(bkey, "must be > 0, got " + std::to_string(bw));
  p.bandwidth_Bps = bytes ? bw * 1e9 : bw * 1e9 / 8;
  const double lat = r.number("latency_us", 0.0);
  if (!(lat >= 0) || !std::isfinite(lat)) r.fail("latency_us", "must be >= 0, got " + std::to_string(lat));
  p.latency_s = lat * 1e-6;
  r.reject_unknown();
  return p;
}

IntraNode parse_intra(TableReader& r) {
  const std::string s = r.text("intra", std::string("nvswitch"));
  if (s == "nvswitch") return IntraNode::NVSwitch;
  if (s == "nvlink-direct") return IntraNode::NVLinkDirect;
  if (s == "pcie") return IntraNode::PCIe;
  if (s == "none") return IntraNode::None;
  r.fail("intra", "unknown value '" + s + "' (nvswitch, nvlink-direct, pcie, none)");
}

Fabric parse_fabric_kind(TableReader& r) {
  const std::string s = r.text("kind");
  if (s == "none") return Fabric::None;
  if (s == "fat-tree") return Fabric::FatTree;
  if (s == "rail-optimized") return Fabric::RailOptimized;
  if (s == "dragonfly") return Fabric::Dragonfly;
  if (s == "torus") return Fabric::Torus;
  r.fail("kind", "unknown value '" + s + "' (none, fat-tree, rail-optimized, dragonfly, torus)");
}

void read_fabric(TableReader& top, TopologySpec& t) {
  const toml::table* ft = top.sub("fabric");
  if (!ft) return;  // single node
  TableReader r(*ft, top.file(), "fabric");
  t.fabric = parse_fabric_kind(r);
  t.nics_per_node = r.integer("nics_per_node", t.gpus_per_node);
  t.oversubscription = r.number("oversubscription", 1.0);
  t.levels = r.integer("levels", 2);
  t.pod_oversubscription = r.number("pod_oversubscription", 1.0);
  const std::string ecmp = r.text("ecmp", std::string("spray"));
  if (ecmp == "hash")
    t.ecmp = Ecmp::Hash;
  else if (ecmp != "spray")
    r.fail("ecmp", "unknown value '" + ecmp + "' (spray, hash)");
  const std::int64_t seed = r.integer("ecmp_seed", 0);
  if (seed < 0) r.fail("ecmp_seed", "must be >= 0");
  t.ecmp_seed = std::uint64_t(seed);
  t.radix = r.integer("radix", 64);
  t.torus_dims = r.int_list("torus_dims");
  t.dragonfly_groups = r.integer("dragonfly_groups", 0);
  t.dragonfly_routers_per_group = r.integer("dragonfly_routers_per_group", 0);
  const bool needs = t.fabric != Fabric::None;
  t.nic = read_link(r, "nic", needs);
  t.fabric_link =
      read_link(r, "link", needs && t.fabric != Fabric::FatTree && t.fabric != Fabric::RailOptimized);
  if (t.fabric_link.bandwidth_Bps == 0)
    t.fabric_link = t.nic;  // fat trees: switch links default to NIC speed
  r.reject_unknown();
}

void check_link(const LinkParams& p, const std::string& where, const std::string& field) {
  if (!(p.bandwidth_Bps > 0) || !std::isfinite(p.bandwidth_Bps))
    throw InputError(where, 0, field + ".bandwidth", "must be > 0");
  if (!(p.latency_s >= 0) || !std::isfinite(p.latency_s))
    throw InputError(where, 0, field + ".latency_us", "must be >= 0");
}

// The line an error about `field` points at: the key itself (bandwidth errors name either spelling of
// it), else the nearest table around it that is in the file, else the key the check follows from (a
// fabric needed by `nodes`, a switch size needed by `gpus_per_node`).
long line_for(const toml::table& root, const std::string& field) {
  auto line_of = [&](const std::string& key) -> long {
    const toml::node* n = root.at_path(key).node();
    return n ? long(n->source().begin.line) : 0;
  };
  for (const char* suffix : {"", "_GBps", "_Gbps"})
    if (const long l = line_of(field + suffix)) return l;
  for (std::string up = field; up.find('.') != std::string::npos;) {
    up.erase(up.rfind('.'));
    if (const long l = line_of(up)) return l;
  }
  return line_of(field.rfind("fabric", 0) == 0 ? "nodes" : "gpus_per_node");
}

}  // namespace

TopologySpec load_topology(const std::string& path) {
  const toml::table root = parse_toml_file(path, "topology file");
  TopologySpec t;
  t.source = path;
  TableReader r(root, path, "");
  t.name = r.text("name");
  t.gpu = r.text("gpu", std::string());
  t.gpus_per_node = r.integer("gpus_per_node");
  t.nodes = r.integer("nodes", 1);
  if (t.gpus_per_node < 1) r.fail("gpus_per_node", "must be >= 1");
  if (t.nodes < 1) r.fail("nodes", "must be >= 1");
  t.intra = parse_intra(r);
  t.gpus_per_pcie_switch = r.integer("gpus_per_pcie_switch", 2);
  const bool nv = t.intra == IntraNode::NVSwitch || t.intra == IntraNode::NVLinkDirect;
  t.nvlink = read_link(r, "nvlink", nv && t.gpus_per_node > 1);
  t.pcie = read_link(r, "pcie", t.intra == IntraNode::PCIe);
  t.host_bridge = read_link(r, "host_bridge", t.intra == IntraNode::PCIe);
  t.platform_xml = r.text("platform_xml", std::string());
  read_fabric(r, t);
  r.reject_unknown();
  try {
    validate_topology(t, path);
  } catch (const InputError& e) {
    if (e.line() > 0) throw;
    throw InputError(e.file(), line_for(root, e.field()), e.field(), e.message());
  }
  return t;
}

void validate_topology(const TopologySpec& t, const std::string& where) {
  auto bad = [&](const std::string& field, const std::string& msg) {
    throw InputError(where, 0, field, msg);
  };
  if (t.gpus_per_node < 1) bad("gpus_per_node", "must be >= 1");
  if (t.nodes < 1) bad("nodes", "must be >= 1");
  if (t.gpus_per_node > 1) {
    if (t.intra == IntraNode::None) bad("intra", "'none' needs gpus_per_node = 1");
    if (t.intra == IntraNode::NVSwitch || t.intra == IntraNode::NVLinkDirect)
      check_link(t.nvlink, where, "nvlink");
    if (t.intra == IntraNode::PCIe) {
      check_link(t.pcie, where, "pcie");
      check_link(t.host_bridge, where, "host_bridge");
      if (t.gpus_per_pcie_switch < 1 || t.gpus_per_node % t.gpus_per_pcie_switch != 0)
        bad("gpus_per_pcie_switch", "must be >= 1 and divide gpus_per_node");
    }
  }
  if (t.nodes > 1 && t.fabric == Fabric::None) bad("fabric.kind", "nodes > 1 needs a fabric");
  if (t.fabric == Fabric::None) return;
  check_link(t.nic, where, "fabric.nic");
  check_link(t.fabric_link, where, "fabric.link");
  if (t.nics_per_node < 1 || t.gpus_per_node % t.nics_per_node != 0)
    bad("fabric.nics_per_node", "must be >= 1 and divide gpus_per_node");
  if (!(t.oversubscription >= 1) || !std::isfinite(t.oversubscription))
    bad("fabric.oversubscription", "must be >= 1");
  if (!(t.pod_oversubscription >= 1) || !std::isfinite(t.pod_oversubscription))
    bad("fabric.pod_oversubscription", "must be >= 1");
  if (t.radix < 2) bad("fabric.radix", "must be >= 2");
  if (t.ecmp == Ecmp::Hash && t.fabric != Fabric::FatTree && t.fabric != Fabric::RailOptimized)
    bad("fabric.ecmp", "hash needs a fat-tree or rail-optimized fabric (the others route one path)");
  if ((t.fabric == Fabric::FatTree || t.fabric == Fabric::RailOptimized) && t.levels != 2 && t.levels != 3)
    bad("fabric.levels", "must be 2 or 3");
  if (t.fabric == Fabric::Torus) {
    long prod = 1;
    for (int d : t.torus_dims) {
      if (d < 1) bad("fabric.torus_dims", "every dimension must be >= 1");
      prod *= d;
    }
    if (t.torus_dims.empty() || prod != t.nodes)
      bad("fabric.torus_dims", "product of the dimensions must equal nodes=" + std::to_string(t.nodes));
  }
  if (t.fabric == Fabric::Dragonfly) {
    const long routers = long(t.dragonfly_groups) * t.dragonfly_routers_per_group;
    if (t.dragonfly_groups < 1 || t.dragonfly_routers_per_group < 1)
      bad("fabric.dragonfly_groups", "dragonfly_groups and dragonfly_routers_per_group must be >= 1");
    if (t.nodes % routers != 0)
      bad("fabric.dragonfly_groups", "groups x routers_per_group = " + std::to_string(routers) +
                                         " must divide nodes=" + std::to_string(t.nodes));
  }
}

}  // namespace occult
