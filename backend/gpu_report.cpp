#include "backend/gpu_report.hpp"

#include <iomanip>
#include <ostream>

#include "backend/communicator.hpp"
#include "backend/provenance.hpp"
#include "kernels/expert_ffn_backward.hpp"

namespace occult::gpu {
namespace {

double us(double s) { return s * 1e6; }
double gbps(std::int64_t bytes, double s) { return s > 0 ? double(bytes) / s / 1e9 : 0.0; }

bool run_passed(const StrategyResult& r) { return r.check.unwritten == 0 && r.check.worst() < kTolerance; }

std::int64_t wire_total(const WireBytes& w) { return w.rows + w.meta; }

int used_phases(const GpuJob& job) { return job.layer.training ? kPhases : int(Phase::Unpack) + 1; }

}  // namespace

bool job_passed(const JobResult& r) {
  for (const auto& run : r.runs)
    if (!run_passed(run)) return false;
  return r.y_diff < kTolerance && r.dx_diff < kTolerance;
}

RunRecord job_record(const GpuJob& job, const JobResult& r, const std::string& path) {
  RunRecord rec;
  rec.provenance = collect_provenance();
  rec.workload = job.workload;
  RunExecution& e = rec.execution;
  // One GPU exchanges nothing over a link: its exchanges are the own-block copies alone.
  e.path = r.ranks > 1 ? path : "local";
  e.transport = transport_name(job.layer.transport);
  if (job.layer.transport == Transport::P2p) {
    e.p2p_copy = p2p_copy_name(job.layer.p2p.copy);
    e.p2p_blocks = job.layer.p2p.blocks;
  }
  e.nccl_mode = nccl_mode_name(nccl_mode());
  e.counts = job.layer.counts_sync ? "sync" : "fused";
  e.comm_only = job.layer.comm_only;
  e.bootstrap = r.bootstrap;
  e.ranks = r.ranks;
  e.iters = job.iters;
  e.warmup = job.warmup;
  e.backward_kernel = job.layer.training && !job.layer.comm_only
                          ? std::string("expert_ffn_backward/") +
                                kernels::backward_path_name(kernels::default_backward_path())
                          : "";
  for (const auto& run : r.runs) {
    MeasuredStrategy m;
    m.strategy = run.strategy == Strategy::Standard ? "standard" : "occult";
    m.forward_s = run.forward_s;
    if (job.layer.training) m.backward_s = run.backward_s;
    for (int q = 0; q < used_phases(job); ++q) {
      const auto ph = Phase(q);
      if (job.layer.comm_only && (ph == Phase::Expert || ph == Phase::ExpertBackward)) continue;
      m.phase_s[phase_name(ph)] = run.phase_s[std::size_t(q)];
      const WireBytes& w = run.wire[std::size_t(q)];
      if (wire_total(w) > 0) {
        m.wire_rows[phase_name(ph)] = double(w.rows);
        m.wire_meta[phase_name(ph)] = double(w.meta);
      }
    }
    m.pass = run_passed(run);
    m.check = {{"unwritten", run.check.unwritten}, {"checked_tokens", run.check.checked_tokens},
               {"y_rel_err", run.check.y_err},     {"dx_rel_err", run.check.dx_err},
               {"dw_rel_err", run.check.dw_err},   {"tolerance", kTolerance}};
    rec.strategies.push_back(std::move(m));
  }
  if (r.plain) {
    rec.extra["plain_nccl"] = {{"dispatch_us", us(r.plain->dispatch_s)},
                               {"combine_us", us(r.plain->combine_s)},
                               {"bytes", r.plain->bytes},
                               {"dispatch_GBps", gbps(r.plain->bytes, r.plain->dispatch_s)},
                               {"combine_GBps", gbps(r.plain->bytes, r.plain->combine_s)}};
  }
  if (r.y_diff >= 0) {
    rec.extra["occult_vs_standard"] = {{"y_rel_err", r.y_diff}};
    if (r.dx_diff >= 0) rec.extra["occult_vs_standard"]["dx_rel_err"] = r.dx_diff;
  }
  rec.pass = job_passed(r);
  rec.notes = job.notes;
  return rec;
}

nlohmann::json job_to_json(const GpuJob& job, const JobResult& r, const std::string& path) {
  return run_record_to_json(job_record(job, r, path));
}

void print_job(std::ostream& os, const GpuJob& job, const JobResult& r, const std::string& path) {
  const ModelConfig& m = job.layer.model;
  os << "occult gpu-run: " << m.name << " (E=" << m.experts << ", k=" << m.top_k << ", h=" << m.hidden
     << ", f=" << m.ffn << "), " << job.routing.tokens() / std::max(r.ranks, 1) << " tokens/GPU on "
     << r.ranks << " GPUs (" << r.bootstrap << "), path " << path
     << (job.layer.training ? ", training" : ", forward")
     << (job.layer.comm_only ? ", dispatch+combine only" : "") << "\n";
  os << "transport " << transport_name(job.layer.transport);
  if (job.layer.transport == Transport::P2p) os << " (" << p2p_copy_name(job.layer.p2p.copy) << " copy)";
  os << "; NCCL " << nccl_mode_name(nccl_mode()) << ", counts "
     << (job.layer.counts_sync ? "sync (a count exchange before the pack)" : "fused into the dispatch")
     << "\n";
  os << "times: median of " << job.iters
     << " iterations, slowest rank; bytes: remote bytes sent per rank\n\n";
  os << std::left << std::setw(16) << "phase";
  for (const auto& run : r.runs)
    os << std::right << std::setw(14) << (run.strategy == Strategy::Standard ? "standard us" : "occult us");
  os << "\n";
  for (int q = 0; q < used_phases(job); ++q) {
    const auto ph = Phase(q);
    if (job.layer.comm_only && (ph == Phase::Expert || ph == Phase::ExpertBackward)) continue;
    os << std::left << std::setw(16) << phase_name(ph);
    for (const auto& run : r.runs)
      os << std::right << std::setw(14) << std::fixed << std::setprecision(1)
         << us(run.phase_s[std::size_t(q)]);
    os << "\n";
  }
  os << std::left << std::setw(16) << "forward";
  for (const auto& run : r.runs) os << std::right << std::setw(14) << us(run.forward_s);
  os << "\n";
  if (job.layer.training) {
    os << std::left << std::setw(16) << "backward";
    for (const auto& run : r.runs) os << std::right << std::setw(14) << us(run.backward_s);
    os << "\n";
  }
  os << "\n";
  for (const auto& run : r.runs) {
    const WireBytes& d = run.wire[std::size_t(Phase::Dispatch)];
    os << (run.strategy == Strategy::Standard ? "standard" : "occult  ") << "  dispatch "
       << std::setprecision(2) << double(wire_total(d)) / 1e6 << " MB at "
       << gbps(wire_total(d), run.phase_s[std::size_t(Phase::Dispatch)]) << " GB/s; check: y "
       << std::scientific << std::setprecision(2) << run.check.y_err;
    if (job.layer.training) os << ", dx " << run.check.dx_err << ", dw " << run.check.dw_err;
    os << std::fixed << ", unwritten " << run.check.unwritten << (run_passed(run) ? "  PASS" : "  FAIL")
       << "\n";
  }
  if (r.plain) {
    os << "plain NCCL all-to-all of the standard payload: " << std::setprecision(2)
       << double(r.plain->bytes) / 1e6 << " MB, dispatch " << std::setprecision(1) << us(r.plain->dispatch_s)
       << " us (" << std::setprecision(2) << gbps(r.plain->bytes, r.plain->dispatch_s) << " GB/s), combine "
       << std::setprecision(1) << us(r.plain->combine_s) << " us\n";
  }
  if (r.y_diff >= 0) {
    os << "occult vs standard: y " << std::scientific << std::setprecision(2) << r.y_diff;
    if (r.dx_diff >= 0) os << ", dx " << r.dx_diff;
    os << std::fixed << "\n";
  }
  os << (job_passed(r) ? "PASS" : "FAIL") << " (tolerance " << kTolerance << ")\n";
}

}  // namespace occult::gpu
