// occult simulate SCENARIO: every strategy x placement of a scenario on the SimGrid cluster model.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "sim/cli/commands.hpp"
#include "sim/cli/host/scenario_run.hpp"
#include "sim/core/memory_budget.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/scenario_memory.hpp"

namespace occult::cli {

void add_simulate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "simulate",
      "Simulate one MoE layer of a scenario on a SimGrid model of the cluster, for every strategy and\n"
      "placement the scenario compares (scenarios/*.toml; docs/scenarios.md lists every key).\n"
      "Prints per-phase times (the slowest GPU's time in layout, dispatch, expert, combine, unpack, and\n"
      "the backward phases when training; distribution over GPUs with --json), the layer time, bytes per\n"
      "link class, the busiest links, the collaboration metrics (ct_occult, ct_node, intra_ratio) and the\n"
      "speedup of each strategy over `standard`. Times are seconds (ms in the table) per MoE layer; bytes\n"
      "are one direction of dispatch per layer. The compute model is a calibration profile when the\n"
      "scenario names one (calibration.profile), else a roofline; the output says which.\n"
      "Example: occult simulate scenarios/default.toml --set cluster.nodes=8 --set "
      "compare.placements=[\"metis\"]");
  struct Opts {
    std::string scenario;
    std::vector<std::string> sets;
    bool json = false;
    std::string timeline;
    int jobs = 1;
    bool quiet = false, verbose = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("scenario", o->scenario, "scenario file (TOML); '-': standard input")->required();
  cmd->add_option("--set", o->sets,
                  "override any scenario key: --set key=value (dotted keys, TOML values: 4, 2.5, true,\n"
                  "\"text\", [\"a\",\"b\"]; a bare word is a string). Repeatable. Unknown keys are an error")
      ->type_name("KEY=VALUE");
  cmd->add_flag("--json", o->json,
                "print one JSON document on stdout (everything, incl. phase distributions)");
  cmd->add_option(
         "--timeline", o->timeline,
         "write a Chrome/Perfetto trace (chrome://tracing, ui.perfetto.dev) of the first simulated\n"
         "layer; with several runs, one file per strategy and placement: OUT.<strategy>.<placement>.json")
      ->type_name("OUT.json");
  cmd->add_option("-j,--jobs", o->jobs, "simulations run in parallel, in forked processes (default 1)")
      ->check(CLI::Range(1, 256));
  cmd->add_flag("-q,--quiet", o->quiet, "no progress lines on stderr");
  cmd->add_flag("-v,--verbose", o->verbose,
                "also what each simulation builds (activities, links) on stderr, and every link correction "
                "the calibration profile applied");
  cmd->callback([o] {
    ScenarioDoc doc = ScenarioDoc::load(o->scenario);
    for (const auto& s : o->sets) doc.set(s);
    // A scenario with sweep axes is simulated at its first point (the first value of every axis);
    // `occult sweep` runs them all, and --set sweep.KEY=[v] or --set KEY=v picks another point.
    // Only the first point is built, however large the sweep.
    const SweepPoint first = doc.sweep_points()[0];
    if (!o->quiet)
      for (const auto& [key, value] : first.values)
        std::fprintf(stderr,
                     "occult simulate: sweep axis %s at its first value %s (occult sweep runs every value)\n",
                     key.c_str(), value.c_str());
    Scenario s = first.doc->resolve();
    // resolve() checked one job; -j runs several at once, each in its own process.
    const std::size_t jobs = std::min(std::size_t(o->jobs), s.placements.size() * std::size_t(s.layers));
    check_memory(sat_mul(estimate_scenario_memory(s).bytes, jobs),
                 "running " + std::to_string(jobs) + " simulations at once (-j)", "", 0, "jobs");
    RunOptions ro;
    ro.jobs = o->jobs;
    ro.progress = !o->quiet;
    ro.verbose = o->verbose;
    ro.timeline_path = o->timeline;
    const ScenarioResult r = run_scenario(s, ro);
    if (o->json) {
      std::cout << scenario_result_json(r).dump(2) << "\n";
    } else {
      print_result(r, stdout, o->verbose);
    }
  });
}

}  // namespace occult::cli
