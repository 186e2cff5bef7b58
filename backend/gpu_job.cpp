#include "backend/gpu_job.hpp"

#include <algorithm>
#include <mutex>

#include "backend/event_timer.hpp"
#include "backend/gpu_error.hpp"
#include "sim/core/error.hpp"
#include "sim/core/plan.hpp"

namespace occult::gpu {
namespace {

// Elementwise max over ranks.
std::vector<double> all_max(Bootstrap& boot, const std::vector<double>& v) {
  std::vector<double> all(v.size() * std::size_t(boot.size()));
  boot.allgather(v.data(), all.data(), v.size() * sizeof(double));
  std::vector<double> out(v);
  for (int r = 0; r < boot.size(); ++r)
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = std::max(out[i], all[std::size_t(r) * v.size() + i]);
  return out;
}

StrategyResult run_strategy(Bootstrap& boot, Communicator& comm, const GpuJob& job, const CommPlan& plan,
                            LayerOutputs& outputs) {
  StrategyResult run;
  run.strategy = plan.strategy;
  MoeLayerRank layer(comm, job.layer, job.routing, job.placement, plan);
  const int used = job.layer.training ? kPhases : int(Phase::Unpack) + 1;

  // Checked run first, on poisoned outputs.
  layer.poison_outputs();
  layer.run();
  comm.wait();
  layer.verify_counts();
  outputs = read_outputs(layer);
  run.check = check_layer(layer, outputs, job.routing, job.placement, job.check_tokens);

  for (int i = 0; i < job.warmup; ++i) layer.run();
  const std::size_t per = std::size_t(kPhases) + 1;
  Events ev(per * std::size_t(job.iters));
  boot.barrier();
  for (int i = 0; i < job.iters; ++i) layer.run(ev.data() + std::size_t(i) * per);
  comm.wait();
  layer.verify_counts();

  std::vector<double> mine;
  for (int p = 0; p < used; ++p) {
    std::vector<double> t;
    for (int i = 0; i < job.iters; ++i)
      t.push_back(
          ev.seconds(std::size_t(i) * per + std::size_t(p), std::size_t(i) * per + std::size_t(p) + 1));
    mine.push_back(median(t));
  }
  std::vector<double> fwd, bwd;
  const std::size_t fwd_end = std::size_t(Phase::Unpack) + 1;
  for (int i = 0; i < job.iters; ++i) {
    fwd.push_back(ev.seconds(std::size_t(i) * per, std::size_t(i) * per + fwd_end));
    if (job.layer.training)
      bwd.push_back(ev.seconds(std::size_t(i) * per + fwd_end, std::size_t(i) * per + per - 1));
  }
  mine.push_back(median(fwd));
  mine.push_back(median(bwd));
  for (int p = 0; p < kPhases; ++p) {
    mine.push_back(double(layer.wire_bytes(Phase(p)).rows));
    mine.push_back(double(layer.wire_bytes(Phase(p)).meta));
  }
  mine.push_back(double(run.check.unwritten));
  mine.push_back(run.check.y_err);
  mine.push_back(run.check.dx_err);
  mine.push_back(run.check.dw_err);
  mine.push_back(double(run.check.checked_tokens));
  const auto all = all_max(boot, mine);
  std::size_t at = 0;
  for (int p = 0; p < used; ++p) run.phase_s[std::size_t(p)] = all[at++];
  run.forward_s = all[at++];
  run.backward_s = all[at++];
  for (int p = 0; p < kPhases; ++p) {
    run.wire[std::size_t(p)].rows = std::int64_t(all[at++]);
    run.wire[std::size_t(p)].meta = std::int64_t(all[at++]);
  }
  run.check.unwritten = std::int64_t(all[at++]);
  run.check.y_err = all[at++];
  run.check.dx_err = all[at++];
  run.check.dw_err = all[at++];
  run.check.checked_tokens = std::int64_t(all[at++]);
  return run;
}

PlainRun run_plain(Bootstrap& boot, Communicator& comm, const GpuJob& job, const CommPlan& standard) {
  PlainExchange x(comm, standard, job.layer.model.row_bytes());
  for (int i = 0; i < job.warmup; ++i) {
    Events ev(3);
    x.run(ev.data());
  }
  Events ev(3 * std::size_t(job.iters));
  boot.barrier();
  for (int i = 0; i < job.iters; ++i) x.run(ev.data() + 3 * std::size_t(i));
  comm.wait();
  std::vector<double> d, c;
  for (int i = 0; i < job.iters; ++i) {
    d.push_back(ev.seconds(3 * std::size_t(i), 3 * std::size_t(i) + 1));
    c.push_back(ev.seconds(3 * std::size_t(i) + 1, 3 * std::size_t(i) + 2));
  }
  const auto all = all_max(boot, {median(d), median(c), double(x.wire_bytes().rows)});
  return {all[0], all[1], std::int64_t(all[2])};
}

}  // namespace

int visible_gpus() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n;
}

int device_for_rank(const Bootstrap& boot) {
  const int n = visible_gpus();
  if (boot.local_rank() >= n)
    throw InputError("", 0, "devices",
                     "rank " + std::to_string(boot.rank()) + " needs GPU " +
                         std::to_string(boot.local_rank()) + " on its node but " + std::to_string(n) +
                         " GPU(s) are visible");
  return boot.local_rank();
}

JobResult run_job_rank(Bootstrap& boot, const GpuJob& job) {
  Communicator comm(boot, device_for_rank(boot), job.timeout_s);
  return run_job_rank(boot, comm, job);
}

JobResult run_job_rank(Bootstrap& boot, Communicator& comm, const GpuJob& job) {
  if (job.gpus > 0 && job.gpus != boot.size())
    throw InputError("", 0, "gpus",
                     "the plan is for " + std::to_string(job.gpus) + " GPUs but " +
                         std::to_string(boot.size()) + " ranks joined");
  const ClusterShape shape{boot.size(), boot.size()};
  if (int(job.placement.device_of.size()) != job.layer.model.experts)
    throw InputError("", 0, "placement", "the placement does not cover the model's experts");
  JobResult res;
  res.bootstrap = boot.kind();
  res.ranks = boot.size();
  res.rank = boot.rank();
  std::vector<LayerOutputs> outs;
  std::optional<CommPlan> standard_plan;
  for (Strategy s : job.strategies) {
    CommPlan plan = build_plan(job.routing, job.layer.model.experts, job.placement, shape, s,
                               job.layer.model.row_bytes());
    outs.emplace_back();
    res.runs.push_back(run_strategy(boot, comm, job, plan, outs.back()));
    if (s == Strategy::Standard) standard_plan = std::move(plan);
  }
  if (outs.size() == 2 && !job.layer.comm_only) {
    std::vector<double> d = {rel_error_bf16(outs[1].y, outs[0].y),
                             job.layer.training ? rel_error_bf16(outs[1].dx, outs[0].dx) : 0.0};
    d = all_max(boot, d);
    res.y_diff = d[0];
    res.dx_diff = job.layer.training ? d[1] : -1;
  }
  if (job.plain) {
    if (!standard_plan)
      standard_plan = build_plan(job.routing, job.layer.model.experts, job.placement, shape,
                                 Strategy::Standard, job.layer.model.row_bytes());
    res.plain = run_plain(boot, comm, job, *standard_plan);
  }
  return res;
}

JobResult run_job(const GpuJob& job) {
  if (launched_by_mpi()) {
    auto boot = make_mpi_bootstrap();
    if (job.gpus > 0 && job.gpus != boot->size())
      throw InputError("", 0, "gpus",
                       "the plan is for " + std::to_string(job.gpus) + " GPUs but mpirun started " +
                           std::to_string(boot->size()) + " ranks");
    return run_job_rank(*boot, job);
  }
  const int visible = visible_gpus();
  if (visible < 1) throw GpuError("no CUDA GPU is visible on this machine");
  const int ranks = job.gpus > 0 ? job.gpus : visible;
  if (ranks > visible)
    throw InputError("", 0, "gpus",
                     "the plan is for " + std::to_string(ranks) + " GPUs but " + std::to_string(visible) +
                         " are visible; use mpirun across nodes or plan for fewer GPUs");
  JobResult result;
  std::mutex m;
  run_on_threads(ranks, [&](Bootstrap& b) {
    JobResult r = run_job_rank(b, job);
    if (b.rank() == 0) {
      std::lock_guard lock(m);
      result = std::move(r);
    }
  });
  return result;
}

}  // namespace occult::gpu
