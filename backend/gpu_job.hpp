#pragma once
// A measured run of one MoE layer on the local GPUs: each strategy's layer (checked, then timed phase
// by phase), and the plain NCCL all-to-all of the standard payload, reduced over ranks.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backend/bootstrap.hpp"
#include "backend/layer_check.hpp"
#include "backend/moe_layer.hpp"
#include "sim/core/cluster_shape.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/strategy.hpp"
#include "sim/core/trace.hpp"
#include "sim/core/workload.hpp"

namespace occult::gpu {

struct GpuJob {
  Workload workload;                 // what runs, as the simulator and validate rebuild it (workload.hpp)
  LayerOptions layer;                // model, seed, training, comm_only, capacity
  std::vector<Strategy> strategies;  // Standard and/or Occult
  bool plain = true;                 // also time a plain all-to-all of the standard payload
  LayerRouting routing;              // the whole layer; ranks take contiguous token blocks
  LayerPlacement placement;
  int gpus = 0;  // ranks the plan is for; 0: every visible GPU (or the mpirun world)
  int iters = 20, warmup = 3;
  int check_tokens = 4;  // sample tokens per rank checked against the CPU reference
  double timeout_s = 120;
  std::vector<std::string> notes;  // what make_job left out of a scenario (printed on stderr, in the JSON)
};

// What one strategy's layer measured and checked on the GPUs; job_record (gpu_report.hpp) writes it as
// the run record's MeasuredStrategy (sim/core/run_record.hpp).
struct StrategyResult {
  Strategy strategy = Strategy::Standard;
  std::array<double, kPhases> phase_s{};  // per phase: median over iterations, max over ranks
  double forward_s = 0, backward_s = 0;   // median per iteration, max over ranks
  std::array<WireBytes, kPhases> wire{};  // remote bytes sent per phase, max over ranks
  CheckResult check;                      // worst over ranks
};

struct PlainRun {
  double dispatch_s = 0, combine_s = 0;
  std::int64_t bytes = 0;  // remote bytes sent per rank (max over ranks)
};

struct JobResult {
  std::vector<StrategyResult> runs;
  std::optional<PlainRun> plain;
  // Standard vs occult outputs, relative Frobenius; -1 when not both ran, or with comm_only, where the
  // two legitimately differ (each token gets back k copies of itself under standard, |Dev_t| under occult).
  double y_diff = -1, dx_diff = -1;
  std::string bootstrap;
  int ranks = 0;
  int rank = 0;  // this process's rank: under mpirun only rank 0 prints
};

// Runs on every rank; every rank returns the same (reduced) result. The first form joins a new
// communicator on the rank's GPU; the second reuses one (tests run many jobs on one communicator).
JobResult run_job_rank(Bootstrap& boot, const GpuJob& job);
JobResult run_job_rank(Bootstrap& boot, Communicator& comm, const GpuJob& job);
// Launches the ranks: joins the mpirun world when started by mpirun, else one thread per GPU.
JobResult run_job(const GpuJob& job);

// Visible GPUs; 0 when there is no driver or device (never throws).
int visible_gpus();
// The device a rank uses: its local rank, checked against the visible GPUs (InputError when short).
int device_for_rank(const Bootstrap& boot);

}  // namespace occult::gpu
