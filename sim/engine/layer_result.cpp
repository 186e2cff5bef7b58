#include "sim/engine/layer_result.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>

#include <nlohmann/json.hpp>

#include "sim/core/error.hpp"

namespace occult {

PhaseStats phase_stats(std::vector<double> v) {
  PhaseStats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto rank = [&](double q) {
    return v[std::min(v.size() - 1, std::size_t(std::ceil(q * double(v.size()))) - 1)];
  };
  s.min_s = v.front();
  s.max_s = v.back();
  s.mean_s = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  s.p50_s = rank(0.5);
  s.p99_s = rank(0.99);
  return s;
}

std::vector<std::pair<std::string, std::vector<double>>> phase_durations(const DagResult& dag) {
  std::vector<std::pair<std::string, std::vector<double>>> out;
  for (const auto& name : dag.phase_order) {
    const auto& s = dag.phase_start.at(name);
    const auto& e = dag.phase_end.at(name);
    std::vector<double> dur(s.size());
    for (std::size_t d = 0; d < s.size(); ++d) dur[d] = std::max(0.0, e[d] - s[d]);
    out.emplace_back(name, std::move(dur));
  }
  return out;
}

LayerSimResult summarize(const NetworkGraph& net, const DagResult& dag, std::size_t top_links) {
  LayerSimResult r;
  r.total_s = dag.makespan;
  for (auto& [name, dur] : phase_durations(dag)) r.phases[name] = phase_stats(std::move(dur));
  for (int c = 0; c < kLinkClasses; ++c)
    r.bytes_by_link_class[link_class_name(LinkClass(c))] = dag.class_bytes[c];
  std::vector<int> ids(net.links().size());
  std::iota(ids.begin(), ids.end(), 0);
  const std::size_t k = std::min(top_links, ids.size());
  std::partial_sort(ids.begin(), ids.begin() + long(k), ids.end(), [&](int a, int b) {
    return dag.link_bytes[a] != dag.link_bytes[b] ? dag.link_bytes[a] > dag.link_bytes[b] : a < b;
  });
  for (std::size_t i = 0; i < k && dag.link_bytes[ids[i]] > 0; ++i) {
    const auto& l = net.links()[ids[i]];
    const double busy = dag.link_bytes[ids[i]] / l.bandwidth_Bps;
    r.busiest_links.push_back({l.name, link_class_name(l.cls), dag.link_bytes[ids[i]],
                               r.total_s > 0 ? std::min(1.0, busy / r.total_s) : 0.0});
  }
  return r;
}

void write_timeline(const std::string& path, const DagResult& dag, int gpus_per_node) {
  std::ofstream out(path);
  if (!out) throw InputError(path, 0, "timeline", "cannot write the timeline file");
  nlohmann::json ev = nlohmann::json::array();
  int devices = 0;
  for (const auto& name : dag.phase_order) {
    const auto& s = dag.phase_start.at(name);
    const auto& e = dag.phase_end.at(name);
    devices = int(s.size());
    for (std::size_t d = 0; d < s.size(); ++d)
      ev.push_back({{"name", name},
                    {"cat", "moe"},
                    {"ph", "X"},
                    {"ts", s[d] * 1e6},
                    {"dur", std::max(0.0, e[d] - s[d]) * 1e6},
                    {"pid", int(d) / gpus_per_node},
                    {"tid", int(d)}});
  }
  for (int d = 0; d < devices; ++d)
    ev.push_back({{"name", "thread_name"},
                  {"ph", "M"},
                  {"pid", d / gpus_per_node},
                  {"tid", d},
                  {"args", {{"name", "gpu" + std::to_string(d)}}}});
  out << nlohmann::json{{"traceEvents", ev}, {"displayTimeUnit", "ns"}}.dump() << "\n";
  if (!out) throw InputError(path, 0, "timeline", "cannot write the timeline file");
}

}  // namespace occult
