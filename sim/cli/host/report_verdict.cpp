#include "sim/cli/host/report_verdict.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/cli/host/report_format.hpp"
#include "sim/core/strategy.hpp"

namespace occult::report {
namespace {

// Below this speedup the winner is called a tie: simulated times differing by 2% are within what the
// calibration can tell apart.
constexpr double kTie = 1.02;
// A phase is worth naming when it changed by at least this share of the baseline's layer time.
constexpr double kPhaseShare = 0.05;

// The phase times a results CSV keeps: the forward phases, then the backward total.
const char* const kPhases[] = {"layout", "dispatch", "expert", "combine", "unpack", "backward"};

double phase_time(const ResultRow& r, const std::string& phase) {
  return phase == "backward" ? r.run.backward_s : r.run.phase_max(phase);
}

void add(std::string& out, const std::string& part) {
  if (part.empty()) return;
  if (!out.empty()) out += ", ";
  out += part;
}

// The phases whose time changed most from `base` to `row`, largest first, at most three.
std::string phase_changes(const ResultRow& row, const ResultRow& base) {
  struct Change {
    const char* name;
    double now, before;
  };
  std::vector<Change> changes;
  for (const char* p : kPhases) {
    double now = phase_time(row, p), before = phase_time(base, p);
    if (std::isnan(now) || std::isnan(before)) continue;
    if (std::fabs(now - before) >= kPhaseShare * base.run.total_s) changes.push_back({p, now, before});
  }
  std::stable_sort(changes.begin(), changes.end(), [](const Change& x, const Change& y) {
    return std::fabs(x.now - x.before) > std::fabs(y.now - y.before);
  });
  if (changes.size() > 3) changes.resize(3);
  std::string out;
  for (const Change& c : changes) {
    std::string delta = fmt_time(std::fabs(c.now - c.before));
    add(out, std::string(c.name) + " " + fmt_change(c.now, c.before) + " (" + (c.now < c.before ? "-" : "+") +
                 delta + ")");
  }
  return out;
}

// Bytes and copies per token of `row` against the standard baseline.
std::string traffic_changes(const ResultRow& row, const ResultRow& base) {
  std::string out;
  if (base.run.bytes_inter_node > 0 && row.run.bytes_inter_node != base.run.bytes_inter_node)
    add(out, "inter-node bytes " + fmt_change(row.run.bytes_inter_node, base.run.bytes_inter_node));
  if (base.run.bytes_remote > 0 && row.run.bytes_remote != base.run.bytes_remote)
    add(out, "remote bytes " + fmt_change(row.run.bytes_remote, base.run.bytes_remote));
  return out;
}

std::string lossy_note(const ResultRow& row) {
  return parse_strategy(row.run.strategy).pruned() ? " (lossy: pruning drops expert choices)" : "";
}

}  // namespace

Verdict explain(const Results& res, const Analysis& a, const Config& c, bool exact_only) {
  Verdict v;
  long win_row = exact_only ? c.exact_winner : static_cast<long>(c.winner);
  long other_row = exact_only ? c.exact_best_other : c.best_other;
  if (win_row < 0) return v;
  const ResultRow& win = res.rows[static_cast<std::size_t>(win_row)];
  v.winner = a.series[a.row_series[static_cast<std::size_t>(win_row)]].label;
  v.factor = a.speedup[static_cast<std::size_t>(win_row)];
  if (c.baseline < 0) {
    v.reason =
        "fastest at " + fmt_time(win.run.total_s) + "; no standard row in this configuration to compare with";
    return v;
  }
  const ResultRow& base = res.rows[static_cast<std::size_t>(c.baseline)];
  std::string comm =
      "dispatch+combine are " + fmt_share(base.run.comm_fraction) + " of standard's phase time";

  if (win.run.strategy == "standard") {
    if (other_row < 0) {
      v.reason = "only standard was simulated here";
      return v;
    }
    const auto other = static_cast<std::size_t>(other_row);
    const ResultRow& alt = res.rows[other];
    std::string why =
        "best alternative " + a.series[a.row_series[other]].label + " is " + fmt_ratio(a.speedup[other]);
    add(why, traffic_changes(alt, base));
    add(why, phase_changes(alt, base));
    add(why, comm);
    v.reason = why;
    return v;
  }

  std::string why;
  if (v.factor < kTie) why = "a tie within 2% of standard";
  add(why, traffic_changes(win, base));
  add(why, phase_changes(win, base));
  add(why, comm);
  v.reason = why + lossy_note(win);
  return v;
}

}  // namespace occult::report
