// Kills `occult sweep` (SIGKILL, with its forked jobs) at random moments, many times over, and checks
// after every kill that no row the results file held before is lost, changed or repeated. Every few
// runs the file is damaged the way a second writer, an editor or a full disk could damage it (garbage
// lines, a row cut short, an unfinished last line), so that the repair gets killed at random moments
// too. On the code before the append-only log, a kill during the rewrite that dropped an unfinished last
// line lost rows.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "sim/cli/host/report_csv.hpp"
#include "sim/cli/host/results_log.hpp"
#include "test_scenario_util.hpp"

namespace occult::cli {
namespace {

using test::slurp;
using test::TempDir;

// A row without sim_wall_s (the simulator's wall time, the one column that differs between runs).
std::string deterministic_part(const std::string& row) {
  std::vector<std::string> fields;
  report::scan_csv_records(row, "row", [&](const report::CsvSpan& span) {
    fields = span.record.fields;
    return false;
  });
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i)
    if (i != 29) out += fields[i] + ",";
  return out;
}

// Starts `occult sweep` in its own process group, so that one signal reaches its forked jobs too.
pid_t start_sweep(const std::vector<std::string>& args) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    const std::string bin = test::occult_bin();
    std::vector<char*> argv{const_cast<char*>(bin.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  return pid;
}

// Kills the group and reaps all of it: the test is the subreaper of the sweep's forked jobs, so none of
// them outlives this (a job still holding the file would make the next sweep see "another sweep is
// writing").
void kill_and_reap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(-pid, &status, 0) > 0 || errno == EINTR) {
  }
}

TEST(SweepCrash, NoRowIsEverLostChangedOrRepeatedWheneverTheProcessDies) {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  TempDir dir("sweep_crash");
  dir.file("topo.toml", test::kNodeTopology);
  const std::string scenario = dir.file(
      "s.toml",
      test::small_scenario("[sweep]\nworkload.tokens_per_device = [64, 80, 96, 112, 128, 144, 160, 176, "
                           "192, 208, 224, 240]\ncluster.devices = [4, 8]\n"));
  const std::string csv = dir.path("r.csv"), ref_csv = dir.path("ref.csv");

  // The reference: one uninterrupted run, and how long it takes (only to spread the kills over it).
  auto seconds_of = [](const std::function<void()>& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const double full_s = seconds_of(
      [&] { ASSERT_EQ(test::run_occult("sweep " + scenario + " -o " + ref_csv + " -q").code, 0); });
  // A run with nothing left to do: start-up, reading the file back, repairing it.
  const double startup_s = seconds_of(
      [&] { ASSERT_EQ(test::run_occult("sweep " + scenario + " -o " + ref_csv + " -q").code, 0); });
  const std::string ref_text = slurp(ref_csv);
  const std::string ref_header = ref_text.substr(0, ref_text.find('\n'));
  std::map<std::string, std::string> reference;  // run_id -> deterministic part of the row
  for (const auto& [b, e] : scan_results(ref_text, ref_header, ref_csv).rows) {
    const std::string row = ref_text.substr(b, e - b);
    reference[row.substr(0, 16)] = deterministic_part(row);
  }
  ASSERT_EQ(reference.size(), 48u);

  std::mt19937_64 rng(20261213);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::set<std::string> held;  // run ids the file holds
  bool damage_in_file = false;
  int kills = 0, kills_in_repair = 0, kills_after_progress = 0, runs_finished = 0, damaged = 0, rounds = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int iter = 0; iter < 120; ++iter) {
    // Bounded: well under a minute even on a slow machine, whatever the speed of a run.
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(40)) break;
    // From the end of the start-up to past the expected end of the run.
    const double left = full_s * (1.0 - double(held.size()) / double(reference.size()));
    double delay = startup_s * 0.5 + unit(rng) * (startup_s + 1.1 * left);
    if (iter % 6 == 2 && std::filesystem::exists(csv)) {
      // Damage as a second writer, an editor or a full disk could leave it (garbage lines, a row cut
      // short, an unfinished last line), plenty of it so that its repair takes a while; this run is
      // killed around its start, during the repair.
      std::ofstream out(csv, std::ios::app | std::ios::binary);
      out << "\n" << ref_text.substr(ref_header.size() + 1, 50) << "\n";
      for (int g = 0; g < 3000; ++g) out << "INJECTED garbage " << g << ", \"with a quote\n";
      if (damaged % 2) out << "INJECTED unfinished last line";  // as a write cut short leaves it
      ++damaged;
      damage_in_file = true;
      delay = startup_s * (0.5 + unit(rng));
    }
    const bool had_damage = damage_in_file;
    const pid_t pid = start_sweep({"sweep", scenario, "-o", csv, "-q", "-j", iter % 2 ? "2" : "1"});
    int status = 0;
    bool killed = false, exited = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(delay);
    while (!exited && std::chrono::steady_clock::now() < deadline) {
      exited = ::waitpid(pid, &status, WNOHANG) == pid;
      if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (exited) {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
          << "a sweep failed on its own, status " << status;
      ++runs_finished;
    } else {
      kill_and_reap(pid);
      killed = true;
      ++kills;
    }
    if (!std::filesystem::exists(csv)) continue;  // killed before it created the file
    const std::string text = slurp(csv);
    const ResultsScan scan = scan_results(text, ref_header, csv);  // throws if the header were damaged
    if (killed && had_damage) kills_in_repair += !scan.rejected.empty();
    if (killed && scan.done.size() > held.size()) ++kills_after_progress;
    // Nothing lost: every row held before is still there.
    for (const auto& id : held)
      EXPECT_TRUE(scan.done.count(id)) << "row " << id << " lost after run " << iter;
    // Nothing changed: every row is the reference's row (scan_results already rejects repeated ids).
    for (const auto& [b, e] : scan.rows) {
      const std::string row = text.substr(b, e - b);
      EXPECT_EQ(deterministic_part(row), reference[row.substr(0, 16)]) << "row changed after run " << iter;
    }
    // Only injected damage is ever set aside: occult itself never writes a bad line.
    for (const auto& r : scan.rejected) {
      const bool injected =
          r.text.find("INJECTED") != std::string::npos || ref_text.find(r.text) != std::string::npos;
      EXPECT_TRUE(injected) << "line " << r.line << " (" << r.why << ") is not damage the test made:\n"
                            << r.text;
    }
    held = scan.done;
    damage_in_file = !scan.rejected.empty();
    if (held.size() == reference.size() && scan.rejected.empty() && scan.torn_at == std::string_view::npos) {
      std::filesystem::remove(csv);  // complete: start over from nothing
      std::filesystem::remove(csv + ".rejected");
      held.clear();
      ++rounds;
    }
    if (::testing::Test::HasFailure()) break;
  }
  // Finally, uninterrupted: the sweep completes the file, and the report accepts it.
  auto r = test::run_occult("sweep " + scenario + " -o " + csv + " -q");
  ASSERT_EQ(r.code, 0) << r.err;
  const ResultsScan last = scan_results(slurp(csv), ref_header, csv);
  EXPECT_EQ(last.done.size(), reference.size());
  EXPECT_TRUE(last.rejected.empty());
  r = test::run_occult("report " + csv + " --format md -o " + dir.path("r.md"));
  EXPECT_EQ(r.code, 0) << r.err;
  std::cout << "sweep crash test: " << kills << " kills (" << kills_after_progress
            << " after the run had added rows, " << kills_in_repair
            << " before the repair of a damaged file was in place), " << runs_finished
            << " runs finished before their kill, " << damaged << " damaged files, " << rounds
            << " complete rounds; a full sweep takes " << full_s << " s, a start-up " << startup_s << " s\n";
  EXPECT_GT(kills, 0);
}

}  // namespace
}  // namespace occult::cli
