#pragma once
// A measured run of one MoE layer on real GPUs (`occult gpu-run --json`), as `occult validate` reads
// it back: provenance, the workload (workload.hpp: enough to rebuild the identical routing, placement
// and plan), how it was executed, and per strategy the phase times. One type, one codec
// (docs/formats/gpu-run.md); a file holds one record, or several under "runs".
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/calibration.hpp"
#include "sim/core/workload.hpp"

namespace occult {

inline constexpr int kRunRecordVersion = 2;

struct RunExecution {
  std::string path = "nvlink";        // link class the GPUs talked over: nvlink, pcie, network; "local" for one GPU
  std::string transport = "nccl";     // nccl, p2p
  std::string p2p_copy;               // sm, ce (p2p only)
  int p2p_blocks = 0;                 // p2p only; 0: one per SM
  std::string nccl_mode = "blocking";  // blocking, nonblocking
  std::string counts = "fused";       // fused, sync
  bool comm_only = false;             // no expert FFN (the combine returns the received rows)
  std::string bootstrap = "threads";  // threads (one process), mpi (one process per GPU)
  int ranks = 1;
  int iters = 0, warmup = 0;
  std::string backward_kernel;  // which expert backward ran (kernels/expert_ffn_backward.hpp)
};

struct MeasuredStrategy {
  std::string strategy;  // standard, occult
  // Per phase (phases.hpp names): median over iterations of the device's span, max over ranks.
  std::map<std::string, double> phase_s;
  double forward_s = 0;    // median per-iteration forward span, max over ranks
  double backward_s = -1;  // likewise; < 0 without a backward pass
  std::map<std::string, double> wire_rows, wire_meta;  // remote bytes sent per rank, per phase
  bool pass = false;                                    // the fp32 reference check
  nlohmann::json check;                                 // the check's details, as measured
  double layer_s() const { return forward_s + (backward_s > 0 ? backward_s : 0); }
};

struct RunRecord {
  Provenance provenance;
  Workload workload;
  RunExecution execution;
  std::vector<MeasuredStrategy> strategies;
  bool pass = false;
  std::vector<std::string> notes;
  nlohmann::json extra = nlohmann::json::object();  // plain_nccl, occult_vs_standard: kept, not read
};

nlohmann::json run_record_to_json(const RunRecord& r);
// InputError naming `where` and the field for anything missing or wrong, and for another version.
RunRecord run_record_from_json(const nlohmann::json& j, const std::string& where);

struct NamedRecord {
  std::string name;  // the file name, or "file:key" for a file of several runs
  RunRecord record;
};
// A file of one record, or of several: {"format": "occult-gpu-runs", "runs": {"name": record, ...}}.
std::vector<NamedRecord> read_run_records(const std::string& path);

}  // namespace occult
