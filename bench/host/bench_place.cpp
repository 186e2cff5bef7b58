// Placement speed. Goal (issue 3): 256 experts on 64 devices for 58 layers from a 1M-token trace in
// under 2 s in total. "1M-token trace" is read as 1M tokens per layer in BM_PlaceLayer (the time x 58
// is the whole trace) and as 1M tokens split over the 58 layers in BM_PlaceTrace.
#include <benchmark/benchmark.h>

#include <string>

#include "sim/core/trace_gen.hpp"
#include "sim/place/layer_placer.hpp"
#include "sim/place/trace_placer.hpp"

namespace occult::place {
namespace {

TraceGenParams dsv3_params(std::int64_t tokens, int layers) {
  TraceGenParams p;
  p.experts = 256;
  p.top_k = 8;
  p.tokens = tokens;
  p.layers = layers;
  p.skew = 0.6;
  p.affinity = 0.5;
  p.seed = 1;
  return p;
}

Algo algo_arg(const benchmark::State& state) { return static_cast<Algo>(state.range(0)); }

// One layer of 256 experts on 64 devices (setup excluded: graph building is part of the timing).
void BM_PlaceLayer(benchmark::State& state) {
  const auto routing = generate_layer(dsv3_params(state.range(1), 1), 0);
  const auto tokens = make_token_sets(routing, 256, 0, routing.tokens());
  PlaceOptions o;
  o.algo = algo_arg(state);
  o.shape = {64, 8};
  for (auto _ : state) benchmark::DoNotOptimize(place_layer(tokens, o, 1));
  state.SetLabel(algo_name(o.algo));
  state.counters["tokens"] = double(routing.tokens());
}

// The whole trace, 58 layers, including the token-set building of every layer.
void BM_PlaceTrace(benchmark::State& state) {
  const auto trace = generate_trace(dsv3_params(state.range(1) / 58, 58));
  PlaceOptions o;
  o.algo = algo_arg(state);
  o.shape = {64, 8};
  const int jobs = int(state.range(2));
  o.recent_weight = int(state.range(3));  // 0: auto, chosen by validation (6 extra half-profile placements)
  for (auto _ : state) benchmark::DoNotOptimize(place_trace(trace, o, 1.0, {}, jobs));
  state.SetLabel(algo_name(o.algo) + " jobs=" + std::to_string(jobs) +
                 (o.recent_weight == 0 ? " recent-weight=auto" : ""));
  state.counters["layers"] = 58;
  state.counters["tokens_per_layer"] = double(trace.tokens_per_layer());
}

constexpr Algo kAlgos[] = {Algo::Greedy, Algo::Metis, Algo::Hierarchical, Algo::LoadAware};

// Wall time is what the goal is about (UseRealTime): with jobs > 1 the layers run on several threads.
// The CPU column is the whole process's (all threads), so a loaded machine's wall time can be checked
// against the work done: on an idle machine with J free cores, wall >= CPU / J.
BENCHMARK(BM_PlaceTrace)
    ->Apply([](auto* b) {
      for (int jobs : {1, 2, 16})
        for (Algo a : kAlgos) b->Args({std::int64_t(a), 1'000'000, jobs, 1});
      b->Args({std::int64_t(Algo::Metis), 1'000'000, 2, 0});
    }) -> Unit(benchmark::kMillisecond) -> UseRealTime() -> MeasureProcessCPUTime() -> Iterations(1);
BENCHMARK(BM_PlaceLayer)
    ->Apply([](auto* b) {
      for (Algo a : kAlgos) b->Args({std::int64_t(a), 1'000'000});
    }) -> Unit(benchmark::kMillisecond) -> Iterations(1);

}  // namespace
}  // namespace occult::place
