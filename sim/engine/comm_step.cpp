#include "sim/engine/comm_step.hpp"

#include <algorithm>
#include <map>

namespace occult {
namespace {

// SimGrid checks for duplicate successors with a linear scan, so an activity with n successors costs
// O(n^2) to wire. FanOut hands out intermediate zero-length joins, each with at most kFan successors.
class FanOut {
 public:
  static constexpr int kFan = 64;
  FanOut(SgBackend& sg, int root, int host) : sg_(sg), root_(root), host_(host) {}
  int next() {
    if (used_ == kFan || current_ < 0) {
      current_ = sg_.delay(host_, 0);
      sg_.depends(current_, root_);
      used_ = 0;
    }
    ++used_;
    return current_;
  }

 private:
  SgBackend& sg_;
  int root_, host_, current_ = -1, used_ = 0;
};

}  // namespace

bool StepTraffic::intra_node_only(int g) const {
  const int n = rows->size();
  for (int s = 0; s < n; ++s)
    for (int d = 0; d < n; ++d)
      if (s / g != d / g && at(s, d) != 0) return false;
  return true;
}

AggregatedLoad aggregate_step(const NetworkGraph& net, const StepTraffic& t, const std::vector<double>& key,
                              int buckets, int gpus_per_node) {
  const int n = t.rows->size();
  AggregatedLoad out;
  out.gpus_per_node = gpus_per_node;
  out.per_node_scope = net.devices() > gpus_per_node && t.intra_node_only(gpus_per_node);
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
        const int e = entry(route[i]);
        out.bytes[e][b] += bytes;
        seen[int(net.links()[route[i]].cls)] = true;
        if (i < split) {
          out.source_side[e] = 1;
        } else {
          auto& mine = out.dest_entries[d];
          if (std::find(mine.begin(), mine.end(), e) == mine.end()) mine.push_back(e);
        }
      }
      for (int c = 0; c < kLinkClasses; ++c)
        if (seen[c]) out.class_bytes[c] += bytes;
      out.latency_into[d] = std::max(out.latency_into[d], net.route_latency(route));
      out.receives[d] = 1;
    }
  }
  return out;
}

std::vector<int> per_pair_step(SgBackend& sg, const NetworkGraph& net, const StepTraffic& t, double scale,
                               const std::vector<int>& gate) {
  const int n = t.rows->size();
  std::vector<int> end(n);
  for (int d = 0; d < n; ++d) {
    end[d] = sg.delay(d, 0);
    sg.depends(end[d], gate[d]);
  }
  std::vector<int> route;
  for (int s = 0; s < n; ++s) {
    const int start = sg.delay(s, 0);  // a private join keeps the gate's successor list short
    sg.depends(start, gate[s]);
    for (int d = 0; d < n; ++d) {
      const std::int64_t r = d == s ? 0 : t.at(s, d);
      if (r == 0) continue;
      net.route(s, d, route);
      const int lat = sg.delay(s, net.route_latency(route));  // latency first, then bandwidth, as CM02
      sg.depends(lat, start);
      const int f = sg.flow(s, d, double(r) * t.row_bytes * scale);
      sg.depends(f, lat);
      sg.depends(end[d], f);
    }
  }
  return end;
}

std::vector<int> aggregated_step(SgBackend& sg, const NetworkGraph& net, const AggregatedLoad& load,
                                 double scale, const std::vector<int>& gate, int control) {
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
