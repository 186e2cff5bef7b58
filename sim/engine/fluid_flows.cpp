#include "sim/engine/fluid_flows.hpp"

#include <algorithm>
#include <bit>

#include "sim/engine/fluid_solver.hpp"

namespace occult {
namespace {

// A source's port joins the class route (one class per source) unless it drains in at most this share
// of the time of the route's busiest other link: then it rarely binds, and leaving it out merges the
// node's senders (as flow_groups.cpp does for the grouped model).
constexpr double kPortSlack = 0.3;

std::uint64_t route_hash(std::span<const int> links) {
  std::uint64_t h = links.size();
  for (int x : links) h = (h ^ std::uint64_t(unsigned(x))) * 0x100000001b3ULL;
  return h ^ (h >> 29);
}

}  // namespace

int FluidChain::add_class(std::span<const int> links) {
  const std::size_t n = classes();
  if (index_.size() < 2 * (n + 1)) {
    // Grow the table (load factor at most 1/2) and re-insert every class.
    index_.assign(std::bit_ceil(std::max<std::size_t>(64, 4 * (n + 1))), -1);
    for (std::size_t c = 0; c < n; ++c) {
      std::size_t i = route_hash(class_links(int(c))) & (index_.size() - 1);
      while (index_[i] >= 0) i = (i + 1) & (index_.size() - 1);
      index_[i] = int(c);
    }
  }
  std::size_t i = route_hash(links) & (index_.size() - 1);
  for (; index_[i] >= 0; i = (i + 1) & (index_.size() - 1)) {
    const auto have = class_links(index_[i]);
    if (std::equal(have.begin(), have.end(), links.begin(), links.end())) return index_[i];
  }
  index_[i] = int(n);
  class_link_.insert(class_link_.end(), links.begin(), links.end());
  class_begin_.push_back(class_link_.size());
  return int(n);
}

void FluidChain::solve() {
  solve_fluid_chain(*this);
  solved = true;
}

int FluidChain::add_compute(std::vector<int> preds, std::vector<double> duration) {
  devices = int(duration.size());
  nodes.push_back({std::move(preds), std::move(duration), false});
  solved = false;
  return int(nodes.size()) - 1;
}

namespace {

// Bytes of one step per link (the port rule's drain times and the report's accounting).
struct StepBytes {
  std::vector<int> slot;  // per link: index into link_ids, or -1
  FluidLoad load;
};

StepBytes step_bytes(const NetworkGraph& net, const StepTraffic& t) {
  StepBytes out;
  out.slot.assign(net.links().size(), -1);
  std::vector<int> route;
  for_each_routed_pair(net, t, t.rows->size(), route, [&](int, int, double bytes, int) {
    bool seen[kLinkClasses] = {false, false, false};
    for (int l : route) {
      auto& k = out.slot[std::size_t(l)];
      if (k < 0) {
        k = int(out.load.link_ids.size());
        out.load.link_ids.push_back(l);
        out.load.bytes.emplace_back(1, 0.0);
      }
      out.load.bytes[std::size_t(k)][0] += bytes;
      seen[int(net.links()[std::size_t(l)].cls)] = true;
    }
    for (int c = 0; c < kLinkClasses; ++c)
      if (seen[c]) out.load.class_bytes[c] += bytes;
  });
  return out;
}

}  // namespace

int FluidChain::add_exchange(const NetworkGraph& net, const StepTraffic& t, double scale,
                             std::vector<int> preds) {
  const std::size_t links = net.links().size();
  if (capacity.empty()) {
    capacity.resize(links);
    for (std::size_t l = 0; l < links; ++l) capacity[l] = net.links()[l].bandwidth_Bps;
  }
  const int node = int(nodes.size());
  devices = t.rows->size();
  std::vector<double> least;
  if (t.local_s)
    for (double x : *t.local_s) least.push_back(x * scale);
  nodes.push_back({std::move(preds), std::move(least), true});
  solved = false;
  const StepBytes sb = step_bytes(net, t);
  auto drain = [&](int l) {
    return sb.load.bytes[std::size_t(sb.slot[std::size_t(l)])][0] / capacity[std::size_t(l)];
  };
  // Classes are shared with the graph's other exchanges: one route, one rate.
  std::vector<int> route;
  for_each_routed_pair(net, t, t.rows->size(), route, [&](int s, int d, double bytes, int) {
    double busiest = 0;
    for (std::size_t i = 1; i < route.size(); ++i) busiest = std::max(busiest, drain(route[i]));
    const bool split_port = route.size() > 1 && drain(route[0]) <= kPortSlack * busiest;
    const int cls = add_class(std::span<const int>(route).subspan(split_port ? 1 : 0));
    pairs.push_back(
        {s, d, cls, node, split_port ? route[0] : -1, net.route_latency(route, t.messages), bytes * scale});
  });
  return node;
}

FluidLoad fluid_load(const NetworkGraph& net, const StepTraffic& t, const std::vector<double>& key) {
  FluidLoad out = step_bytes(net, t).load;
  out.ready_after = key;
  return out;
}

std::vector<int> fluid_step(SgBackend& sg, FluidChain& chain, int node, const std::vector<int>& gate) {
  if (!chain.solved) chain.solve();
  const auto& start = chain.gate[std::size_t(node)];
  const auto& end = chain.end[std::size_t(node)];
  std::vector<int> out(gate.size());
  for (std::size_t d = 0; d < gate.size(); ++d) {
    out[d] = sg.delay(int(d), std::max(0.0, end[d] - start[d]));
    sg.depends(out[d], gate[d]);
  }
  return out;
}

}  // namespace occult
