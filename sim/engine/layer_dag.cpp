#include "sim/engine/layer_dag.hpp"

#include <algorithm>
#include <deque>
#include <iostream>

#include "sim/engine/comm_step.hpp"
#include "sim/engine/fluid_flows.hpp"
#include "sim/engine/link_drain.hpp"

namespace occult {
namespace {

struct Triple {
  const char* comm_a;
  const char* compute;
  const char* comm_b;
  bool a_is_dispatch_direction;
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
                                         : SgBackend::Routing::LinkEndpoint) {}

  DagResult run() {
    build_platform();
    if (model_ == FlowModel::Fluid) build_fluid_chain();
    std::vector<double> key(d_, 0.0);
    std::vector<int> ready = sequential("layout", w_.layout_s, nullptr, key);
    ready = sequential("pack", w_.pack_s, &ready, key);
    ready = triple({"dispatch", "expert", "combine", true}, ready, w_.expert_fwd_s, key);
    ready = sequential("unpack", w_.unpack_s, &ready, key);
    if (!w_.expert_bwd_s.empty())
      triple({"combine_bwd", "expert_bwd", "dispatch_bwd", true}, ready, w_.expert_bwd_s, key);
    if (opt_.progress)
      std::cerr << "occult: simulating " << sg_.activities() << " activities on " << net_.links().size()
                << " links\n";
    out_.makespan = sg_.run();
    out_.activities = sg_.activities();
    collect();
    return std::move(out_);
  }

 private:
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
    std::vector<double> pre = per_device(w_.layout_s, 1.0);
    for (int d = 0; d < d_; ++d) pre[d] += at(w_.pack_s, d);
    int ready = chain.add_compute({}, pre);
    const double scale = 1.0 / chunks_;
    auto stages = [&](const std::vector<StepTraffic>& steps, std::vector<int> preds) {
      if (steps.empty()) return chain.add_compute(preds, std::vector<double>(d_, 0.0));  // a pass-through
      int last = -1;
      for (const auto& t : steps) {
        last = chain.add_exchange(net_, t, scale, preds);
        fluid_nodes_.push_back(last);
        preds = {last};
      }
      return last;
    };
    const bool training = !w_.expert_bwd_s.empty();
    for (const auto* compute : {&w_.expert_fwd_s, training ? &w_.expert_bwd_s : nullptr}) {
      if (!compute) break;
      const bool forward = compute == &w_.expert_fwd_s;
      int a_end = ready, comp = -1, b_end = -1;
      for (int c = 0; c < chunks_; ++c) {
        a_end = stages(direction(true), {a_end});
        comp = chain.add_compute(c == 0 ? std::vector<int>{a_end} : std::vector<int>{a_end, comp},
                                 per_device(*compute, scale));
        b_end = stages(direction(false), c == 0 ? std::vector<int>{comp} : std::vector<int>{comp, b_end});
      }
      if (forward) ready = chain.add_compute({b_end}, per_device(w_.unpack_s, 1.0));
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

  // `senders`: for an exchange, the device's phase starts when it and every device that sends to it are
  // ready, so that time spent waiting for a straggler's compute is not counted as communication.
  void record(const std::string& name, const std::vector<int>& from, const std::vector<int>& to,
              bool from_start, const StepTraffic* senders = nullptr) {
    out_.phase_order.push_back(name);
    marks_.push_back({name, from, to, from_start, senders});
  }

  std::vector<StepTraffic> direction(bool dispatch_direction) const {
    std::vector<StepTraffic> steps;
    for (const auto& st : plan_.stages)
      steps.push_back({&st.rows, !dispatch_direction, double(plan_.row_bytes)});
    if (!dispatch_direction) std::reverse(steps.begin(), steps.end());
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
    }
    return gate;
  }

  int join(int d, int a, int b) {
    const int j = sg_.delay(d, 0);
    sg_.depends(j, a);
    sg_.depends(j, b);
    return j;
  }

  std::vector<int> triple(const Triple& t, const std::vector<int>& ready,
                          const std::vector<double>& compute_s, std::vector<double>& key) {
    const auto steps_a = direction(t.a_is_dispatch_direction);
    const auto steps_b = direction(!t.a_is_dispatch_direction);
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
    record(t.comm_a, ready, a_end, false, senders_of(steps_a));
    record(t.compute, comp_first, comp, true);
    record(t.comm_b, comp_first, b_end, false, senders_of(steps_b));
    return b_end;
  }

  // The step whose senders a device waits for at the start of an exchange: the first one with traffic
  // (hierarchical on one node has an empty NodeFanout stage, whose lack of senders would count the wait
  // for a straggler's compute as communication).
  const StepTraffic* senders_of(const std::vector<StepTraffic>& steps) {
    for (const auto& s : steps)
      if (s.rows->remote_total() > 0) return &traffic_.emplace_back(s);
    return steps.empty() ? nullptr : &traffic_.emplace_back(steps.front());
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
      if (!m.senders) continue;
      std::vector<double> ready = s;
      for (int src = 0; src < d_; ++src)
        for (int dst = 0; dst < d_; ++dst)
          if (src != dst && m.senders->at(src, dst) != 0)
            s[dst] = std::max(s[dst], std::min(ready[src], e[dst]));
    }
  }

  struct Mark {
    std::string name;
    std::vector<int> from, to;
    bool from_start;
    const StepTraffic* senders;
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
  std::deque<StepTraffic> traffic_;  // stable addresses for Mark::senders
  DagResult out_;
};

}  // namespace

DagResult run_layer_dag(const NetworkGraph& net, const LayerWork& work, const SimOptions& opt) {
  return LayerDagBuilder(net, work, opt).run();
}

}  // namespace occult
