// occult validate: how far the simulator's predictions are from measured GPU runs (docs/validation.md).
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include "sim/cli/commands.hpp"
#include "sim/cli/host/validation.hpp"
#include "sim/core/error.hpp"

namespace occult::cli {
namespace {

struct Options {
  std::vector<std::string> files;
  ValidateOptions v;
  bool json = false;
  std::string csv, html, plots_dir;
};

// Written beside the target and renamed over it, so an interrupted run never leaves half a file.
void write_atomically(const std::string& path, const std::string& text, const char* option) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (out) out << text;
    out.flush();
    if (!out) throw InputError(path, 0, option, std::string("cannot write: ") + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw InputError(path, 0, option, std::string("cannot replace: ") + std::strerror(errno));
}

std::string command_line(const Options& o) {
  std::string c = "occult validate";
  for (const auto& f : o.files) c += " " + f;
  if (o.v.machines != ValidateOptions{}.machines) c += " --machines " + o.v.machines;
  if (!o.v.profile.empty()) c += " --profile " + o.v.profile;
  if (!o.csv.empty()) c += " --csv " + o.csv;
  if (!o.html.empty()) c += " -o " + o.html;
  return c;
}

void run(const Options& o) {
  const Validation v = validate_runs(o.files, o.v);
  for (const auto& e : v.errors) std::cerr << "occult: error: " << e << "\n";
  // Outputs hold only what could be compared; with bad input none is written, nothing is replaced.
  if (!v.errors.empty()) std::exit(kExitBadInput);
  if (!o.csv.empty()) write_atomically(o.csv, validation_csv(v), "--csv");
  if (!o.html.empty()) write_atomically(o.html, validation_html(v, command_line(o), o.plots_dir), "--output");
  if (o.json) {
    std::cout << validation_json(v).dump(1) << "\n";
  } else {
    print_validation(v, stdout);
  }
  for (const auto& w : v.warnings) std::cerr << "occult validate: warning: " << w << "\n";
}

}  // namespace

void add_validate_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "validate",
      "How far the simulator is from real GPUs: each measured run (the JSON of `occult gpu-run --json`, or a\n"
      "file of several under \"runs\", as reports/validation/run-matrix.sh writes) is simulated as the\n"
      "identical layer (same workload, routing, placement, plan, transport and NCCL modes) on the topology and\n"
      "calibration profile of its machine (--machines), and every phase is compared: measured, predicted,\n"
      "error = (predicted - measured) / measured. A summary gives the median, 90th percentile and worst error\n"
      "per machine and path and per phase class (communication, expert, kernel) and for the whole layer.\n"
      "A run the profile cannot express (a transport or NCCL mode it never measured, a failed check) is\n"
      "listed as not modelled, with the reason, never compared to something else. Runs of a machine with no\n"
      "entry, unreadable or truncated files, and records of another format version are errors (exit 2).\n"
      "Example: occult validate reports/validation/runs-h200.json results/gpu/backend-runs.v2.json \\\n"
      "           --csv out/validation.csv -o out/validation.html");
  cmd->add_option("runs", o->files, "Measured run files (gpu-run --json; a folder is not a file)")->required();
  cmd->add_option("--machines", o->v.machines,
                  "The machines runs come from: GPU, count and path to topology and profile")
      ->default_val(o->v.machines);
  cmd->add_option("--profile", o->v.profile,
                  "Use this calibration profile for every run (another machine's: the cross-machine error)");
  cmd->add_option("--csv", o->csv, "Write every comparison as CSV");
  cmd->add_option("-o,--output", o->html, "Write an HTML page (summary, log-log plot, every comparison)");
  cmd->add_option("--plots-dir", o->plots_dir, "Keep the gnuplot script and SVG here");
  cmd->add_option("-j,--jobs", o->v.jobs, "Parallel simulations per run")->default_val(1);
  cmd->add_flag("--json", o->json, "Print one JSON document on stdout (comparisons, summary, not modelled)");
  cmd->add_flag("--progress", o->v.progress, "Say on stderr when each run has been simulated");
  cmd->callback([o] {
    if (o->v.jobs < 1) throw InputError("", 0, "jobs", "must be >= 1");
    run(*o);
  });
}

}  // namespace occult::cli
