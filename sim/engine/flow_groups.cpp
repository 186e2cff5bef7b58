#include "sim/engine/flow_groups.hpp"

#include <algorithm>
#include <unordered_map>

namespace occult {
namespace {

constexpr int kShared = -2;  // lead_source: the link is not private to one source's first hop
// A port is split off only if it drains in at most this share of the time of its route's busiest link.
constexpr double kPortSlack = 0.3;

struct PathHash {
  std::size_t operator()(const std::vector<int>& v) const {
    std::size_t h = v.size();
    for (int x : v) h = h * 1000003u ^ std::size_t(unsigned(x));
    return h;
  }
};
using PathIndex = std::unordered_map<std::vector<int>, int, PathHash>;

int intern(PathIndex& index, std::vector<std::vector<int>>& pool, std::vector<int> path) {
  auto [it, fresh] = index.try_emplace(std::move(path), int(pool.size()));
  if (fresh) pool.push_back(it->first);
  return it->second;
}

}  // namespace

AggregatedLoad aggregate_step(const NetworkGraph& net, const StepTraffic& t, const std::vector<double>& key,
                              int buckets, int gpus_per_node) {
  const int n = t.rows->size();
  const int g = gpus_per_node;
  AggregatedLoad out;
  out.gpus_per_node = g;
  out.bucket_of.assign(n, 0);
  out.port_nodes.resize(n);
  if (n == 0) return out;
  // Pass 1: per-link accounting, and which links only ever carry one source's first hop.
  const std::size_t links = net.links().size();
  std::vector<int> slot(links, -1);
  std::vector<int> lead_source(links, -1);
  std::vector<int> route;
  auto for_each_pair = [&](auto&& fn) { for_each_routed_pair(net, t, n, route, fn); };
  for_each_pair([&](int s, int, double bytes, int) {
    bool seen[kLinkClasses] = {false, false, false};
    for (std::size_t i = 0; i < route.size(); ++i) {
      const int l = route[i];
      if (slot[l] < 0) {
        slot[l] = int(out.link_ids.size());
        out.link_ids.push_back(l);
        out.bytes.emplace_back(1, 0.0);
      }
      out.bytes[slot[l]][0] += bytes;
      seen[int(net.links()[l].cls)] = true;
      int& lead = lead_source[l];
      if (i > 0 || (lead >= 0 && lead != s))
        lead = kShared;
      else if (lead == -1)
        lead = s;
    }
    for (int c = 0; c < kLinkClasses; ++c)
      if (seen[c]) out.class_bytes[c] += bytes;
  });

  // Ready-time buckets. buckets <= 0: one per distinct ready_key (only senders estimated to be ready
  // at the same time merge). Else a quantum of 1/buckets of the step's busiest link drain: fewer
  // flows, but a merged group waits up to a quantum (plus the estimate's error) for its latest source.
  std::vector<double> drain_s(links, 0.0);
  double step_s = 0;
  for (std::size_t i = 0; i < out.link_ids.size(); ++i) {
    const int l = out.link_ids[i];
    drain_s[l] = out.bytes[i][0] / net.links()[l].bandwidth_Bps;
    step_s = std::max(step_s, drain_s[l]);
  }
  if (buckets <= 0) {
    std::vector<double> distinct(key);
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    for (int s = 0; s < n; ++s)
      out.bucket_of[s] = int(std::lower_bound(distinct.begin(), distinct.end(), key[s]) - distinct.begin());
    out.buckets = int(distinct.size());
  } else {
    const double lo = *std::min_element(key.begin(), key.end());
    const double quantum = step_s / buckets;
    for (int s = 0; s < n; ++s) {
      out.bucket_of[s] = quantum > 0 ? int(std::min(1e9, (key[s] - lo) / quantum)) : 0;
      out.buckets = std::max(out.buckets, out.bucket_of[s] + 1);
    }
  }

  // A pair's group key: (source node, bucket, destination, route without its private first hop). Pass 2
  // counts the sources per key; a key with one source keeps its first hop (nothing to merge, and that
  // hop may be the bottleneck, e.g. a NIC in a relay stage).
  auto merge_key = [&](int s, int d) {
    std::vector<int> k{s / g, out.bucket_of[s], d};
    k.insert(k.end(), route.begin() + 1, route.end());
    return k;
  };
  // The port flow drains on its own, so the max-min coupling between the port and the rest of the route
  // is lost: only worth it where the port is far from being the bottleneck (PXN's NVLink hop before a
  // NIC), not where it is as loaded as the rest (an all-to-all inside an NVSwitch or PCIe node).
  auto mergeable = [&](int s) {
    if (route.size() < 2 || lead_source[route[0]] != s) return false;
    double rest = 0;
    for (std::size_t i = 1; i < route.size(); ++i) rest = std::max(rest, drain_s[route[i]]);
    return drain_s[route[0]] <= kPortSlack * rest;
  };
  PathIndex sources_of;  // key -> its one source, or kShared for several
  for_each_pair([&](int s, int d, double, int) {
    if (!mergeable(s)) return;
    auto [it, fresh] = sources_of.try_emplace(merge_key(s, d), s);
    if (!fresh && it->second != s) it->second = kShared;
  });

  out.ready_after = key;
  std::vector<double> senders_ready(n, 0.0), busiest(n, -1.0);

  // Pass 3: the group flows and the port flows.
  PathIndex group_of, up_index, down_index;
  std::vector<int> port_of(links, -1);
  for_each_pair([&](int s, int d, double bytes, int split) {
    senders_ready[d] = std::max(senders_ready[d], key[s]);
    for (int l : route) busiest[d] = std::max(busiest[d], drain_s[l]);
    std::vector<int> k;
    int first = 0;
    if (mergeable(s)) {
      k = merge_key(s, d);
      if (sources_of.at(k) == kShared) {
        first = 1;
        int& p = port_of[route[0]];
        if (p < 0) {
          p = int(out.ports.size());
          out.ports.push_back({s, route[0], 0.0});
        }
        out.ports[p].bytes += bytes;
        auto& nodes = out.port_nodes[d];
        if (std::find(nodes.begin(), nodes.end(), s / g) == nodes.end()) nodes.push_back(s / g);
      }
    }
    if (first == 0) {
      k = {s / g, out.bucket_of[s], d, -1};  // -1: cannot collide with a merged key's first link
      k.insert(k.end(), route.begin(), route.end());
    }
    auto [it, fresh] = group_of.try_emplace(std::move(k), int(out.groups.size()));
    if (fresh) {
      const int cut = std::max(first, split);
      GroupFlow& gf = out.groups.emplace_back();
      gf.dest = d;
      gf.source_node = s / g;
      gf.bucket = out.bucket_of[s];
      gf.up = intern(up_index, out.up_paths, {route.begin() + first, route.begin() + cut});
      gf.down = intern(down_index, out.down_paths, {route.begin() + cut, route.end()});
    }
    GroupFlow& gf = out.groups[it->second];
    ++gf.pairs;
    gf.bytes += bytes;
    gf.latency_s = std::max(gf.latency_s, net.route_latency(route, t.messages));
  });
  for (int d = 0; d < n; ++d)
    if (busiest[d] >= 0) out.ready_after[d] = std::max(key[d], senders_ready[d]) + busiest[d];
  return out;
}

}  // namespace occult
