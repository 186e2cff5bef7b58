#include "sim/engine/comm_step.hpp"

#include <algorithm>
#include <map>
#include <string>

#include "sim/engine/fan_out.hpp"

namespace occult {

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
      const int lat = sg.delay(s, net.route_latency(route, t.messages));  // latency first, then bandwidth, as CM02
      sg.depends(lat, start);
      const int f = sg.flow(s, d, double(r) * t.row_bytes * scale);
      sg.depends(f, lat);
      sg.depends(end[d], f);
    }
  }
  return end;
}

namespace {

// SimGrid has no per-flow weights, but CM02 shares a link's bandwidth in inverse proportion to each
// flow's route latency (TCP RTT-unfairness; network_cm02.cpp). A group of k pairs therefore crosses a
// weight link of latency kWeightLatency / k first (and bandwidth that never binds), so that it gets k
// pairs' share; every flow of this model crosses one. The latency is subtracted from the route latency
// charged before the flow.
constexpr double kWeightLatency = 1e-7;
constexpr double kWeightLinkBandwidth = 1e13;  // above any real link: never binds

int weight_links_made = 0;  // unique link names (SimGrid requires them); one SimGrid engine per process

struct Endpoints {
  SgBackend& sg;
  const AggregatedLoad& load;

  // A private link per endpoint: a link shared by many flows would enter every flow's constraints.
  int weight_link(int k) {
    return sg.add_link("weight" + std::to_string(weight_links_made++), kWeightLinkBandwidth,
                       kWeightLatency / k);
  }
  // path >= 0: up_paths[path]; path < 0: the one link -1 - path (a port flow).
  int up(int path, int k) {
    auto it = load.up_endpoint.find({path, k});
    if (it == load.up_endpoint.end()) {
      std::vector<int> links{weight_link(k)};
      if (path >= 0)
        links.insert(links.end(), load.up_paths[path].begin(), load.up_paths[path].end());
      else
        links.push_back(-1 - path);
      it = load.up_endpoint.emplace(std::pair{path, k}, sg.add_endpoint(links, {})).first;
    }
    return it->second;
  }
  int down(int path) {
    auto it = load.down_endpoint.find(path);
    if (it == load.down_endpoint.end())
      it = load.down_endpoint
               .emplace(path, sg.add_endpoint({}, path >= 0 ? load.down_paths[path] : std::vector<int>{}))
               .first;
    return it->second;
  }
};

}  // namespace

std::vector<int> aggregated_step(SgBackend& sg, const NetworkGraph&, const AggregatedLoad& load, double scale,
                                 const std::vector<int>& gate, int control) {
  const int n = int(gate.size());
  const int g = load.gpus_per_node;
  Endpoints ep{sg, load};
  std::vector<int> end(n);
  for (int d = 0; d < n; ++d) {
    end[d] = sg.delay(d, 0);
    sg.depends(end[d], gate[d]);
  }
  // Group flows start when every source of their (node, bucket) is ready.
  std::map<std::pair<int, int>, FanOut> start;
  for (int s = 0; s < n; ++s)
    sg.depends(join_of(start, {s / g, load.bucket_of[s]}, sg, control).root(), gate[s]);
  for (const auto& gf : load.groups) {
    // Latency first, then bandwidth, as per pair.
    const int lat = sg.delay(control, std::max(0.0, gf.latency_s - kWeightLatency / gf.pairs));
    sg.depends(lat, start.at({gf.source_node, gf.bucket}).next());
    const int f = sg.endpoint_flow(ep.up(gf.up, gf.pairs), ep.down(gf.down), gf.bytes * scale);
    sg.depends(f, lat);
    sg.depends(end[gf.dest], f);
  }
  // Port flows start with their own source; a receiver waits for those of every node that sends to it.
  std::map<int, FanOut> ports_done;
  for (const auto& p : load.ports) {
    const int f = sg.endpoint_flow(ep.up(-1 - p.link, 1), ep.down(-1), p.bytes * scale);
    sg.depends(f, gate[p.source]);
    sg.depends(join_of(ports_done, p.source / g, sg, control).root(), f);
  }
  for (int d = 0; d < n; ++d)
    for (int node : load.port_nodes[d]) sg.depends(end[d], ports_done.at(node).next());
  return end;
}

}  // namespace occult
