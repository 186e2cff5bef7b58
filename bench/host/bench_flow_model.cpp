// The flow models against per pair over the routed regimes of tests/host/test_engine_util.hpp
// (`routed_regimes`; 16 GPUs: 4 rail-optimized nodes of 4, 2 nodes per leaf; standard/occult/hierarchical
// x uniform/skewed routing x forward/training x no overlap/2 chunks).
//   BM_FlowModelRegimes/k: the grouped model with SimOptions::aggregate_buckets = k; k = -1: the link-drain
//   model (8 ready-time buckets); k = -2: the fluid model. Counters: each regime's largest relative
//   difference of any phase's time (max over devices) or the total (percent, signed), how many regimes
//   are within 2%, and the summed simulation wall time of each model.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "tests/host/test_engine_util.hpp"

namespace occult {
namespace {

double worst_percent(const LayerSimResult& exact, const LayerSimResult& grouped) {
  double worst = 0;
  auto consider = [&](double a, double b) {
    if (a > 0 && std::abs(b - a) / a > std::abs(worst) / 100) worst = 100 * (b - a) / a;
  };
  for (const auto& [name, pa] : exact.phases) consider(pa.max_s, grouped.phases.at(name).max_s);
  consider(exact.total_s, grouped.total_s);
  return worst;
}

void BM_FlowModelRegimes(benchmark::State& state) {
  SimOptions exact, grouped;
  exact.per_pair_flows = true;
  grouped.flow_model = state.range(0) == -2 ? FlowModel::Fluid
                       : state.range(0) < 0 ? FlowModel::LinkDrain
                                            : FlowModel::Grouped;
  grouped.aggregate_buckets = std::max(0, int(state.range(0)));
  for (auto _ : state) {
    int within = 0;
    double wall_exact = 0, wall_model = 0;
    for (const test::Regime& r : test::routed_regimes()) {
      const CommPlan plan = test::regime_plan(r);
      const LayerWork w = test::regime_work(r, plan);
      const auto a = simulate_layer(test::regime_topology(), w, exact);
      const auto b = simulate_layer(test::regime_topology(), w, grouped);
      wall_exact += a.wall_s;
      wall_model += b.wall_s;
      const double worst = worst_percent(a, b);
      if (std::abs(worst) <= 2) ++within;
      state.counters[test::regime_name(r)] = worst;
    }
    state.counters["regimes_within_2pct"] = within;
    state.counters["wall_per_pair_s"] = wall_exact;
    state.counters["wall_model_s"] = wall_model;
  }
}
BENCHMARK(BM_FlowModelRegimes)
    ->Arg(0)
    ->Arg(8)
    ->Arg(100)
    ->Arg(-1)
    ->Arg(-2)
    ->Iterations(1)
    ->Unit(benchmark::kSecond);

}  // namespace
}  // namespace occult
