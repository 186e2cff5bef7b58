#include "sim/engine/layer_dag.hpp"

#include <algorithm>
#include <deque>
#include <iostream>

#include "sim/engine/comm_step.hpp"
#include "sim/engine/fluid_flows.hpp"
#include "sim/engine/link_drain.hpp"

namespace occult {
namespace {

// One all-to-all of the layer: its phase name, its direction and what it carries besides the rows.
struct ExchangeSpec {
  const char* name;
  bool dispatch_direction;
  const ExchangeWork* work;
};

struct Triple {
  ExchangeSpec a;
  const char* compute;
  ExchangeSpec b;
};

class LayerDagBuilder {
 public:
  LayerDagBuilder(const NetworkGraph& net, const LayerWork& w, const SimOptions& opt)
      : net_(net),
        w_(w),
        opt_(opt),
        plan_(*w.plan),
        d_(plan_.shape.devices),
        chunks_(w.overlap == Overlap::Chunked ? std::max(1, w.chunks) : 1),
        model_(effective_flow_model(opt, d_)),
        sg_(model_ == FlowModel::PerPair ? SgBackend::Routing::PerHostPair
                                         : SgBackend::Routing::LinkEndpoint) {
    if (w.counts_exchange) {
      // One int per peer of the device's expert-parallel group (the plan's blocks).
      const auto& m = plan_.stages.front().rows;
      counts_ = PairMatrix(d_, m.block());
      for (int s = 0; s < d_; ++s)
        for (int t = m.band_begin(s); t < m.band_end(s); ++t) counts_.at(s, t) = 1;
    }
  }

  DagResult run() {
    build_platform();
    if (model_ == FlowModel::Fluid) build_fluid_chain();
    std::vector<double> key(d_, 0.0);
    std::vector<int> ready = sequential("layout", w_.layout_s, nullptr, key);
    if (w_.counts_exchange) ready = counts_phase(ready, key);
    ready = sequential("pack", w_.pack_s, &ready, key);
    ready = triple({{"dispatch", true, &w_.dispatch}, "expert", {"combine", false, &w_.combine}}, ready,
                   w_.expert_fwd_s, key);
    ready = sequential("unpack", w_.unpack_s, &ready, key);
    if (training()) {
      ready = sequential("grad_pack", w_.grad_pack_s, &ready, key);
      ready = triple({{"grad_dispatch", true, &w_.grad_dispatch},
                      "expert_backward",
                      {"grad_combine", false, &w_.grad_combine}},
                     ready, w_.expert_bwd_s, key);
      sequential("grad_unpack", w_.grad_unpack_s, &ready, key);
    }
    if (opt_.verbose)
      std::cerr << "occult: simulating " << sg_.activities() << " activities on " << net_.links().size()
                << " links\n";
    out_.makespan = sg_.run();
    out_.activities = sg_.activities();
    collect();
    return std::move(out_);
  }

 private:
  bool training() const { return !w_.expert_bwd_s.empty(); }

  void build_platform() {
    for (int d = 0; d < d_; ++d) sg_.add_host("gpu" + std::to_string(d));
    control_ = sg_.add_host("control");
    // Links get no latency in SimGrid (see comm_step.hpp): route latency is charged as a delay.
    for (const auto& l : net_.links()) sg_.add_link(l.name, l.bandwidth_Bps, 0.0);
    if (model_ == FlowModel::PerPair) {
      std::vector<int> route;
      for (int s = 0; s < d_; ++s)
        for (int t = 0; t < d_; ++t)
          if (s != t) {
            net_.route(s, t, route);
            sg_.add_route(s, t, route);
          }
    }
    sg_.seal();
    out_.link_bytes.assign(net_.links().size(), 0.0);
  }

  static double at(const std::vector<double>& v, int d) { return v.empty() ? 0.0 : v[d]; }

  StepTraffic counts_step() const { return {&counts_, false, 4.0, 1, nullptr}; }

  // The fluid model solves all exchanges of a layer together (they overlap in time), so it needs the
  // layer's whole graph, the same as run() builds below (chunks included), before the first activity.
  void build_fluid_chain() {
    FluidChain& chain = fluid_chain_;
    chain.quantum = fluid_quantum_for(opt_, d_);
    auto per_device = [&](const std::vector<double>& secs, double share) {
      std::vector<double> out(d_, 0.0);
      for (int d = 0; d < d_; ++d) out[d] = at(secs, d) * share;
      return out;
    };
    int ready = chain.add_compute({}, per_device(w_.layout_s, 1.0));
    if (w_.counts_exchange) {
      ready = chain.add_exchange(net_, counts_step(), 1.0, {ready});
      fluid_nodes_.push_back(ready);
      ready = chain.add_compute({ready}, per_device(w_.counts_host_s, 1.0));
    }
    ready = chain.add_compute({ready}, per_device(w_.pack_s, 1.0));
    const double scale = 1.0 / chunks_;
    auto stages = [&](const ExchangeSpec& x, std::vector<int> preds) {
      const auto steps = direction(x);
      if (steps.empty()) return chain.add_compute(preds, std::vector<double>(d_, 0.0));  // a pass-through
      int last = -1;
      for (const auto& t : steps) {
        last = chain.add_exchange(net_, t, scale, preds);
        fluid_nodes_.push_back(last);
        preds = {last};
      }
      return last;
    };
    auto pass = [&](const Triple& t, const std::vector<double>& compute, int in) {
      int a_end = in, comp = -1, b_end = -1;
      for (int c = 0; c < chunks_; ++c) {
        a_end = stages(t.a, {a_end});
        comp = chain.add_compute(c == 0 ? std::vector<int>{a_end} : std::vector<int>{a_end, comp},
                                 per_device(compute, scale));
        b_end = stages(t.b, c == 0 ? std::vector<int>{comp} : std::vector<int>{comp, b_end});
      }
      return b_end;
    };
    ready = pass({{"dispatch", true, &w_.dispatch}, "expert", {"combine", false, &w_.combine}},
                 w_.expert_fwd_s, ready);
    ready = chain.add_compute({ready}, per_device(w_.unpack_s, 1.0));
    if (training()) {
      ready = chain.add_compute({ready}, per_device(w_.grad_pack_s, 1.0));
      ready = pass({{"grad_dispatch", true, &w_.grad_dispatch},
                    "expert_backward",
                    {"grad_combine", false, &w_.grad_combine}},
                   w_.expert_bwd_s, ready);
      chain.add_compute({ready}, per_device(w_.grad_unpack_s, 1.0));
    }
  }

  // One compute step per device (layout, pack, unpack): [start, end] recorded under `name`.
  std::vector<int> sequential(const char* name, const std::vector<double>& secs,
                              const std::vector<int>* after, std::vector<double>& key) {
    std::vector<int> acts(d_);
    for (int d = 0; d < d_; ++d) {
      acts[d] = sg_.delay(d, at(secs, d));
      if (after) sg_.depends(acts[d], (*after)[d]);
      key[d] += at(secs, d);
    }
    record(name, acts, acts, true);
    return acts;
  }

  // A phase on a device runs from `from` (its start, or the end of the device's previous activity) to
  // the end of `to`.
  void record(const std::string& name, const std::vector<int>& from, const std::vector<int>& to,
              bool from_start) {
    out_.phase_order.push_back(name);
    marks_.push_back({name, from, to, from_start});
  }

  // The exchange's steps: the plan's stages in order (dispatch direction) or reversed and transposed;
  // the own-block copies run beside the stage that holds the rows staying on their device (stage 0).
  std::vector<StepTraffic> direction(const ExchangeSpec& x) const {
    std::vector<StepTraffic> steps;
    for (std::size_t i = 0; i < plan_.stages.size(); ++i)
      steps.push_back({&plan_.stages[i].rows, !x.dispatch_direction,
                       double(plan_.row_bytes) + x.work->meta_bytes_per_row, x.work->messages,
                       i == 0 && !x.work->local_s.empty() ? &x.work->local_s : nullptr});
    if (!x.dispatch_direction) std::reverse(steps.begin(), steps.end());
    return steps;
  }

  // The loads of a sequence of steps for the model that runs (per pair reads the grouped one's ready-time
  // estimates and byte counts).
  struct Loads {
    std::vector<AggregatedLoad> grouped;
    std::vector<DrainLoad> link;
    std::vector<FluidLoad> fluid;
  };

  // Also moves `key` (estimated ready time per device) past the steps, so that later steps group their
  // senders by when they will be ready.
  Loads loads(const std::vector<StepTraffic>& steps, std::vector<double>& key, bool count_bytes = true) {
    Loads out;
    for (const auto& t : steps) {
      if (model_ == FlowModel::Fluid) {
        if (!count_bytes) continue;  // the fluid model only needs a step's bytes for the report
        out.fluid.push_back(fluid_load(net_, t, key));
        count(out.fluid.back(), key, count_bytes);
      } else if (model_ == FlowModel::LinkDrain) {
        out.link.push_back(drain_load(net_, t, key, opt_.aggregate_buckets > 0 ? opt_.aggregate_buckets : 8,
                                      net_.gpus_per_node()));
        count(out.link.back(), key, count_bytes);
      } else {
        out.grouped.push_back(aggregate_step(net_, t, key, opt_.aggregate_buckets, net_.gpus_per_node()));
        count(out.grouped.back(), key, count_bytes);
      }
    }
    return out;
  }

  template <class Load>
  void count(const Load& a, std::vector<double>& key, bool count_bytes) {
    key = a.ready_after;
    if (!count_bytes) return;
    for (std::size_t i = 0; i < a.link_ids.size(); ++i)
      for (double b : a.bytes[i]) out_.link_bytes[std::size_t(a.link_ids[i])] += b;
    for (int c = 0; c < kLinkClasses; ++c) out_.class_bytes[c] += a.class_bytes[c];
  }

  std::vector<int> exchange(const std::vector<StepTraffic>& steps, const Loads& loads,
                            std::vector<int> gate) {
    const double scale = 1.0 / chunks_;
    for (std::size_t k = 0; k < steps.size(); ++k) {
      const std::vector<int> start = gate;
      switch (model_) {
        case FlowModel::PerPair:
          gate = per_pair_step(sg_, net_, steps[k], scale, gate);
          break;
        case FlowModel::LinkDrain:
          gate = link_drain_step(sg_, net_, loads.link[k], scale, gate, control_);
          break;
        case FlowModel::Fluid:
          // The graph's exchanges, taken in the order build_fluid_chain added them.
          gate = fluid_step(sg_, fluid_chain_, fluid_nodes_.at(next_fluid_++), gate);
          break;
        default:
          gate = aggregated_step(sg_, net_, loads.grouped[k], scale, gate, control_);
      }
      // The own-block copies start with the step and run beside it (the fluid chain has them already).
      if (steps[k].local_s && model_ != FlowModel::Fluid)
        for (int d = 0; d < d_; ++d) {
          const double t = (*steps[k].local_s)[std::size_t(d)] * scale;
          if (t <= 0) continue;
          const int copy = sg_.delay(d, t);
          sg_.depends(copy, start[d]);
          gate[d] = join(d, gate[d], copy);
        }
    }
    return gate;
  }

  // The count exchange of `counts = sync`: one int per peer, then the host's read before the pack.
  std::vector<int> counts_phase(const std::vector<int>& ready, std::vector<double>& key) {
    const std::vector<StepTraffic> steps = {counts_step()};
    const auto l = loads(steps, key);
    std::vector<int> end = exchange(steps, l, ready), host(d_);
    for (int d = 0; d < d_; ++d) {
      host[d] = sg_.delay(d, at(w_.counts_host_s, d));
      sg_.depends(host[d], end[d]);
      key[d] += at(w_.counts_host_s, d);
    }
    record("counts", ready, host, false);
    return host;
  }

  int join(int d, int a, int b) {
    const int j = sg_.delay(d, 0);
    sg_.depends(j, a);
    sg_.depends(j, b);
    return j;
  }

  std::vector<int> triple(const Triple& t, const std::vector<int>& ready,
                          const std::vector<double>& compute_s, std::vector<double>& key) {
    const auto steps_a = direction(t.a);
    const auto steps_b = direction(t.b);
    const auto loads_a = loads(steps_a, key);
    // Later chunks start their exchange when the device's previous one has ended, at a different time
    // per device: their senders are grouped by the estimate of that end instead.
    std::vector<double> key_later = key;
    const auto loads_a_later = chunks_ > 1 ? loads(steps_a, key_later, false) : loads_a;
    for (int d = 0; d < d_; ++d) key[d] += at(compute_s, d);
    const auto loads_b = loads(steps_b, key);

    std::vector<int> a_end, comp, b_end, comp_first, b_gate_first;
    for (int c = 0; c < chunks_; ++c) {
      a_end = exchange(steps_a, c == 0 ? loads_a : loads_a_later, c == 0 ? ready : a_end);
      std::vector<int> comp_c(d_), b_gate(d_);
      for (int d = 0; d < d_; ++d) {
        comp_c[d] = sg_.delay(d, at(compute_s, d) / chunks_);
        sg_.depends(comp_c[d], a_end[d]);
        if (c > 0) sg_.depends(comp_c[d], comp[d]);
        b_gate[d] = c == 0 ? comp_c[d] : join(d, comp_c[d], b_end[d]);
      }
      if (c == 0) comp_first = comp_c;
      comp = comp_c;
      b_end = exchange(steps_b, loads_b, b_gate);
    }
    // Without chunks each phase starts where the device's previous one ended (exchanges include the
    // wait for late senders). With chunks the phases interleave: the compute and the second exchange
    // are counted from the first chunk's compute.
    record(t.a.name, ready, a_end, false);
    record(t.compute, chunks_ > 1 ? comp_first : a_end, comp, chunks_ > 1);
    record(t.b.name, chunks_ > 1 ? comp_first : comp, b_end, chunks_ > 1);
    return b_end;
  }

  void collect() {
    for (const auto& m : marks_) {
      auto& s = out_.phase_start[m.name];
      auto& e = out_.phase_end[m.name];
      s.resize(d_);
      e.resize(d_);
      for (int d = 0; d < d_; ++d) {
        s[d] = m.from_start ? sg_.start_time(m.from[d]) : sg_.finish_time(m.from[d]);
        e[d] = sg_.finish_time(m.to[d]);
      }
    }
  }

  struct Mark {
    std::string name;
    std::vector<int> from, to;
    bool from_start;
  };

  const NetworkGraph& net_;
  const LayerWork& w_;
  const SimOptions& opt_;
  const CommPlan& plan_;
  int d_;
  int chunks_;
  FlowModel model_;
  SgBackend sg_;
  int control_ = -1;
  std::vector<Mark> marks_;
  FluidChain fluid_chain_;
  std::vector<int> fluid_nodes_;  // exchange nodes of fluid_chain_ in the order exchange() runs them
  std::size_t next_fluid_ = 0;
  PairMatrix counts_;  // counts = sync: one row per peer of each group
  DagResult out_;
};

}  // namespace

DagResult run_layer_dag(const NetworkGraph& net, const LayerWork& work, const SimOptions& opt) {
  return LayerDagBuilder(net, work, opt).run();
}

}  // namespace occult
