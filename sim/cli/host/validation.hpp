#pragma once
// `occult validate`: each measured run (sim/core/run_record.hpp) simulated as the identical layer (the
// same workload through the same path to routing, placement and plan; the same transport and modes; the
// topology and calibration profile of the run's machine), and the two compared phase by phase
// (docs/validation.md).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/phases.hpp"

namespace occult::cli {

// One measured number against its prediction. `phase` is a phase name (sim/core/phases.hpp) or "layer"
// (the whole layer: forward, plus backward in training).
struct Comparison {
  std::string run, strategy, phase;
  std::string cls;    // "layer", or the phase's class: "communication", "expert", "kernel"
  std::string group;  // the machine and path: "NVIDIA H200 x1 local", "NVIDIA H200 x2 nvlink p2p", ...
  double measured_s = 0, predicted_s = 0;
  double error() const { return measured_s > 0 ? (predicted_s - measured_s) / measured_s : 0.0; }
};

struct NotModelled {
  std::string run, reason;
};

struct RunSource {
  std::string run;  // name (file, or file:key)
  std::string group, topology, profile, gpu, date, command, commit;
};

struct Validation {
  std::vector<Comparison> rows;
  std::vector<NotModelled> not_modelled;
  std::vector<RunSource> sources;
  std::vector<std::string> warnings;
  std::vector<std::string> errors;  // inputs that could not be read or matched (exit 2)
};

struct ValidateOptions {
  std::string machines = "calibration/machines.toml";
  std::string profile;  // replaces every machine's profile (a profile from another machine)
  int jobs = 1;
  bool progress = false;
};

Validation validate_runs(const std::vector<std::string>& files, const ValidateOptions& opt);

// |error| statistics of a set of comparisons: median, 90th percentile, and the worst (signed).
struct ErrorStats {
  std::size_t n = 0;
  double median = 0, p90 = 0, worst = 0;
};
ErrorStats error_stats(const std::vector<const Comparison*>& rows);

// Summary rows: per group and class, per class over every group, and the whole layer overall.
struct SummaryRow {
  std::string group, cls;
  ErrorStats stats;
};
std::vector<SummaryRow> summarize(const Validation& v);

void print_validation(const Validation& v, std::FILE* out);
nlohmann::json validation_json(const Validation& v);
std::string validation_csv(const Validation& v);
// One self-contained page: summary, a predicted-vs-measured log-log plot, every comparison, what was
// not modelled and where the numbers came from. `plots_dir` keeps the gnuplot script (may be empty).
std::string validation_html(const Validation& v, const std::string& command, const std::string& plots_dir);

}  // namespace occult::cli
