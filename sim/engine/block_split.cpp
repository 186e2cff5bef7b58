#include "sim/engine/block_split.hpp"

#include <algorithm>

namespace occult {
namespace {

std::vector<std::int64_t> slice(const std::vector<std::int64_t>& v, int off, int n, int devices) {
  if (int(v.size()) != devices) return v;
  return {v.begin() + off, v.begin() + off + n};
}

std::vector<double> slice(const std::vector<double>& v, int off, int n) {
  if (v.empty()) return v;
  return {v.begin() + off, v.begin() + off + n};
}

bool has_traffic(const CommPlan& plan, int s, int t) {
  for (const auto& st : plan.stages)
    if (st.rows.at(s, t) != 0 || st.rows.at(t, s) != 0) return true;
  return false;
}

// Maps block b's route from s to t onto the first block's route between the same local ranks.
bool map_route(const NetworkGraph& full, const NetworkGraph& first, int b, int s, int t, int local_s,
               int local_t, std::vector<int>& owner, std::vector<int>& link_of) {
  static thread_local std::vector<int> rf, rs;
  if (full.route(s, t, rf) != first.route(local_s, local_t, rs) || rf.size() != rs.size()) return false;
  if (full.route_latency(rf) != first.route_latency(rs)) return false;
  const int node_shift = (s - local_s) / full.gpus_per_node();
  for (std::size_t i = 0; i < rf.size(); ++i) {
    const NetLink& a = full.links()[rf[i]];
    const NetLink& c = first.links()[rs[i]];
    if (a.cls != c.cls || a.bandwidth_Bps != c.bandwidth_Bps || a.latency_s != c.latency_s) return false;
    if ((a.node < 0) != (c.node < 0) || (a.node >= 0 && a.node - c.node != node_shift)) return false;
    if (link_of[rs[i]] < 0) {
      if (owner[rf[i]] >= 0) return false;  // shared with another block, or two first-block links
      owner[rf[i]] = b;
      link_of[rs[i]] = rf[i];
    } else if (link_of[rs[i]] != rf[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

int plan_block_size(const CommPlan& plan, int g) {
  const int d = plan.shape.devices;
  std::vector<int> lo(d, d), hi(d, -1);
  for (const auto& st : plan.stages)
    for (int s = 0; s < d; ++s)
      for (int t = st.rows.band_begin(s); t < st.rows.band_end(s); ++t)
        if (st.rows.at(s, t) != 0) {
          lo[s] = std::min(lo[s], t);
          hi[s] = std::max(hi[s], t);
        }
  for (int b = g; b < d; b += g) {
    if (d % b != 0) continue;
    bool ok = true;
    for (int s = 0; s < d && ok; ++s) ok = hi[s] < 0 || (lo[s] / b == s / b && hi[s] / b == s / b);
    if (ok) return b;
  }
  return d;
}

BlockSplit find_block_split(const NetworkGraph& full, const NetworkGraph& first, const CommPlan& plan,
                            int size) {
  const int d = plan.shape.devices;
  if (size >= d || first.devices() != size || d % size != 0) return {};
  BlockSplit out;
  out.block_devices = size;
  out.blocks = d / size;
  out.link_of.assign(out.blocks, std::vector<int>(first.links().size(), -1));
  std::vector<int> owner(full.links().size(), -1);
  for (int b = 0; b < out.blocks; ++b) {
    const int off = b * size;
    for (int a = 0; a < size; ++a)
      for (int c = 0; c < size; ++c)
        if (a != c && has_traffic(plan, off + a, off + c) &&
            !map_route(full, first, b, off + a, off + c, a, c, owner, out.link_of[b]))
          return {};
  }
  return out;
}

LayerWork block_work(const LayerWork& w, int b, int n, CommPlan& p) {
  const CommPlan& full = *w.plan;
  const int d = full.shape.devices, off = b * n;
  p.strategy = full.strategy;
  p.shape = {n, std::min(n, full.shape.gpus_per_node)};
  p.row_bytes = full.row_bytes;
  p.stages.clear();
  for (const auto& st : full.stages) {
    PairMatrix m(n);
    for (int s = 0; s < n; ++s)
      for (int t = 0; t < n; ++t) m.at(s, t) = st.rows.at(off + s, off + t);
    p.stages.push_back({st.kind, std::move(m)});
  }
  p.tokens_per_device = slice(full.tokens_per_device, off, n, d);
  p.pairs_per_device = slice(full.pairs_per_device, off, n, d);
  p.recv_rows_per_device = slice(full.recv_rows_per_device, off, n, d);
  p.rows_per_expert = full.rows_per_expert;
  LayerWork out = w;
  out.plan = &p;
  out.layout_s = slice(w.layout_s, off, n);
  out.pack_s = slice(w.pack_s, off, n);
  out.expert_fwd_s = slice(w.expert_fwd_s, off, n);
  out.unpack_s = slice(w.unpack_s, off, n);
  out.expert_bwd_s = slice(w.expert_bwd_s, off, n);
  out.grad_pack_s = slice(w.grad_pack_s, off, n);
  out.grad_unpack_s = slice(w.grad_unpack_s, off, n);
  out.counts_host_s = slice(w.counts_host_s, off, n);
  for (auto* x : {&out.dispatch, &out.combine, &out.grad_dispatch, &out.grad_combine}) x->local_s = slice(x->local_s, off, n);
  return out;
}

}  // namespace occult
