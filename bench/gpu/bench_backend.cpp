// Dispatch + combine on 2 GPUs (threads fallback, one communicator per GPU), standard vs occult vs
// the plain NCCL all-to-all of the standard payload, on NCCL (p2p:0) or the direct P2P transport
// (p2p:1, SM copy; p2p:2, copy engines), at DeepSeek-V3 width (h 7168, 256 experts,
// top-8, contiguous placement). Manual time: the GPU events around the two exchanges of rank 0.
// The side-by-side table of record comes from `occult gpu-run` (scripts/gpu/backend.sh); this is
// the same measurement in Google Benchmark form for quick A/B work on the runtime.
#include <benchmark/benchmark.h>

#include "backend/event_timer.hpp"
#include "backend/gpu_job.hpp"
#include "sim/core/model.hpp"
#include "sim/core/plan.hpp"
#include "sim/core/trace_gen.hpp"

namespace occult::gpu {
namespace {

enum Variant { kStandard = 0, kOccult = 1, kPlain = 2 };

// Rank 0 drives the benchmark loop and tells the other ranks, through the bootstrap, whether
// another iteration follows; every rank runs the same exchanges.
void bm_exchange(benchmark::State& state) {
  if (visible_gpus() < 2) {
    state.SkipWithError("needs 2 GPUs");
    return;
  }
  const std::int64_t tokens = state.range(0);
  const auto variant = Variant(state.range(1));
  const auto p2p = state.range(2);
  const ModelConfig m = model_preset("deepseek-v3");
  TraceGenParams gp;
  gp.experts = m.experts;
  gp.top_k = m.top_k;
  gp.tokens = tokens * 2;
  const LayerRouting routing = generate_layer(gp, 0);
  const LayerPlacement placement = contiguous_placement(m.experts, {2, 2}, 1).layers[0];
  LayerOptions opt;
  opt.model = m;
  opt.comm_only = true;
  opt.transport = p2p ? Transport::P2p : Transport::Nccl;
  opt.p2p.copy = p2p == 2 ? P2pCopy::CopyEngine : P2pCopy::Sm;
  double bytes = 0;
  run_on_threads(2, [&](Bootstrap& boot) {
    Communicator comm(boot, device_for_rank(boot), 60);
    const CommPlan plan =
        build_plan(routing, m.experts, placement, {2, 2},
                   variant == kOccult ? Strategy::Occult : Strategy::Standard, m.row_bytes());
    std::unique_ptr<MoeLayerRank> layer;
    std::unique_ptr<PlainExchange> plain;
    if (variant == kPlain) {
      plain = std::make_unique<PlainExchange>(comm, plan, m.row_bytes());
    } else {
      layer = std::make_unique<MoeLayerRank>(comm, opt, routing, placement, plan);
    }
    Events ev(std::size_t(kPhases) + 1);
    auto step = [&] {
      if (plain) {
        plain->run(ev.data());
        comm.wait();
        return ev.seconds(0, 2);
      }
      layer->run(ev.data());
      comm.wait();
      layer->verify_counts();
      return ev.seconds(std::size_t(Phase::Dispatch), std::size_t(Phase::Dispatch) + 1) +
             ev.seconds(std::size_t(Phase::Combine), std::size_t(Phase::Combine) + 1);
    };
    if (boot.rank() == 0) {
      bytes =
          plain
              ? double(plain->wire_bytes().rows)
              : double(layer->wire_bytes(Phase::Dispatch).rows + layer->wire_bytes(Phase::Combine).rows) / 2;
      for (auto _ : state) {
        int go = 1;
        boot.broadcast(&go, sizeof go, 0);
        state.SetIterationTime(step());
      }
      int stop = 0;
      boot.broadcast(&stop, sizeof stop, 0);
    } else {
      for (;;) {
        int go = 0;
        boot.broadcast(&go, sizeof go, 0);
        if (!go) break;
        step();
      }
    }
  });
  // Remote bytes per rank: one direction, moved twice (dispatch and combine).
  state.SetBytesProcessed(std::int64_t(2 * bytes) * std::int64_t(state.iterations()));
}

BENCHMARK(bm_exchange)
    ->Name("backend/dispatch_combine")
    ->ArgNames({"tokens", "variant", "p2p"})
    ->Apply([](benchmark::internal::Benchmark* b) {
      for (std::int64_t t : {128, 8192, 32768})
        for (std::int64_t v : {kStandard, kOccult, kPlain})
          for (std::int64_t p : {0, 1, 2})
            if (v != kPlain || p == 0) b->Args({t, v, p});  // the plain all-to-all is the NCCL reference
    })
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(0.2);

}  // namespace
}  // namespace occult::gpu
