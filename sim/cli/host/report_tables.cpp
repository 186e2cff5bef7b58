#include "sim/cli/host/report_tables.hpp"

#include <algorithm>
#include <cmath>

#include "sim/cli/host/report_format.hpp"
#include "sim/cli/host/report_verdict.hpp"

namespace occult::report {
namespace {

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

// "64", "64..1024" or "64, 256" (values of one dimension in order, collapsed when contiguous in it).
std::string value_span(const Analysis& a, std::size_t dim, const std::vector<std::size_t>& value_idx) {
  std::vector<std::size_t> v = value_idx;
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  const auto& values = a.dims[dim].values;
  if (v.empty()) return "";
  bool contiguous = v.back() - v.front() + 1 == v.size();
  if (v.size() > 2 && contiguous) return values[v.front()] + ".." + values[v.back()];
  std::vector<std::string> names;
  for (std::size_t i : v) names.push_back(values[i]);
  return join(names, ", ");
}

bool any_backward(const Results& res) {
  return std::any_of(res.rows.begin(), res.rows.end(),
                     [](const ResultRow& r) { return !std::isnan(r.run.backward_s); });
}

}  // namespace

namespace {

bool any_pruned(const Analysis& a) {
  return std::any_of(a.series.begin(), a.series.end(),
                     [](const Series& s) { return s.strategy.find(':') != std::string::npos; });
}

// Headlines over the winners `winner_of` picks (the fastest row, or the fastest exact row).
template <class WinnerOf>
std::vector<std::string> headlines_for(const Analysis& a, WinnerOf winner_of, bool exact_only) {
  std::vector<std::string> out, losers;
  const auto xd = static_cast<std::size_t>(a.x_dim);
  for (std::size_t s = 0; s < a.series.size(); ++s) {
    if (exact_only && a.series[s].strategy.find(':') != std::string::npos) continue;
    std::size_t won = 0;
    double lo = INFINITY, hi = 0, best = 0;
    std::vector<std::size_t> where;
    for (const Config& c : a.configs) {
      for (std::size_t r : c.rows)
        if (a.row_series[r] == s && !std::isnan(a.speedup[r])) best = std::max(best, a.speedup[r]);
      long w = winner_of(c);
      if (w < 0 || a.row_series[static_cast<std::size_t>(w)] != s) continue;
      ++won;
      where.push_back(c.key[xd]);
      double sp = a.speedup[static_cast<std::size_t>(w)];
      if (!std::isnan(sp)) {
        lo = std::min(lo, sp);
        hi = std::max(hi, sp);
      }
    }
    const std::string& label = a.series[s].label;
    if (won == 0) {
      losers.push_back(label + " never wins" + (best > 0 ? " (best speedup " + fmt_ratio(best) + ")" : ""));
      continue;
    }
    std::string line = label + " wins " + std::to_string(won) + " of " + std::to_string(a.configs.size()) +
                       " configuration" + (a.configs.size() == 1 ? "" : "s");
    // A standard winner is its own baseline (1.00x): no factor to tell.
    if (hi > 0 && a.series[s].strategy != "standard")
      line += (lo == hi ? ", by " + fmt_ratio(hi) : ", by " + fmt_ratio(lo) + " to " + fmt_ratio(hi)) +
              " over standard";
    line += ", at " + a.dims[xd].name + "=" + value_span(a, xd, where);
    if (a.series[s].strategy.find(':') != std::string::npos) line += " (lossy: pruning changes the routing)";
    out.push_back(line);
  }
  out.insert(out.end(), losers.begin(), losers.end());
  return out;
}

}  // namespace

std::vector<std::string> headlines(const Analysis& a) {
  std::vector<std::string> out = headlines_for(
      a, [](const Config& c) { return static_cast<long>(c.winner); }, false);
  if (!any_pruned(a)) return out;
  for (std::string& line : headlines_for(
           a, [](const Config& c) { return c.exact_winner; }, true))
    out.push_back("Exact strategies only (no pruning): " + line);
  return out;
}

Table summary_table(const Results& res, const Analysis& a) {
  Table t;
  for (std::size_t d : a.shown) {
    t.header.push_back(a.dims[d].name);
    t.text_column.push_back(!a.dims[d].numeric);
  }
  if (a.shown.empty()) {
    t.header.push_back("configuration");
    t.text_column.push_back(true);
  }
  bool pruned = any_pruned(a);
  if (pruned) {
    t.header.push_back("among");
    t.text_column.push_back(true);
  }
  t.header.insert(t.header.end(), {"winner", "speedup vs standard", "layer time",
                                   "why (compared with the fastest standard row)"});
  t.text_column.insert(t.text_column.end(), {true, false, false, true});
  for (const Config& c : a.configs) {
    // With pruned strategies in the sweep, a lossy winner gets a second line: the fastest exact one.
    for (bool exact_only : {false, true}) {
      if (exact_only && (!pruned || c.exact_winner == static_cast<long>(c.winner))) continue;
      Verdict v = explain(res, a, c, exact_only);
      if (v.winner.empty()) continue;
      std::vector<std::string> row;
      for (std::size_t d : a.shown) row.push_back(a.value(c, d));
      if (a.shown.empty()) row.push_back(a.config_label(c, true));
      if (pruned) row.push_back(exact_only ? "exact only" : "all");
      long w = exact_only ? c.exact_winner : static_cast<long>(c.winner);
      row.push_back(v.winner);
      row.push_back(fmt_ratio(v.factor));
      row.push_back(fmt_time(res.rows[static_cast<std::size_t>(w)].run.total_s));
      row.push_back(v.reason);
      t.rows.push_back(std::move(row));
      t.row_class.push_back("");
    }
  }
  return t;
}

std::vector<TitledTable> wins_tables(const Analysis& a) {
  std::vector<TitledTable> out;
  if (a.shown.size() < 2) return out;
  for (const AxisWins& w : a.wins) {
    TitledTable tt;
    tt.title = "Wins per value of " + a.dims[w.dim].name;
    tt.table.header = {a.dims[w.dim].name, "configurations"};
    tt.table.text_column = {!a.dims[w.dim].numeric, false};
    for (const Series& s : a.series) {
      tt.table.header.push_back(s.label);
      tt.table.text_column.push_back(false);
    }
    for (std::size_t v = 0; v < w.configs.size(); ++v) {
      std::vector<std::string> row = {a.dims[w.dim].values[v], std::to_string(w.configs[v])};
      for (std::size_t s = 0; s < a.series.size(); ++s) row.push_back(std::to_string(w.wins[v][s]));
      tt.table.rows.push_back(std::move(row));
      tt.table.row_class.push_back("");
    }
    out.push_back(std::move(tt));
  }
  return out;
}

Table results_table(const Results& res, const Analysis& a, const Panel& panel) {
  const auto xd = static_cast<std::size_t>(a.x_dim);
  bool bwd = any_backward(res);
  Table t;
  t.header = {a.dims[xd].name, "strategy / placement",
              "layer time",    "speedup",
              "layout",        "dispatch",
              "expert",        "combine",
              "unpack"};
  if (bwd) t.header.push_back("backward");
  for (const char* h : {"comm share", "remote bytes", "inter-node bytes", "intra-node bytes", "ct_standard",
                        "ct_occult", "ct_node", "intra_ratio"})
    t.header.push_back(h);
  t.text_column.assign(t.header.size(), false);
  t.text_column[0] = !a.dims[xd].numeric;
  t.text_column[1] = true;
  for (std::size_t ci : panel.configs) {
    const Config& c = a.configs[ci];
    for (std::size_t r : c.rows) {
      const ResultRow& row = res.rows[r];
      std::vector<std::string> cells = {a.value(c, xd),
                                        a.series[a.row_series[r]].strategy + " / " + row.run.placement,
                                        fmt_time(row.run.total_s),
                                        fmt_ratio(a.speedup[r]),
                                        fmt_time(row.run.phase_max("layout")),
                                        fmt_time(row.run.phase_max("dispatch")),
                                        fmt_time(row.run.phase_max("expert")),
                                        fmt_time(row.run.phase_max("combine")),
                                        fmt_time(row.run.phase_max("unpack"))};
      if (bwd) cells.push_back(fmt_time(row.run.backward_s));
      for (const std::string& s : {fmt_share(row.run.comm_fraction), fmt_bytes(row.run.bytes_remote),
                                   fmt_bytes(row.run.bytes_inter_node), fmt_bytes(row.run.bytes_intra_node),
                                   fmt_fixed(row.run.ct_standard, 2), fmt_fixed(row.run.ct_occult, 2),
                                   fmt_fixed(row.run.ct_node, 2), fmt_fixed(row.run.intra_ratio, 3)})
        cells.push_back(s);
      t.rows.push_back(std::move(cells));
      t.row_class.push_back(r == c.winner ? "win" : static_cast<long>(r) == c.baseline ? "base" : "");
    }
  }
  return t;
}

std::vector<std::pair<std::string, std::string>> context_facts(const Results& res, const Analysis& a) {
  std::vector<std::pair<std::string, std::string>> f;
  f.emplace_back("input", res.file + " (" + std::to_string(res.rows.size()) + " rows, " +
                              std::to_string(a.configs.size()) + " configuration" +
                              (a.configs.size() == 1 ? "" : "s") + ")");
  f.emplace_back(a.scenarios.size() == 1 ? "scenario" : "scenarios", join(a.scenarios, ", "));
  f.emplace_back(a.models.size() == 1 ? "model" : "models", join(a.models, ", "));
  f.emplace_back(a.profiles.size() == 1 ? "calibration profile" : "calibration profiles",
                 join(a.profiles, ", "));
  std::vector<std::string> fixed, varying;
  for (std::size_t d = 0; d < a.dims.size(); ++d) {
    const Dimension& dim = a.dims[d];
    if (dim.name == "scenario" || dim.name == "model" || dim.name == "profile") continue;
    if (!dim.varies) {
      if (!dim.values.front().empty()) fixed.push_back(dim.name + "=" + dim.values.front());
    } else {
      varying.push_back(dim.name + " in {" + join(dim.values, ", ") + "}" +
                        (dim.redundant ? " (follows the others)" : ""));
    }
  }
  if (!fixed.empty()) f.emplace_back("fixed", join(fixed, ", "));
  if (!varying.empty()) f.emplace_back("swept", join(varying, "; "));
  std::vector<std::string> labels;
  for (const Series& s : a.series) labels.push_back(s.label);
  f.emplace_back("strategies / placements", join(labels, ", "));
  return f;
}

}  // namespace occult::report
