#include "sim/core/metrics.hpp"

#include <algorithm>

#include "sim/core/plan.hpp"
#include "sim/core/routing_resolve.hpp"

namespace occult {

ByteSummary summarize_bytes(const CommPlan& plan) {
  const ClusterShape& shape = plan.shape;
  const int D = shape.devices;
  std::vector<std::int64_t> send_intra(std::size_t(D), 0), recv_intra(std::size_t(D), 0);
  std::vector<std::int64_t> send_inter(std::size_t(D), 0), recv_inter(std::size_t(D), 0);
  ByteSummary b;
  for (const PlanStage& stage : plan.stages) {
    for (int s = 0; s < D; ++s) {
      for (int d = stage.rows.band_begin(s); d < stage.rows.band_end(s); ++d) {
        if (s == d) continue;
        const std::int64_t bytes = stage.rows.at(s, d) * plan.row_bytes;
        if (bytes == 0) continue;
        const bool same_node = shape.node_of(s) == shape.node_of(d);
        (same_node ? b.intra_node : b.inter_node) += bytes;
        (same_node ? send_intra : send_inter)[std::size_t(s)] += bytes;
        (same_node ? recv_intra : recv_inter)[std::size_t(d)] += bytes;
      }
    }
  }
  b.total = b.intra_node + b.inter_node;
  auto max_of = [](const std::vector<std::int64_t>& v) {
    return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
  };
  for (int dev = 0; dev < D; ++dev) {
    const auto i = std::size_t(dev);
    b.max_send = std::max(b.max_send, send_intra[i] + send_inter[i]);
    b.max_recv = std::max(b.max_recv, recv_intra[i] + recv_inter[i]);
  }
  b.max_send_intra = max_of(send_intra);
  b.max_recv_intra = max_of(recv_intra);
  b.max_send_inter = max_of(send_inter);
  b.max_recv_inter = max_of(recv_inter);
  return b;
}

namespace {
double ratio(std::int64_t num, std::int64_t den) { return den > 0 ? double(num) / double(den) : 0.0; }

double max_over_mean(const std::vector<std::int64_t>& v) {
  std::int64_t total = 0, most = 0;
  for (std::int64_t x : v) total += x, most = std::max(most, x);
  return total > 0 ? double(most) * double(v.size()) / double(total) : 0.0;
}
}  // namespace

CommPlan& LayerPlans::of(Strategy s) {
  return s == Strategy::Standard ? standard : s == Strategy::Occult ? occult : hierarchical;
}

LayerMetrics analyze_layer(const LayerRouting& routing, const LayerPlacement& placement,
                           const ClusterShape& shape, std::int64_t row_bytes, LayerPlans* plans) {
  validate_shape(shape);
  const int experts = int(placement.device_of.size());
  PlanBuilder standard(Strategy::Standard, experts, shape, row_bytes);
  PlanBuilder occult(Strategy::Occult, experts, shape, row_bytes);
  PlanBuilder hierarchical(Strategy::Hierarchical, experts, shape, row_bytes);

  // Sums over tokens; the means divide by the token count at the end.
  std::int64_t slots = 0, remote_slots = 0, devices = 0, remote_devices = 0, nodes = 0, remote_nodes = 0;
  std::int64_t intra_pairs = 0, all_pairs = 0;
  const std::int64_t tokens = routing.tokens();
  if (tokens > 0) {
    TokenWalker walker(placement, shape, routing.top_k);
    walker.walk(routing, [&](const TokenDestinations& t) {
      standard.add(t);
      occult.add(t);
      hierarchical.add(t);
      const int src_node = shape.node_of(t.src);
      int local_slots = 0;
      bool src_is_destination = false;
      for (std::size_t i = 0; i < t.devices.size(); ++i) {
        const std::int64_t c = t.slots_on_device[i];
        intra_pairs += c * (c - 1) / 2;
        if (t.devices[i] == t.src) local_slots = t.slots_on_device[i], src_is_destination = true;
      }
      const bool src_node_is_destination =
          std::find(t.nodes.begin(), t.nodes.end(), src_node) != t.nodes.end();
      slots += t.slots;
      remote_slots += t.slots - local_slots;
      devices += std::int64_t(t.devices.size());
      remote_devices += std::int64_t(t.devices.size()) - (src_is_destination ? 1 : 0);
      nodes += std::int64_t(t.nodes.size());
      remote_nodes += std::int64_t(t.nodes.size()) - (src_node_is_destination ? 1 : 0);
      all_pairs += std::int64_t(t.slots) * (t.slots - 1) / 2;
    });
  }

  LayerMetrics m;
  m.layer = routing.layer;
  m.tokens = tokens;
  m.pairs = slots;
  m.ct_standard = ratio(slots, tokens);
  m.ct_occult = ratio(devices, tokens);
  m.ct_node = ratio(nodes, tokens);
  m.remote_ct_standard = ratio(remote_slots, tokens);
  m.remote_ct_occult = ratio(remote_devices, tokens);
  m.remote_ct_node = ratio(remote_nodes, tokens);
  m.intra_ratio = ratio(intra_pairs, all_pairs);
  LayerPlans built{std::move(standard).finish(), std::move(occult).finish(),
                   std::move(hierarchical).finish()};
  m.bytes_standard = summarize_bytes(built.standard);
  m.bytes_occult = summarize_bytes(built.occult);
  m.bytes_hierarchical = summarize_bytes(built.hierarchical);
  m.pairs_per_device = built.occult.pairs_per_device;
  m.load_imbalance = max_over_mean(m.pairs_per_device);
  if (plans) *plans = std::move(built);
  return m;
}

LayerMetrics aggregate_layers(const std::vector<LayerMetrics>& layers) {
  LayerMetrics a;
  a.layer = -1;
  double weight = 0;
  auto add_bytes = [](ByteSummary& into, const ByteSummary& b) {
    into.total += b.total;
    into.intra_node += b.intra_node;
    into.inter_node += b.inter_node;
    into.max_send = std::max(into.max_send, b.max_send);
    into.max_recv = std::max(into.max_recv, b.max_recv);
    into.max_send_intra = std::max(into.max_send_intra, b.max_send_intra);
    into.max_recv_intra = std::max(into.max_recv_intra, b.max_recv_intra);
    into.max_send_inter = std::max(into.max_send_inter, b.max_send_inter);
    into.max_recv_inter = std::max(into.max_recv_inter, b.max_recv_inter);
  };
  for (const LayerMetrics& l : layers) {
    const double w = double(l.tokens);
    weight += w;
    a.tokens += l.tokens;
    a.pairs += l.pairs;
    a.ct_standard += w * l.ct_standard;
    a.ct_occult += w * l.ct_occult;
    a.ct_node += w * l.ct_node;
    a.remote_ct_standard += w * l.remote_ct_standard;
    a.remote_ct_occult += w * l.remote_ct_occult;
    a.remote_ct_node += w * l.remote_ct_node;
    a.intra_ratio += w * l.intra_ratio;
    add_bytes(a.bytes_standard, l.bytes_standard);
    add_bytes(a.bytes_occult, l.bytes_occult);
    add_bytes(a.bytes_hierarchical, l.bytes_hierarchical);
    if (a.pairs_per_device.size() < l.pairs_per_device.size())
      a.pairs_per_device.resize(l.pairs_per_device.size(), 0);
    for (std::size_t d = 0; d < l.pairs_per_device.size(); ++d)
      a.pairs_per_device[d] += l.pairs_per_device[d];
    a.load_imbalance = std::max(a.load_imbalance, l.load_imbalance);
  }
  if (weight > 0) {
    for (double* v : {&a.ct_standard, &a.ct_occult, &a.ct_node, &a.remote_ct_standard, &a.remote_ct_occult,
                      &a.remote_ct_node, &a.intra_ratio})
      *v /= weight;
  }
  return a;
}

}  // namespace occult
