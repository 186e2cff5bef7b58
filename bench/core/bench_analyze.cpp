// Hot paths of `occult analyze` at production size: 1M tokens, top-8 of 256 experts, D=64 GPUs in
// nodes of 8 (DeepSeek-V3 shape). Goal (issue 2): analyze_layer under 1 s on one core. Run:
//   build/bench/occult_bench_core --benchmark_filter='Analyze|BuildPlan|Prune'
#include <benchmark/benchmark.h>

#include "sim/core/metrics.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/plan.hpp"
#include "sim/core/prune.hpp"
#include "sim/core/trace_gen.hpp"

namespace occult {
namespace {

constexpr std::int64_t kTokens = 1 << 20;
const ClusterShape kShape{64, 8};

// Moderately skewed, clustered routing, generated once and shared by the benchmarks.
const LayerRouting& routing() {
  static const LayerRouting r = [] {
    TraceGenParams p;
    p.experts = 256;
    p.top_k = 8;
    p.tokens = kTokens;
    p.skew = 0.5;
    p.affinity = 0.5;
    p.seed = 1;
    return generate_layer(p, 0);
  }();
  return r;
}

const LayerPlacement& placement() {
  static const LayerPlacement p = contiguous_placement(256, kShape, 1).layers[0];
  return p;
}

void BM_AnalyzeLayer(benchmark::State& state) {
  const auto& r = routing();
  for (auto _ : state) benchmark::DoNotOptimize(analyze_layer(r, placement(), kShape, 7168 * 2));
  state.SetItemsProcessed(state.iterations() * kTokens);
}
BENCHMARK(BM_AnalyzeLayer)->Unit(benchmark::kMillisecond);

void BM_BuildPlan(benchmark::State& state) {
  const auto strategy = Strategy(state.range(0));
  const auto& r = routing();
  for (auto _ : state) benchmark::DoNotOptimize(build_plan(r, 256, placement(), kShape, strategy, 7168 * 2));
  state.SetItemsProcessed(state.iterations() * kTokens);
  state.SetLabel(strategy == Strategy::Standard ? "standard"
                 : strategy == Strategy::Occult ? "occult"
                                                : "hierarchical");
}
BENCHMARK(BM_BuildPlan)
    ->Arg(int(Strategy::Standard))
    ->Arg(int(Strategy::Occult))
    ->Arg(int(Strategy::Hierarchical))
    ->Unit(benchmark::kMillisecond);

void BM_PruneLayer(benchmark::State& state) {
  const auto spec = parse_strategy(state.range(0) == 0 ? "pruned:4" : "pruned:4/similarity");
  const auto& r = routing();
  const SimilarityMatrix sim = SimilarityMatrix::profile(r, 256);
  for (auto _ : state) benchmark::DoNotOptimize(prune_layer(r, placement(), kShape, spec, &sim));
  state.SetItemsProcessed(state.iterations() * kTokens);
  state.SetLabel(spec.name());
}
BENCHMARK(BM_PruneLayer)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_ProfileSimilarity(benchmark::State& state) {
  const auto& r = routing();
  for (auto _ : state) benchmark::DoNotOptimize(SimilarityMatrix::profile(r, 256));
  state.SetItemsProcessed(state.iterations() * kTokens);
}
BENCHMARK(BM_ProfileSimilarity)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace occult
