// Engine scale and validation (performance is measured here, never asserted in tests).
//  BM_DSv3Layer/D: a DeepSeek-V3 layer (256 experts, top-8, 4096 tokens per GPU, hidden 7168 bf16,
//    forward) on D GPUs of the rail-optimized H200 cluster, aggregated flow model. Counters: simulated
//    layer time, wall and CPU time of the simulation process, and its peak resident memory.
//  BM_Validate/D/skew: aggregated against per-pair at D <= 128; counters: the largest relative
//    difference of any phase's time (max over devices) and of the layer total.
// The traffic matrix is synthesised per pair (expected rows = tokens * k / D, scaled by a Zipf expert
// popularity over destinations) so that 16,384 GPUs need no 67M-token routing trace.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cmath>
#include <random>

#include "sim/engine/layer_sim.hpp"

namespace occult {
namespace {

TopologySpec rail_h200(int nodes) {
  TopologySpec t;
  t.name = "railopt-h200";
  t.gpus_per_node = 8;
  t.nodes = nodes;
  t.intra = IntraNode::NVSwitch;
  t.nvlink = {450e9, 1e-6};
  t.fabric = Fabric::RailOptimized;
  t.nics_per_node = 8;
  t.levels = nodes * 8 > 32 * 32 * 8 ? 3 : 2;
  t.radix = 64;
  t.nic = {50e9, 1.5e-6};
  t.fabric_link = {50e9, 0.5e-6};
  return t;
}

// skew: Zipf exponent of per-destination load; each pair gets a +-10% multiplicative jitter.
CommPlan synthetic_plan(int devices, double skew, std::uint64_t seed) {
  CommPlan p;
  p.shape = {devices, 8};
  p.row_bytes = 7168 * 2;
  const double tokens = 4096, k = 8;
  std::vector<double> weight(devices);
  std::mt19937_64 rng(seed);
  for (int d = 0; d < devices; ++d) weight[d] = 1.0 / std::pow(double(d % 64 + 1), skew);
  std::shuffle(weight.begin(), weight.end(), rng);
  double sum = 0;
  for (double w : weight) sum += w;
  std::uniform_real_distribution<double> jitter(0.9, 1.1);
  PairMatrix m(devices);
  for (int s = 0; s < devices; ++s)
    for (int d = 0; d < devices; ++d)
      m.at(s, d) = std::int64_t(std::llround(tokens * k * weight[d] / sum * jitter(rng)));
  p.stages.push_back({PlanStage::Kind::Direct, std::move(m)});
  p.pairs_per_device.assign(devices, 0);
  const PairMatrix received = p.stages[0].rows.transposed();
  for (int d = 0; d < devices; ++d) p.pairs_per_device[d] = received.row_sum(d, true);
  return p;
}

LayerWork work(const CommPlan& p) {
  LayerWork w;
  w.plan = &p;
  const int d = p.shape.devices;
  w.layout_s.assign(d, 20e-6);
  w.pack_s.assign(d, 30e-6);
  w.unpack_s.assign(d, 30e-6);
  w.expert_fwd_s.resize(d);
  // 2*3*h*f flops per row (h 7168, f 2048) at 400 TFLOP/s
  for (int i = 0; i < d; ++i) w.expert_fwd_s[i] = double(p.pairs_per_device[i]) * 6.0 * 7168 * 2048 / 400e12;
  return w;
}

double child_peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_CHILDREN, &u);
  return double(u.ru_maxrss) / 1024.0;
}

// CPU seconds (user + system) of finished simulation processes so far: on a shared machine the wall time
// also counts other jobs' load.
double child_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_CHILDREN, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// range(1) > 0: SimOptions::aggregate_buckets (fewer, coarser sender groups than the default).
void BM_DSv3Layer(benchmark::State& state) {
  const int devices = int(state.range(0));
  const CommPlan plan = synthetic_plan(devices, 0.3, 1);
  const LayerWork w = work(plan);
  SimOptions opt;
  if (state.range(1) > 0) opt.aggregate_buckets = int(state.range(1));
  LayerSimResult r;
  const double cpu0 = child_cpu_s();
  for (auto _ : state) r = simulate_layer(rail_h200(devices / 8), w, opt);
  state.counters["layer_ms"] = r.total_s * 1e3;
  state.counters["dispatch_ms"] = r.phases.at("dispatch").max_s * 1e3;
  state.counters["combine_ms"] = r.phases.at("combine").max_s * 1e3;
  state.counters["sim_wall_s"] = r.wall_s;
  state.counters["sim_cpu_s"] = child_cpu_s() - cpu0;
  state.counters["child_peak_rss_MiB"] = child_peak_rss_mib();
}
BENCHMARK(BM_DSv3Layer)
    ->ArgsProduct({{128, 256, 1024, 4096}, {0}})
    ->ArgsProduct({{256, 1024}, {1, 4}})
    ->Iterations(1)
    ->Unit(benchmark::kSecond);

void BM_Validate(benchmark::State& state) {
  const int devices = int(state.range(0));
  const double skew = double(state.range(1)) / 10;
  const CommPlan plan = synthetic_plan(devices, skew, 2);
  const LayerWork w = work(plan);
  SimOptions exact;
  exact.per_pair_flows = true;
  LayerSimResult a, b;
  for (auto _ : state) {
    a = simulate_layer(rail_h200(devices / 8), w, exact);
    b = simulate_layer(rail_h200(devices / 8), w, {});
  }
  for (const auto& [name, pa] : a.phases)
    if (pa.max_s > 0) state.counters["err_" + name] = (b.phases.at(name).max_s - pa.max_s) / pa.max_s;
  state.counters["err_total"] = (b.total_s - a.total_s) / a.total_s;
  state.counters["wall_per_pair_s"] = a.wall_s;
  state.counters["wall_aggregated_s"] = b.wall_s;
}
BENCHMARK(BM_Validate)->ArgsProduct({{16, 32, 64, 128}, {0, 12}})->Iterations(1)->Unit(benchmark::kSecond);

// BM_FluidQuantum/D/skew*10/quantum*1e4/training: the fluid model with SimOptions::fluid_quantum against
// the exact fluid model (quantum 0, which matches per pair: docs/simulator.md). Counters: the largest
// relative difference of any phase's time (max over devices), that of each phase that differs, the
// total's, and both wall times.
void BM_FluidQuantum(benchmark::State& state) {
  const int devices = int(state.range(0));
  const CommPlan plan = synthetic_plan(devices, double(state.range(1)) / 10, 2);
  LayerWork w = work(plan);
  if (state.range(3)) w.expert_bwd_s = w.expert_fwd_s;
  SimOptions exact, loose;
  exact.flow_model = loose.flow_model = FlowModel::Fluid;
  exact.fluid_quantum = 0;
  loose.fluid_quantum = double(state.range(2)) * 1e-4;
  LayerSimResult a, b;
  for (auto _ : state) {
    a = simulate_layer(rail_h200(devices / 8), w, exact);
    b = simulate_layer(rail_h200(devices / 8), w, loose);
  }
  double worst = 0;
  for (const auto& [name, pa] : a.phases)
    if (pa.max_s > 0) {
      const double e = (b.phases.at(name).max_s - pa.max_s) / pa.max_s;
      worst = std::max(worst, std::abs(e));
      if (std::abs(e) > 1e-6) state.counters["err_" + name] = e;
      if (std::abs(e) > 1e-6) state.counters["ms_" + name] = pa.max_s * 1e3;
    }
  state.counters["worst_phase_err"] = worst;
  state.counters["err_total"] = (b.total_s - a.total_s) / a.total_s;
  state.counters["wall_exact_s"] = a.wall_s;
  state.counters["wall_quantum_s"] = b.wall_s;
}
BENCHMARK(BM_FluidQuantum)
    ->ArgsProduct({{16, 32, 64, 128}, {0, 12}, {5, 10}, {0, 1}})
    ->ArgsProduct({{256}, {3, 12}, {10}, {0, 1}})
    ->Iterations(1)
    ->Unit(benchmark::kSecond);

}  // namespace
}  // namespace occult
