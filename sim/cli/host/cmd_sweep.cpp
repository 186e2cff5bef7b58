// occult sweep SCENARIO -o results.csv: every point of the scenario's sweep axes, resumable, parallel.
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>

#include "sim/cli/commands.hpp"
#include "sim/cli/host/results_csv.hpp"
#include "sim/cli/host/scenario_run.hpp"
#include "sim/core/error.hpp"
#include "sim/core/scenario.hpp"
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

}  // namespace

void add_sweep_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "sweep",
      "Run every point of a scenario's [sweep] axes (the cartesian product; the last axis varies fastest)\n"
      "and append one CSV row per (point, strategy, placement) to the results file, the input of\n"
      "`occult report`. Columns: docs/formats/results-csv.md (times in seconds per MoE layer, bytes per\n"
      "layer and direction), then one column per sweep axis. Resumable: rows whose run_id is already in\n"
      "the file are skipped, so an interrupted sweep continues where it stopped (run_id hashes the\n"
      "resolved scenario and the calibration profile's contents; after updating occult, start a new file). "
      "Points run in parallel\n"
      "in forked processes with -j; --shard i/n takes every n-th point starting at i (for several "
      "machines).\n"
      "Example: occult sweep scenarios/default.toml -j 2 -o results.csv && occult report results.csv -o "
      "report.html");
  struct Opts {
    std::string scenario, output, shard;
    std::vector<std::string> sets;
    int jobs = 1;
    bool quiet = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("scenario", o->scenario, "scenario file (TOML) with a [sweep] table")
      ->required()
      ->check(CLI::ExistingFile);
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
  cmd->callback([o] {
    ScenarioDoc doc = ScenarioDoc::load(o->scenario);
    for (const auto& s : o->sets) doc.set(s);
    auto [shard, shards] = o->shard.empty() ? std::pair{0, 1} : parse_shard(o->shard);
    std::vector<std::string> axis_keys;
    for (const auto& a : doc.sweep_axes()) axis_keys.push_back(a.key);
    const std::string header = csv_header(axis_keys);
    const auto done_ids = existing_run_ids(o->output, header);

    // Resolve every point first: a bad value anywhere fails before hours of simulation.
    struct Todo {
      SweepPoint point;
      Scenario scenario;
    };
    std::vector<Todo> todo;
    const auto points = doc.expand();
    std::size_t skipped = 0, in_shard = 0;
    for (std::size_t p = 0; p < points.size(); ++p) {
      if (int(p % std::size_t(shards)) != shard) continue;
      ++in_shard;
      Scenario s = points[p].doc->resolve();
      bool all_done = true;
      for (const auto& pl : s.placements)
        for (const auto& st : s.strategies) all_done = all_done && done_ids.count(run_id(s, st.name(), pl));
      if (all_done) {
        ++skipped;
        continue;
      }
      todo.push_back({points[p], std::move(s)});
    }
    if (!o->quiet)
      std::fprintf(stderr, "occult sweep: %zu points%s, %zu already in %s, %zu to run with -j %d\n", in_shard,
                   shards > 1 ? (" in shard " + o->shard).c_str() : "", skipped, o->output.c_str(),
                   todo.size(), o->jobs);

    std::ofstream out(o->output, std::ios::app | std::ios::binary);
    if (!out) throw InputError(o->output, 0, "", "cannot write the results file");
    if (done_ids.empty() && out.tellp() == 0) out << header << "\n" << std::flush;
    const auto t0 = std::chrono::steady_clock::now();
    int finished = 0;
    run_jobs(
        int(todo.size()), o->jobs,
        [&](int i) {
          RunOptions ro;  // each point runs its layers in order inside this job
          return csv_rows(run_scenario(todo[std::size_t(i)].scenario, ro), todo[std::size_t(i)].point.values);
        },
        [&](int i, const std::string& rows) {
          // Rows of a point that were already present (a partial earlier run) are not written twice.
          std::string fresh;
          std::size_t pos = 0;
          while (pos < rows.size()) {
            const std::size_t end = rows.find('\n', pos);
            const std::string line = rows.substr(pos, end - pos + 1);
            if (!done_ids.count(line.substr(0, line.find(',')))) fresh += line;
            pos = end + 1;
          }
          out << fresh << std::flush;
          ++finished;
          if (!o->quiet) {
            const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::fprintf(stderr, "occult sweep: [%d/%zu] %s done (%.1f s elapsed)\n", finished, todo.size(),
                         describe(todo[std::size_t(i)].point.values).c_str(), el);
          }
        });
    if (!out) throw InputError(o->output, 0, "", "write failed");
    if (!o->quiet) std::fprintf(stderr, "occult sweep: results in %s\n", o->output.c_str());
  });
}

}  // namespace occult::cli
