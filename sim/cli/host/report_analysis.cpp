#include "sim/cli/host/report_analysis.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "sim/cli/host/report_format.hpp"
#include "sim/core/error.hpp"
#include "sim/core/strategy.hpp"

namespace occult::report {
namespace {

// The inputs that define a configuration. nodes comes last so that, when it only follows devices, it is
// the one marked redundant.
struct DimSource {
  const char* name;
  std::string ResultRow::*text;
  double ResultRow::*number;
};
const DimSource kDims[] = {
    {"scenario", &ResultRow::scenario, nullptr},
    {"model", &ResultRow::model, nullptr},
    {"mode", &ResultRow::mode, nullptr},
    {"topology", &ResultRow::topology, nullptr},
    {"devices", nullptr, &ResultRow::devices},
    {"gpus_per_node", nullptr, &ResultRow::gpus_per_node},
    {"tokens_per_device", nullptr, &ResultRow::tokens_per_device},
    {"overlap", &ResultRow::overlap, nullptr},
    {"profile", &ResultRow::profile, nullptr},
    {"nodes", nullptr, &ResultRow::nodes},
};
constexpr std::size_t kFixedDims = std::size(kDims);
constexpr long kDevicesDim = 4;

std::string dim_text(const ResultRow& r, std::size_t d) {
  if (d >= kFixedDims) return r.axis_values[d - kFixedDims];
  return kDims[d].text ? r.*kDims[d].text : fmt_shortest(r.*kDims[d].number);
}

bool parse_double(const std::string& s, double& v) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
}

// Sort key of a strategy: standard, occult, hierarchical, pruned:N (by N), node-limited:M (by M).
std::tuple<int, int, std::string> strategy_rank(const std::string& name) {
  StrategySpec s = parse_strategy(name);  // rows were checked on load
  int family = !s.pruned() ? static_cast<int>(s.base) : (s.prune_nodes ? 4 : 3);
  return {family, s.prune_limit, name};
}

void build_dimensions(const Results& res, Analysis& a, std::vector<std::vector<std::size_t>>& row_key) {
  std::size_t n_dims = kFixedDims + res.axis_names.size();
  row_key.assign(res.rows.size(), std::vector<std::size_t>(n_dims));
  for (std::size_t d = 0; d < n_dims; ++d) {
    Dimension dim;
    dim.name = d < kFixedDims ? kDims[d].name : res.axis_names[d - kFixedDims];
    std::vector<std::string> texts;
    for (const auto& r : res.rows) {
      std::string t = dim_text(r, d);
      if (std::find(dim.values.begin(), dim.values.end(), t) == dim.values.end()) dim.values.push_back(t);
      texts.push_back(std::move(t));
    }
    double unused = 0;
    dim.numeric = std::all_of(dim.values.begin(), dim.values.end(),
                              [&](const std::string& v) { return parse_double(v, unused); });
    if (dim.numeric) {
      std::stable_sort(dim.values.begin(), dim.values.end(), [](const std::string& x, const std::string& y) {
        double a_ = 0, b_ = 0;
        parse_double(x, a_);
        parse_double(y, b_);
        return a_ < b_;
      });
    }
    dim.varies = dim.values.size() > 1;
    for (std::size_t i = 0; i < texts.size(); ++i)
      row_key[i][d] = static_cast<std::size_t>(std::find(dim.values.begin(), dim.values.end(), texts[i]) -
                                               dim.values.begin());
    a.dims.push_back(std::move(dim));
  }
}

// A varying dimension is redundant when its value is fixed once the earlier shown ones are: nodes once
// devices is, or a sweep column that only renames another one.
void mark_redundant(Analysis& a, const std::vector<std::vector<std::size_t>>& row_key) {
  for (std::size_t d = 0; d < a.dims.size(); ++d) {
    if (!a.dims[d].varies) continue;
    if (!a.shown.empty()) {
      std::map<std::vector<std::size_t>, std::size_t> seen;
      bool determined = true;
      for (const auto& key : row_key) {
        std::vector<std::size_t> group;
        for (std::size_t s : a.shown) group.push_back(key[s]);
        auto [it, inserted] = seen.emplace(group, key[d]);
        if (!inserted && it->second != key[d]) {
          determined = false;
          break;
        }
      }
      if (determined) {
        a.dims[d].redundant = true;
        continue;
      }
    }
    a.shown.push_back(d);
  }
  for (std::size_t s : a.shown)
    if (a.dims[s].name == "devices") a.x_dim = static_cast<long>(s);
  if (a.x_dim < 0 && !a.shown.empty()) a.x_dim = static_cast<long>(a.shown.front());
  // Nothing varies: plot the single configuration at its device count.
  if (a.x_dim < 0) a.x_dim = kDevicesDim;
}

void build_series(const Results& res, Analysis& a) {
  std::vector<std::string> placements;
  for (const auto& r : res.rows)
    if (std::find(placements.begin(), placements.end(), r.run.placement) == placements.end())
      placements.push_back(r.run.placement);
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& r : res.rows) {
    std::pair<std::string, std::string> p{r.run.strategy, r.run.placement};
    if (std::find(pairs.begin(), pairs.end(), p) == pairs.end()) pairs.push_back(p);
  }
  auto placement_rank = [&](const std::string& p) {
    return std::find(placements.begin(), placements.end(), p) - placements.begin();
  };
  std::stable_sort(pairs.begin(), pairs.end(), [&](const auto& x, const auto& y) {
    return std::tuple(strategy_rank(x.first), placement_rank(x.second)) <
           std::tuple(strategy_rank(y.first), placement_rank(y.second));
  });
  std::vector<std::string> strategies;
  auto slot = [](const std::vector<std::string>& v, const std::string& x) {
    return static_cast<std::size_t>(std::find(v.begin(), v.end(), x) - v.begin());
  };
  for (const auto& [strategy, placement] : pairs) {
    if (slot(strategies, strategy) == strategies.size()) strategies.push_back(strategy);
    a.series.push_back({strategy, placement, placements.size() > 1 ? strategy + " / " + placement : strategy,
                        slot(strategies, strategy), slot(placements, placement)});
  }
  for (const auto& r : res.rows) {
    for (std::size_t s = 0; s < a.series.size(); ++s)
      if (a.series[s].strategy == r.run.strategy && a.series[s].placement == r.run.placement)
        a.row_series.push_back(s);
  }
}

void build_configs(const Results& res, Analysis& a, const std::vector<std::vector<std::size_t>>& row_key) {
  std::map<std::vector<std::size_t>, std::size_t> index;
  a.row_config.resize(res.rows.size());
  for (std::size_t i = 0; i < res.rows.size(); ++i) {
    auto [it, inserted] = index.emplace(row_key[i], a.configs.size());
    if (inserted) a.configs.push_back(Config{row_key[i], {}, -1, 0, -1});
    Config& c = a.configs[it->second];
    for (std::size_t j : c.rows) {
      if (a.row_series[j] == a.row_series[i])
        throw InputError(res.file, res.rows[i].line, "strategy",
                         "same configuration, strategy and placement as line " +
                             std::to_string(res.rows[j].line) +
                             " (add a sweep column that tells them apart, or remove one)");
    }
    c.rows.push_back(i);
  }
  // Order configurations by the shown dimensions (x last, so panels list x ascending).
  std::vector<std::size_t> order;
  for (std::size_t s : a.shown)
    if (static_cast<long>(s) != a.x_dim) order.push_back(s);
  if (a.x_dim >= 0) order.push_back(static_cast<std::size_t>(a.x_dim));
  std::stable_sort(a.configs.begin(), a.configs.end(), [&](const Config& x, const Config& y) {
    for (std::size_t d : order)
      if (x.key[d] != y.key[d]) return x.key[d] < y.key[d];
    return false;
  });
  for (std::size_t c = 0; c < a.configs.size(); ++c) {
    Config& cfg = a.configs[c];
    std::stable_sort(cfg.rows.begin(), cfg.rows.end(),
                     [&](std::size_t x, std::size_t y) { return a.row_series[x] < a.row_series[y]; });
    for (std::size_t i : cfg.rows) a.row_config[i] = c;
  }
}

bool is_exact(const ResultRow& r) { return !parse_strategy(r.run.strategy).pruned(); }

// The fastest row of c that passes `keep` (ties: the earlier series), or -1.
template <class Keep>
long fastest(const Results& res, const Config& c, Keep keep) {
  long best = -1;
  for (std::size_t i : c.rows)
    if (keep(res.rows[i]) &&
        (best < 0 || res.rows[i].run.total_s < res.rows[static_cast<std::size_t>(best)].run.total_s))
      best = static_cast<long>(i);
  return best;
}

void pick_winners(const Results& res, Analysis& a) {
  a.speedup.assign(res.rows.size(), kNotApplicable);
  for (Config& c : a.configs) {
    c.winner = static_cast<std::size_t>(fastest(res, c, [](const ResultRow&) { return true; }));
    c.baseline = fastest(res, c, [](const ResultRow& r) { return r.run.strategy == "standard"; });
    const std::string& win = res.rows[c.winner].run.strategy;
    c.best_other = fastest(res, c, [&](const ResultRow& r) { return r.run.strategy != win; });
    c.exact_winner = fastest(res, c, is_exact);
    if (c.exact_winner >= 0) {
      const std::string& exact = res.rows[static_cast<std::size_t>(c.exact_winner)].run.strategy;
      c.exact_best_other =
          fastest(res, c, [&](const ResultRow& r) { return is_exact(r) && r.run.strategy != exact; });
    }
    if (c.baseline < 0) continue;
    double base = res.rows[static_cast<std::size_t>(c.baseline)].run.total_s;
    for (std::size_t i : c.rows) a.speedup[i] = base / res.rows[i].run.total_s;
  }
}

void build_panels(Analysis& a) {
  for (std::size_t c = 0; c < a.configs.size(); ++c) {
    std::string title;
    for (std::size_t s : a.shown) {
      if (static_cast<long>(s) == a.x_dim) continue;
      if (!title.empty()) title += ", ";
      title += a.dims[s].name + "=" + a.value(a.configs[c], s);
    }
    if (a.panels.empty() || a.panels.back().title != title) a.panels.push_back({title, {}});
    a.panels.back().configs.push_back(c);
  }
}

void count_wins(Analysis& a) {
  for (std::size_t d : a.shown) {
    AxisWins w;
    w.dim = d;
    w.configs.assign(a.dims[d].values.size(), 0);
    w.wins.assign(a.dims[d].values.size(), std::vector<std::size_t>(a.series.size(), 0));
    for (const Config& c : a.configs) {
      ++w.configs[c.key[d]];
      ++w.wins[c.key[d]][a.row_series[c.winner]];
    }
    a.wins.push_back(std::move(w));
  }
}

void distinct(std::vector<std::string>& out, const std::string& v) {
  if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
}

}  // namespace

std::string Analysis::config_label(const Config& c, bool all) const {
  std::string out;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    bool wanted = all || std::find(shown.begin(), shown.end(), d) != shown.end();
    if (!wanted) continue;
    if (!out.empty()) out += ", ";
    out += dims[d].name + "=" + value(c, d);
  }
  return out;
}

Analysis analyze_results(const Results& results) {
  Analysis a;
  std::vector<std::vector<std::size_t>> row_key;
  build_dimensions(results, a, row_key);
  mark_redundant(a, row_key);
  build_series(results, a);
  build_configs(results, a, row_key);
  pick_winners(results, a);
  build_panels(a);
  count_wins(a);
  for (const auto& r : results.rows) {
    distinct(a.scenarios, r.scenario);
    distinct(a.profiles, r.profile);
    distinct(a.models, r.model);
  }
  return a;
}

}  // namespace occult::report
