// The whole layer on the GPUs against the fp32 CPU reference and standard against occult, over the
// shapes issue 5 names: top-k 1..8, E in {8, 60, 64, 256}, 1 to 16K tokens, skewed loads with idle
// experts, forward and training. One communicator serves every case (NCCL setup is the slow part).
#include <gtest/gtest.h>

#include <algorithm>

#include "backend/gpu_job.hpp"
#include "backend/gpu_report.hpp"
#include "sim/core/error.hpp"
#include "sim/core/plan.hpp"
#include "sim/core/trace_gen.hpp"
#include "test_backend_gpu.hpp"

namespace occult::gpu {
namespace {

struct Case {
  int experts, top_k;
  std::int64_t tokens;  // per GPU
  double skew;
  bool train, comm_only;
  int hidden = 256, ffn = 128;
  bool counts_sync = false;
};

GpuJob make_case(const Case& c, int D, std::uint64_t seed) {
  GpuJob job;
  job.layer.model = ModelConfig{"test", c.experts, c.top_k, c.hidden, c.ffn, 0, 0, 1, 2};
  job.layer.seed = seed;
  job.layer.training = c.train;
  job.layer.comm_only = c.comm_only;
  job.layer.counts_sync = c.counts_sync;
  job.strategies = {Strategy::Standard, Strategy::Occult};
  job.plain = false;
  TraceGenParams gp;
  gp.experts = c.experts;
  gp.top_k = c.top_k;
  gp.tokens = c.tokens * D;
  gp.skew = c.skew;
  gp.seed = seed;
  job.routing = generate_layer(gp, 0);
  job.placement = contiguous_placement(c.experts, {D, D}, 1).layers[0];
  job.iters = 1;
  job.warmup = 0;
  job.check_tokens = 3;
  job.timeout_s = 60;
  return job;
}

void expect_pass(const JobResult& r, const Case& c) {
  SCOPED_TRACE(testing::Message() << "E=" << c.experts << " k=" << c.top_k << " tokens/GPU=" << c.tokens
                                  << " skew=" << c.skew << (c.train ? " train" : "")
                                  << (c.comm_only ? " comm-only" : ""));
  ASSERT_EQ(r.runs.size(), 2u);
  for (const auto& run : r.runs) {
    EXPECT_EQ(run.check.unwritten, 0);
    EXPECT_LT(run.check.y_err, kTolerance);
    EXPECT_LT(run.check.dx_err, kTolerance);
    EXPECT_LT(run.check.dw_err, kTolerance);
    EXPECT_GT(run.check.checked_tokens, 0);
  }
  if (c.comm_only) {
    EXPECT_EQ(r.y_diff, -1.0);  // the closed-form check covers it; the outputs differ by design
  } else {
    EXPECT_GE(r.y_diff, 0.0);
    EXPECT_LT(r.y_diff, kTolerance);
    if (c.train) {
      EXPECT_LT(r.dx_diff, kTolerance);
    }
  }
  // Occult never sends more rows than standard (one copy per device instead of per expert).
  const auto d = std::size_t(Phase::Dispatch);
  EXPECT_LE(r.runs[1].wire[d].rows, r.runs[0].wire[d].rows);
}

void run_cases(const std::vector<Case>& cases, Transport transport = Transport::Nccl,
               P2pCopy copy = P2pCopy::Sm) {
  const int D = std::min(visible_gpus(), 2);
  run_on_threads(D, [&](Bootstrap& boot) {
    Communicator comm(boot, device_for_rank(boot), 60);
    std::uint64_t seed = 100;
    for (const Case& c : cases) {
      GpuJob job = make_case(c, D, ++seed);
      job.layer.transport = transport;
      job.layer.p2p.copy = copy;
      const JobResult r = run_job_rank(boot, comm, job);
      if (boot.rank() == 0) expect_pass(r, c);
    }
  });
}

TEST(BackendLayer, ForwardOverShapes) {
  OCCULT_REQUIRE_GPUS(1);
  run_cases({{8, 1, 513, 0.0, false, false},
             {8, 2, 1, 0.0, false, false},
             {60, 4, 37, 1.2, false, false},
             {64, 6, 300, 0.5, false, false},
             {64, 8, 1024, 1.5, false, false},
             {256, 8, 200, 1.0, false, false}});
}

TEST(BackendLayer, TrainingOverShapes) {
  OCCULT_REQUIRE_GPUS(1);
  run_cases({{8, 2, 129, 0.0, true, false}, {64, 8, 257, 1.5, true, false}, {60, 4, 64, 0.0, true, false}});
}

TEST(BackendLayer, ManyTokensCommOnly) {
  OCCULT_REQUIRE_GPUS(1);
  run_cases({{64, 8, 16384, 1.0, true, true, 2048, 64}, {256, 8, 128, 0.0, false, true, 7168, 64}});
}

// The count all-to-all read back before the pack (sync) and NCCL's non-blocking mode give the same,
// checked results as the defaults (fused counts, blocking NCCL).
TEST(BackendLayer, SyncCountsAndNonBlockingNccl) {
  OCCULT_REQUIRE_GPUS(1);
  run_cases({{64, 8, 300, 1.0, true, false, 256, 128, true}});
  set_nccl_mode(NcclMode::NonBlocking);
  run_cases({{64, 8, 300, 1.0, true, false}, {60, 4, 37, 0.0, false, false, 256, 128, true}});
  set_nccl_mode(NcclMode::Blocking);
}

// The direct P2P transport gives the same checked results, forward and training, with fused and
// sync counts, through both copy methods.
TEST(BackendLayer, P2pTransport) {
  OCCULT_REQUIRE_GPUS(1);
  const std::vector<Case> cases = {{8, 1, 513, 0.0, false, false},
                                   {60, 4, 37, 1.2, false, false},
                                   {64, 8, 257, 1.5, true, false},
                                   {256, 8, 128, 0.0, false, true, 7168, 64},
                                   {64, 8, 300, 1.0, true, false, 256, 128, true}};
  run_cases(cases, Transport::P2p, P2pCopy::Sm);
  run_cases({cases[2], cases[3]}, Transport::P2p, P2pCopy::CopyEngine);
}

TEST(BackendLayer, PlanForOtherGpuCountIsInputError) {
  OCCULT_REQUIRE_GPUS(1);
  const int D = std::min(visible_gpus(), 2);
  run_on_threads(D, [&](Bootstrap& boot) {
    Communicator comm(boot, device_for_rank(boot), 30);
    GpuJob job = make_case({8, 2, 16, 0.0, false, false}, D, 1);
    const int other = D * 2;
    job.placement = contiguous_placement(8, {other, other}, 1).layers[0];
    const CommPlan plan = build_plan(job.routing, 8, job.placement, {other, other}, Strategy::Occult, 512);
    EXPECT_THROW(MoeLayerRank(comm, job.layer, job.routing, job.placement, plan), InputError);
  });
}

TEST(BackendLayer, TooManyTokensForTheBuffersIsInputError) {
  OCCULT_REQUIRE_GPUS(1);
  const int D = std::min(visible_gpus(), 2);
  run_on_threads(D, [&](Bootstrap& boot) {
    Communicator comm(boot, device_for_rank(boot), 30);
    GpuJob job = make_case({8, 2, 64, 0.0, false, false}, D, 1);
    job.layer.max_tokens = 32;
    const CommPlan plan = build_plan(job.routing, 8, job.placement, {D, D}, Strategy::Standard, 512);
    EXPECT_THROW(MoeLayerRank(comm, job.layer, job.routing, job.placement, plan), InputError);
  });
}

}  // namespace
}  // namespace occult::gpu
