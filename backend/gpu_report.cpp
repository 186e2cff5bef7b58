#include "backend/gpu_report.hpp"

#include <iomanip>
#include <ostream>

#include "backend/communicator.hpp"
#include "backend/provenance.hpp"

namespace occult::gpu {
namespace {

double us(double s) { return s * 1e6; }
double gbps(std::int64_t bytes, double s) { return s > 0 ? double(bytes) / s / 1e9 : 0.0; }

bool run_passed(const StrategyRun& r) { return r.check.unwritten == 0 && r.check.worst() < kTolerance; }

std::int64_t wire_total(const WireBytes& w) { return w.rows + w.meta; }

int used_phases(const GpuJob& job) { return job.layer.training ? kPhases : int(Phase::Unpack) + 1; }

}  // namespace

bool job_passed(const JobResult& r) {
  for (const auto& run : r.runs)
    if (!run_passed(run)) return false;
  return r.y_diff < kTolerance && r.dx_diff < kTolerance;
}

nlohmann::json job_to_json(const GpuJob& job, const JobResult& r, const std::string& path) {
  const ModelConfig& m = job.layer.model;
  const Provenance p = collect_provenance();
  nlohmann::json j;
  j["provenance"] = {
      {"gpu_name", p.gpu_name}, {"gpu_count", p.gpu_count}, {"driver", p.driver},   {"cuda", p.cuda},
      {"nccl", p.nccl},         {"date", p.date},           {"command", p.command}, {"host", p.host}};
  j["path"] = path;
  j["bootstrap"] = r.bootstrap;
  j["nccl_mode"] = nccl_mode_name(nccl_mode());
  j["counts"] = job.layer.counts_sync ? "sync" : "fused";
  j["transport"] = transport_name(job.layer.transport);
  if (job.layer.transport == Transport::P2p)
    j["p2p"] = {{"copy", p2p_copy_name(job.layer.p2p.copy)}, {"blocks", job.layer.p2p.blocks}};
  j["notes"] = job.notes;
  j["ranks"] = r.ranks;
  j["model"] = {
      {"name", m.name}, {"experts", m.experts}, {"top_k", m.top_k}, {"hidden", m.hidden}, {"ffn", m.ffn}};
  j["tokens_per_gpu"] = r.ranks > 0 ? job.routing.tokens() / r.ranks : 0;
  j["training"] = job.layer.training;
  j["comm_only"] = job.layer.comm_only;
  j["iters"] = job.iters;
  j["seed"] = job.layer.seed;
  j["tolerance"] = kTolerance;
  j["strategies"] = nlohmann::json::array();
  for (const auto& run : r.runs) {
    nlohmann::json s;
    s["strategy"] = run.strategy == Strategy::Standard ? "standard" : "occult";
    s["forward_us"] = us(run.forward_s);
    if (job.layer.training) s["backward_us"] = us(run.backward_s);
    for (int q = 0; q < used_phases(job); ++q) {
      const auto ph = Phase(q);
      if (job.layer.comm_only && (ph == Phase::Expert || ph == Phase::ExpertBackward)) continue;
      s["phases_us"][phase_name(ph)] = us(run.phase_s[std::size_t(q)]);
      const WireBytes& w = run.wire[std::size_t(q)];
      if (wire_total(w) > 0) {
        s["wire_bytes"][phase_name(ph)] = {{"rows", w.rows}, {"meta", w.meta}};
        s["wire_GBps"][phase_name(ph)] = gbps(wire_total(w), run.phase_s[std::size_t(q)]);
      }
    }
    s["check"] = {{"unwritten", run.check.unwritten}, {"checked_tokens", run.check.checked_tokens},
                  {"y_rel_err", run.check.y_err},     {"dx_rel_err", run.check.dx_err},
                  {"dw_rel_err", run.check.dw_err},   {"pass", run_passed(run)}};
    j["strategies"].push_back(s);
  }
  if (r.plain) {
    j["plain_nccl"] = {{"dispatch_us", us(r.plain->dispatch_s)},
                       {"combine_us", us(r.plain->combine_s)},
                       {"bytes", r.plain->bytes},
                       {"dispatch_GBps", gbps(r.plain->bytes, r.plain->dispatch_s)},
                       {"combine_GBps", gbps(r.plain->bytes, r.plain->combine_s)}};
  }
  if (r.y_diff >= 0) {
    j["occult_vs_standard"] = {{"y_rel_err", r.y_diff}};
    if (r.dx_diff >= 0) j["occult_vs_standard"]["dx_rel_err"] = r.dx_diff;
  }
  j["pass"] = job_passed(r);
  return j;
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
