#include "sim/engine/link_drain.hpp"

#include <algorithm>
#include <map>

#include "sim/engine/fan_out.hpp"

namespace occult {
namespace {

bool intra_node_only(const StepTraffic& t, int g) {
  const int n = t.rows->size();
  for (int s = 0; s < n; ++s)
    for (int d = 0; d < n; ++d)
      if (s / g != d / g && t.at(s, d) != 0) return false;
  return true;
}

}  // namespace

DrainLoad drain_load(const NetworkGraph& net, const StepTraffic& t, const std::vector<double>& key,
                     int buckets, int gpus_per_node) {
  const int n = t.rows->size();
  DrainLoad out;
  out.gpus_per_node = gpus_per_node;
  out.per_node_scope = net.devices() > gpus_per_node && intra_node_only(t, gpus_per_node);
  out.latency_into.assign(n, 0.0);
  out.receives.assign(n, 0);
  out.bucket_of.assign(n, 0);
  out.dest_entries.resize(n);
  if (n == 0) return out;
  const auto [lo, hi] = std::minmax_element(key.begin(), key.end());
  const double width = *hi - *lo;
  out.buckets = width > 1e-12 ? std::max(1, buckets) : 1;
  for (int s = 0; s < n; ++s)
    out.bucket_of[s] =
        out.buckets == 1 ? 0 : std::min(out.buckets - 1, int((key[s] - *lo) / width * out.buckets));

  std::vector<int> slot(net.links().size(), -1);
  std::vector<int> route;
  auto entry = [&](int l) {
    if (slot[l] < 0) {
      slot[l] = int(out.link_ids.size());
      out.link_ids.push_back(l);
      out.bytes.emplace_back(out.buckets, 0.0);
      out.source_side.push_back(0);
    }
    return slot[l];
  };
  for (int s = 0; s < n; ++s) {
    const int b = out.bucket_of[s];
    for (int d = 0; d < n; ++d) {
      const std::int64_t r = d == s ? 0 : t.at(s, d);
      if (r == 0) continue;
      const int split = net.route(s, d, route);
      const double bytes = double(r) * t.row_bytes;
      bool seen[kLinkClasses] = {false, false, false};
      for (int i = 0; i < int(route.size()); ++i) {
        seen[int(net.links()[route[i]].cls)] = true;
        const int e = entry(route[i]);
        out.bytes[e][b] += bytes;
        if (i < split) {
          out.source_side[e] = 1;
        } else {
          auto& mine = out.dest_entries[d];
          if (std::find(mine.begin(), mine.end(), e) == mine.end()) mine.push_back(e);
        }
      }
      for (int c = 0; c < kLinkClasses; ++c)
        if (seen[c]) out.class_bytes[c] += bytes;
      out.latency_into[d] = std::max(out.latency_into[d], net.route_latency(route, t.messages));
      out.receives[d] = 1;
    }
  }
  // The same ready-time estimate as the grouped model's (flow_groups.hpp): the latest sender plus the
  // drain time of the busiest link on the device's routes.
  std::vector<double> drain_s(out.link_ids.size(), 0.0);
  for (std::size_t i = 0; i < out.link_ids.size(); ++i) {
    double total = 0;
    for (double b : out.bytes[i]) total += b;
    drain_s[i] = total / net.links()[std::size_t(out.link_ids[i])].bandwidth_Bps;
  }
  out.ready_after = key;
  std::vector<double> senders_ready(std::size_t(n), 0.0), busiest(std::size_t(n), -1.0);
  for (int s = 0; s < n; ++s)
    for (int d = 0; d < n; ++d) {
      if (d == s || t.at(s, d) == 0) continue;
      net.route(s, d, route);
      senders_ready[d] = std::max(senders_ready[d], key[s]);
      for (int l : route) busiest[d] = std::max(busiest[d], drain_s[slot[l]]);
    }
  for (int d = 0; d < n; ++d)
    if (busiest[d] >= 0) out.ready_after[d] = std::max(key[d], senders_ready[d]) + busiest[d];
  return out;
}

std::vector<int> link_drain_step(SgBackend& sg, const NetworkGraph& net, const DrainLoad& load, double scale,
                                 const std::vector<int>& gate, int control) {
  const int n = int(gate.size());
  auto scope_of_link = [&](int l) { return load.per_node_scope ? net.links()[l].node : 0; };
  auto scope_of_device = [&](int d) { return load.per_node_scope ? d / load.gpus_per_node : 0; };
  std::map<std::pair<int, int>, int> bucket_join;  // (scope, bucket) -> join of its sources' gates
  std::map<std::pair<int, int>, FanOut> bucket_fan;
  std::map<int, int> barrier;                          // scope -> its source-side links have drained
  std::vector<int> drained(load.link_ids.size(), -1);  // destination-side entries: all buckets drained
  for (std::size_t i = 0; i < load.link_ids.size(); ++i) {
    const int l = load.link_ids[i];
    const int scope = scope_of_link(l);
    int sink = -1;
    if (load.source_side[i]) {
      auto [it, fresh] = barrier.try_emplace(scope, -1);
      if (fresh) it->second = sg.delay(control, 0);
      sink = it->second;
    } else {
      sink = drained[i] = sg.delay(control, 0);
    }
    for (int b = 0; b < load.buckets; ++b) {
      const double bytes = load.bytes[i][b] * scale;
      if (bytes <= 0) continue;
      auto [jit, fresh] = bucket_join.try_emplace({scope, b}, -1);
      if (fresh) {
        jit->second = sg.delay(control, 0);
        bucket_fan.emplace(std::pair{scope, b}, FanOut(sg, jit->second, control));
      }
      const int f = sg.link_flow(l, bytes);
      sg.depends(f, bucket_fan.at({scope, b}).next());
      sg.depends(sink, f);
    }
  }
  for (int s = 0; s < n; ++s) {
    auto it = bucket_join.find({scope_of_device(s), load.bucket_of[s]});
    if (it != bucket_join.end()) sg.depends(it->second, gate[s]);
  }
  std::map<int, FanOut> barrier_fan;
  for (auto& [scope, act] : barrier) barrier_fan.emplace(scope, FanOut(sg, act, control));
  std::map<int, FanOut> drained_fan;
  std::vector<int> end(n);
  for (int d = 0; d < n; ++d) {
    end[d] = sg.delay(d, load.receives[d] ? load.latency_into[d] : 0.0);
    sg.depends(end[d], gate[d]);
    if (!load.receives[d]) continue;
    const auto it = barrier_fan.find(scope_of_device(d));
    if (it != barrier_fan.end()) sg.depends(end[d], it->second.next());
    for (int e : load.dest_entries[d]) {
      if (drained[e] < 0) continue;  // also on some source side: covered by the barrier
      auto [fit, fresh] = drained_fan.try_emplace(e, sg, drained[e], control);
      sg.depends(end[d], fit->second.next());
    }
  }
  return end;
}

}  // namespace occult
