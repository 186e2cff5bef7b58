// occult sweep SCENARIO -o results.csv: every point of the scenario's sweep axes, resumable, parallel.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <set>

#include "sim/cli/commands.hpp"
#include "sim/cli/host/results_csv.hpp"
#include "sim/cli/host/results_log.hpp"
#include "sim/cli/host/scenario_run.hpp"
#include "sim/core/error.hpp"
#include "sim/core/memory_budget.hpp"
#include "sim/core/output_file.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/scenario_memory.hpp"
#include "sim/engine/fork_run.hpp"

namespace occult::cli {
namespace {

std::pair<int, int> parse_shard(const std::string& text) {
  auto slash = text.find('/');
  int i = -1, n = 0;
  bool ok = slash != std::string::npos;
  if (ok) {
    auto [p1, e1] = std::from_chars(text.data(), text.data() + slash, i);
    auto [p2, e2] = std::from_chars(text.data() + slash + 1, text.data() + text.size(), n);
    ok = e1 == std::errc() && e2 == std::errc() && p1 == text.data() + slash &&
         p2 == text.data() + text.size() && n >= 1 && i >= 0 && i < n;
  }
  if (!ok)
    throw InputError("--shard", 0, "shard", "'" + text + "': expected i/n with 0 <= i < n, e.g. --shard 0/4");
  return {i, n};
}

std::string describe(const std::vector<std::pair<std::string, std::string>>& values) {
  std::string d;
  for (const auto& [k, v] : values) d += (d.empty() ? "" : " ") + k + "=" + v;
  return d.empty() ? "(no sweep axes)" : d;
}

struct SweepOptions {
  std::string scenario, output, shard;
  std::vector<std::string> sets;
  int jobs = 1;
  bool quiet = false;
};

void run_sweep(const SweepOptions& o) {
  ScenarioDoc doc = ScenarioDoc::load(o.scenario);
  for (const auto& s : o.sets) doc.set(s);
  auto [shard, shards] = o.shard.empty() ? std::pair{0, 1} : parse_shard(o.shard);
  refuse_overwriting_input(o.output, {o.scenario}, "output");
  const SweepPoints points = doc.sweep_points();
  std::vector<std::string> axis_keys;
  for (const auto& a : points.axes()) axis_keys.push_back(a.key);
  ResultsLog log(o.output, csv_header(axis_keys));
  if (!o.quiet)
    for (const auto& note : log.notes())
      std::fprintf(stderr, "occult sweep: %s: %s\n", o.output.c_str(), note.c_str());

  // Resolve every point first: a bad value anywhere fails before hours of simulation. Points are
  // built one at a time and only their numbers are kept: a sweep of millions of points costs millions
  // of integers, not of scenarios.
  std::vector<std::size_t> todo;
  std::set<std::string> planned;  // run ids this sweep will write
  std::size_t skipped = 0, repeated = 0, in_shard = 0;
  std::uint64_t most_memory = 0;
  for (std::size_t p = std::size_t(shard); p < points.size(); p += std::size_t(shards)) {
    ++in_shard;
    const Scenario s = points[p].doc->resolve();
    most_memory = std::max(most_memory, estimate_scenario_memory(s).bytes);
    bool all_done = true, any_new = false;
    for (const auto& pl : s.placements)
      for (const auto& st : s.strategies) {
        const std::string id = run_id(s, st.name(), pl);
        all_done = all_done && log.done().count(id);
        if (!log.done().count(id)) any_new = planned.insert(id).second || any_new;
      }
    if (all_done) {
      ++skipped;
    } else if (!any_new) {
      ++repeated;  // the same runs as an earlier point (e.g. axis values 0 and 0.0): run once
    } else {
      todo.push_back(p);
    }
  }
  // -j points run at once, each in its own process.
  check_memory(sat_mul(most_memory, std::uint64_t(std::min<std::size_t>(
                                        std::size_t(o.jobs), std::max<std::size_t>(todo.size(), 1)))),
               "running " + std::to_string(o.jobs) + " sweep points at once (-j)", "", 0, "jobs");
  if (!o.quiet)
    std::fprintf(stderr, "occult sweep: %zu points%s, %zu already in %s, %zu to run with -j %d%s\n", in_shard,
                 shards > 1 ? (" in shard " + o.shard).c_str() : "", skipped, o.output.c_str(), todo.size(),
                 o.jobs,
                 repeated ? (", " + std::to_string(repeated) + " repeating earlier points").c_str() : "");

  const auto t0 = std::chrono::steady_clock::now();
  int finished = 0;
  std::set<std::string> written = log.done();
  run_jobs(
      int(todo.size()), o.jobs,
      [&](int i) {
        const SweepPoint point = points[todo[std::size_t(i)]];
        RunOptions ro;  // each point runs its layers in order inside this job
        return csv_rows(run_scenario(point.doc->resolve(), ro), point.values);
      },
      [&](int i, const std::string& rows) {
        // Only rows not in the file yet: a point partly done before, or runs an earlier point made.
        std::string fresh;
        for (std::size_t pos = 0; pos < rows.size();) {
          const std::size_t end = rows.find('\n', pos);
          const std::string line = rows.substr(pos, end - pos + 1);
          if (written.insert(line.substr(0, line.find(','))).second) fresh += line;
          pos = end + 1;
        }
        log.append(fresh);
        ++finished;
        if (!o.quiet) {
          const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          std::fprintf(stderr, "occult sweep: [%d/%zu] %s done (%.1f s elapsed)\n", finished, todo.size(),
                       describe(points[todo[std::size_t(i)]].values).c_str(), el);
        }
      });
  if (!o.quiet) std::fprintf(stderr, "occult sweep: results in %s\n", o.output.c_str());
}

}  // namespace

void add_sweep_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "sweep",
      "Run every point of a scenario's [sweep] axes (the cartesian product; the last axis varies fastest)\n"
      "and append one CSV row per (point, strategy, placement) to the results file, the input of\n"
      "`occult report`. Columns: docs/formats/results-csv.md (times in seconds per MoE layer, bytes per\n"
      "layer and direction), then one column per sweep axis. Resumable: rows whose run_id is already in\n"
      "the file are skipped, so an interrupted sweep continues where it stopped (run_id hashes the\n"
      "resolved scenario and the calibration profile's contents; after updating occult, start a new file).\n"
      "The file is an append-only log that never loses a row, whenever the sweep dies; one sweep writes\n"
      "to it at a time (docs/guarantees.md). Points run in parallel in forked processes with -j; --shard\n"
      "i/n takes every n-th point starting at i (for several machines, each with its own file).\n"
      "Example: occult sweep scenarios/default.toml -j 2 -o results.csv && occult report results.csv -o "
      "report.html");
  auto o = std::make_shared<SweepOptions>();
  cmd->add_option("scenario", o->scenario, "scenario file (TOML) with a [sweep] table; '-': standard input")
      ->required();
  cmd->add_option("-o,--output", o->output, "results CSV; created, or extended when it exists")->required();
  cmd->add_option(
         "--set", o->sets,
         "override any scenario key (as for occult simulate); --set sweep.KEY=[v1,v2] adds or replaces\n"
         "an axis, --set KEY=v pins an axis to one value")
      ->type_name("KEY=VALUE");
  cmd->add_option("-j,--jobs", o->jobs, "sweep points simulated in parallel, in forked processes (default 1)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--shard", o->shard, "run only points p with p % n == i (i/n, 0-based)")->type_name("I/N");
  cmd->add_flag("-q,--quiet", o->quiet, "no progress lines on stderr");
  cmd->callback([o] { run_sweep(*o); });
}

}  // namespace occult::cli
