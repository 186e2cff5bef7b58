#include "sim/cli/host/report_shards.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "sim/core/error.hpp"

namespace occult::report {
namespace {

namespace fs = std::filesystem;

// Findings of one kind past this many are counted, not listed.
constexpr std::size_t kListed = 10;

std::string where(const Results& r, const ResultRow& row) { return r.file + ":" + std::to_string(row.line); }

// A point's place in the sweep's grid, without strategy and placement.
std::string point_name(const Results& r, const std::vector<std::string>& values) {
  std::string s;
  for (std::size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + r.axis_names[i] + "=" + values[i];
  return s.empty() ? "(no sweep axes)" : s;
}

}  // namespace

std::vector<std::string> expand_results_paths(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const auto& a : args) {
    std::error_code ec;
    if (a == "-" || !fs::is_directory(a, ec)) {
      out.push_back(a);  // a file (read_results says clearly when it cannot be read)
      continue;
    }
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(a, ec))
      if (e.is_regular_file() && e.path().extension() == ".csv") found.push_back(e.path().string());
    if (ec) throw InputError(a, 0, "results", "cannot list the folder: " + ec.message());
    if (found.empty()) throw InputError(a, 0, "results", "the folder holds no .csv results file");
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

MergedResults merge_results(const std::vector<Results>& parts) {
  MergedResults m;
  if (parts.empty()) return m;
  m.results.axis_names = parts.front().axis_names;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].axis_names != parts.front().axis_names)
      throw InputError(parts[i].file, 1, "header",
                       "its sweep axes differ from " + parts.front().file +
                           "'s: shards of one sweep have the same columns (report different sweeps apart)");
    m.results.file += (i ? ", " : "") + parts[i].file;
  }
  // Duplicates: the first row of a run_id is kept, later ones are reported.
  std::map<std::string, std::pair<std::size_t, std::size_t>> seen;  // run_id -> (part, row)
  std::size_t listed_dup = 0;
  for (std::size_t p = 0; p < parts.size(); ++p)
    for (std::size_t i = 0; i < parts[p].rows.size(); ++i) {
      const ResultRow& row = parts[p].rows[i];
      const auto [it, fresh] = seen.emplace(row.run_id, std::pair{p, i});
      if (fresh) {
        m.results.rows.push_back(row);
        continue;
      }
      const ResultRow& kept = parts[it->second.first].rows[it->second.second];
      const bool same = kept.run.total_s == row.run.total_s &&
                        kept.run.phase_max("dispatch") == row.run.phase_max("dispatch") &&
                        kept.run.phase_max("combine") == row.run.phase_max("combine") &&
                        kept.run.backward_s == row.run.backward_s;
      ++m.duplicates;
      if (!same) ++m.conflicting;
      if (listed_dup++ < kListed)
        m.notes.push_back("run " + row.run_id + " (" + row.run.strategy + ", " + row.run.placement +
                          ") is in both " + where(parts[it->second.first], kept) + " and " +
                          where(parts[p], row) +
                          (same ? " (the same results; kept once)"
                                : " with different results (t_total_s " + std::to_string(kept.run.total_s) +
                                      " vs " + std::to_string(row.run.total_s) + "; the first is kept)"));
    }
  // Missing points: the grid each scenario's rows span.
  struct Grid {
    std::vector<std::set<std::string>> values;  // per axis
    std::set<std::string> strategies, placements;
    std::set<std::tuple<std::vector<std::string>, std::string, std::string>> have;
  };
  std::map<std::string, Grid> grids;
  for (const ResultRow& row : m.results.rows) {
    Grid& g = grids[row.scenario];
    g.values.resize(row.axis_values.size());
    for (std::size_t a = 0; a < row.axis_values.size(); ++a) g.values[a].insert(row.axis_values[a]);
    g.strategies.insert(row.run.strategy);
    g.placements.insert(row.run.placement);
    g.have.insert({row.axis_values, row.run.strategy, row.run.placement});
  }
  std::size_t listed_missing = 0;
  for (const auto& [scenario, g] : grids) {
    std::vector<std::vector<std::string>> axes;
    for (const auto& v : g.values) axes.emplace_back(v.begin(), v.end());
    std::vector<std::size_t> at(axes.size(), 0);
    for (bool more = true; more;) {
      std::vector<std::string> point;
      for (std::size_t a = 0; a < axes.size(); ++a) point.push_back(axes[a][at[a]]);
      for (const auto& st : g.strategies)
        for (const auto& pl : g.placements)
          if (!g.have.count({point, st, pl})) {
            ++m.missing;
            if (listed_missing++ < kListed)
              m.notes.push_back("missing: scenario " + scenario + ", " + point_name(m.results, point) + ", " +
                                st + ", " + pl);
          }
      // Next combination, the last axis fastest (as the sweep orders its points).
      more = false;
      for (std::size_t a = axes.size(); a-- > 0;) {
        if (++at[a] < axes[a].size()) {
          more = true;
          break;
        }
        at[a] = 0;
      }
    }
  }
  if (listed_dup > kListed) m.notes.push_back(std::to_string(listed_dup - kListed) + " more duplicated runs");
  if (listed_missing > kListed)
    m.notes.push_back(std::to_string(listed_missing - kListed) + " more missing points");
  return m;
}

}  // namespace occult::report
