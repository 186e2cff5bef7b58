// Aggregation on hand-computed sweeps: configurations, the standard baseline, speedups, winners per
// configuration and per axis value, and the reasons the summary gives.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "sim/cli/host/report_analysis.hpp"
#include "sim/cli/host/report_tables.hpp"
#include "sim/cli/host/report_verdict.hpp"
#include "sim/core/error.hpp"
#include "sim/core/results_csv.hpp"
#include "test_report_fixture.hpp"

namespace occult::report {
namespace {

using testing::fake_csv;
using testing::FakeRow;

Results load(const std::vector<FakeRow>& rows, bool axis = false) {
  return load_results(parse_csv(fake_csv(rows, axis), "tiny.csv"));
}

// Two cluster sizes x {standard, occult} x {contiguous, greedy}. At 8 GPUs standard/greedy (0.9 ms) is the
// baseline and nothing beats it; at 64 GPUs occult/greedy (1 ms vs 1.6 ms) wins by 1.6x.
std::vector<FakeRow> two_sizes() {
  return {
      {"occult", "greedy", 64, 1.0e-3, 2.0e-4, 2.0e-4, 6e7, 3e7},
      {"standard", "contiguous", 8, 1.0e-3, 2e-4, 2e-4, 1e8, 0},
      {"standard", "greedy", 8, 0.9e-3, 2e-4, 2e-4, 1e8, 0},
      {"occult", "contiguous", 8, 1.2e-3, 2e-4, 2e-4, 8e7, 0},
      {"occult", "greedy", 8, 0.95e-3, 2e-4, 2e-4, 6e7, 0},
      {"standard", "contiguous", 64, 1.6e-3, 5e-4, 5e-4, 1e8, 5e7},
      {"standard", "greedy", 64, 1.7e-3, 5e-4, 5e-4, 1e8, 5e7},
      {"occult", "contiguous", 64, 1.25e-3, 3e-4, 3e-4, 8e7, 4e7},
  };
}

std::size_t row_of(const Results& r, const std::string& strategy, const std::string& placement, int devices) {
  for (std::size_t i = 0; i < r.rows.size(); ++i)
    if (r.rows[i].run.strategy == strategy && r.rows[i].run.placement == placement &&
        r.rows[i].devices == devices)
      return i;
  ADD_FAILURE() << "no row " << strategy << "/" << placement << "@" << devices;
  return 0;
}

TEST(ReportAnalysis, ConfigurationsSeriesAndDimensions) {
  Results r = load(two_sizes());
  Analysis a = analyze_results(r);
  ASSERT_EQ(a.configs.size(), 2u);
  ASSERT_EQ(a.series.size(), 4u);
  // standard first, then occult; placements in order of first appearance (greedy came first).
  EXPECT_EQ(a.series[0].label, "standard / greedy");
  EXPECT_EQ(a.series[1].label, "standard / contiguous");
  EXPECT_EQ(a.series[2].label, "occult / greedy");
  EXPECT_EQ(a.series[3].label, "occult / contiguous");
  // devices varies; nodes varies too but follows devices, so only devices is shown and is the x axis.
  ASSERT_EQ(a.shown.size(), 1u);
  EXPECT_EQ(a.dims[a.shown[0]].name, "devices");
  EXPECT_EQ(a.x_dim, static_cast<long>(a.shown[0]));
  for (const Dimension& d : a.dims)
    if (d.name == "nodes") {
      EXPECT_TRUE(d.redundant);
    }
  // Sorted numerically: 8 before 64.
  EXPECT_EQ(a.value(a.configs[0], a.shown[0]), "8");
  EXPECT_EQ(a.value(a.configs[1], a.shown[0]), "64");
  ASSERT_EQ(a.panels.size(), 1u);
  EXPECT_EQ(a.panels[0].title, "");
  EXPECT_EQ(a.profiles, (std::vector<std::string>{"h200-test"}));
}

TEST(ReportAnalysis, BaselineSpeedupsAndWinners) {
  Results r = load(two_sizes());
  Analysis a = analyze_results(r);
  const Config& small = a.configs[0];
  const Config& big = a.configs[1];
  EXPECT_EQ(small.baseline, static_cast<long>(row_of(r, "standard", "greedy", 8)));
  EXPECT_EQ(big.baseline, static_cast<long>(row_of(r, "standard", "contiguous", 64)));
  EXPECT_EQ(small.winner, row_of(r, "standard", "greedy", 8));
  EXPECT_EQ(big.winner, row_of(r, "occult", "greedy", 64));
  EXPECT_DOUBLE_EQ(a.speedup[row_of(r, "occult", "greedy", 64)], 1.6);
  EXPECT_DOUBLE_EQ(a.speedup[row_of(r, "occult", "contiguous", 64)], 1.6e-3 / 1.25e-3);
  EXPECT_DOUBLE_EQ(a.speedup[row_of(r, "standard", "greedy", 64)], 1.6 / 1.7);
  EXPECT_DOUBLE_EQ(a.speedup[row_of(r, "occult", "contiguous", 8)], 0.9 / 1.2);
  EXPECT_EQ(small.best_other, static_cast<long>(row_of(r, "occult", "greedy", 8)));
  // Properties: the baseline has speedup 1 and no row beats its configuration's winner.
  for (const Config& c : a.configs) {
    EXPECT_DOUBLE_EQ(a.speedup[static_cast<std::size_t>(c.baseline)], 1.0);
    for (std::size_t i : c.rows) EXPECT_LE(a.speedup[i], a.speedup[c.winner]);
  }
}

TEST(ReportAnalysis, VerdictGivesFactorAndReasons) {
  Results r = load(two_sizes());
  Analysis a = analyze_results(r);
  Verdict big = explain(r, a, a.configs[1]);
  EXPECT_EQ(big.winner, "occult / greedy");
  EXPECT_DOUBLE_EQ(big.factor, 1.6);
  // vs standard/contiguous@64: inter-node 3e7 vs 5e7, remote 6e7 vs 1e8; dispatch and combine 0.3 ms less
  // each; comm_fraction of standard = (0.5 + 0.5) / 1.6 = 62%.
  EXPECT_NE(big.reason.find("inter-node bytes -40%"), std::string::npos) << big.reason;
  EXPECT_NE(big.reason.find("remote bytes -40%"), std::string::npos) << big.reason;
  EXPECT_NE(big.reason.find("dispatch -60% (-300 us)"), std::string::npos) << big.reason;
  EXPECT_NE(big.reason.find("dispatch+combine are 62% of standard's phase time"), std::string::npos)
      << big.reason;

  Verdict small = explain(r, a, a.configs[0]);
  EXPECT_EQ(small.winner, "standard / greedy");
  EXPECT_NE(small.reason.find("best alternative occult / greedy is 0.95x"), std::string::npos)
      << small.reason;
}

TEST(ReportAnalysis, PrunedWinIsMarkedLossyAndTiesAreCalled) {
  Results r = load({{"standard", "contiguous", 8, 1.0e-3}, {"pruned:2", "contiguous", 8, 0.99e-3}});
  Analysis a = analyze_results(r);
  Verdict v = explain(r, a, a.configs[0]);
  EXPECT_EQ(v.winner, "pruned:2");  // one placement: labels drop it
  EXPECT_NE(v.reason.find("a tie within 2%"), std::string::npos) << v.reason;
  EXPECT_NE(v.reason.find("lossy"), std::string::npos) << v.reason;
}

TEST(ReportAnalysis, ExactWinnerBesideALossyOne) {
  Results r = load({{"standard", "contiguous", 8, 1.0e-3},
                    {"occult", "contiguous", 8, 0.8e-3},
                    {"hierarchical", "contiguous", 8, 0.9e-3},
                    {"pruned:2", "contiguous", 8, 0.5e-3}});
  Analysis a = analyze_results(r);
  const Config& c = a.configs[0];
  EXPECT_EQ(r.rows[c.winner].run.strategy, "pruned:2");
  EXPECT_EQ(r.rows[static_cast<std::size_t>(c.exact_winner)].run.strategy, "occult");
  EXPECT_EQ(r.rows[static_cast<std::size_t>(c.exact_best_other)].run.strategy, "hierarchical");
  EXPECT_EQ(explain(r, a, c, true).winner, "occult");
  EXPECT_DOUBLE_EQ(explain(r, a, c, true).factor, 1.25);
  Table t = summary_table(r, a);
  ASSERT_EQ(t.rows.size(), 2u);  // the lossy winner, then the fastest exact strategy
  EXPECT_EQ(t.rows[0][1], "all");
  EXPECT_EQ(t.rows[0][2], "pruned:2");
  EXPECT_EQ(t.rows[1][1], "exact only");
  EXPECT_EQ(t.rows[1][2], "occult");
  std::vector<std::string> lines = headlines(a);
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      "Exact strategies only (no pruning): occult wins 1 of 1 configuration, by 1.25x over "
                      "standard, at devices=8"),
            lines.end());
}

TEST(ReportAnalysis, NoStandardRowMeansNoSpeedup) {
  Results r = load({{"occult", "greedy", 8, 1e-3}, {"hierarchical", "greedy", 8, 2e-3}});
  Analysis a = analyze_results(r);
  EXPECT_EQ(a.configs[0].baseline, -1);
  EXPECT_TRUE(std::isnan(a.speedup[0]));
  EXPECT_EQ(a.configs[0].winner, 0u);
  EXPECT_NE(explain(r, a, a.configs[0]).reason.find("no standard row"), std::string::npos);
}

TEST(ReportAnalysis, WinsPerAxisValueAndPanels) {
  // Sweep column fabric.oversub in {1, 4}: occult wins at 64 GPUs with oversubscription 4 only.
  std::vector<FakeRow> rows;
  for (const char* ov : {"1", "4"})
    for (int d : {8, 64}) {
      bool occult_wins = d == 64 && std::string(ov) == "4";
      rows.emplace_back("standard", "contiguous", d, 1e-3, 2e-4, 2e-4, 1e8, 5e7, ov);
      rows.push_back(
          FakeRow("occult", "contiguous", d, occult_wins ? 0.5e-3 : 1.1e-3, 2e-4, 2e-4, 1e8, 5e7, ov));
    }
  Results r = load(rows, true);
  Analysis a = analyze_results(r);
  ASSERT_EQ(a.shown.size(), 2u);
  ASSERT_EQ(a.panels.size(), 2u);
  EXPECT_EQ(a.panels[1].title, "fabric.oversub=4");
  ASSERT_EQ(a.wins.size(), 2u);
  const AxisWins& by_devices = a.wins[0];
  EXPECT_EQ(a.dims[by_devices.dim].name, "devices");
  // value 0 = 8 GPUs: standard wins both; value 1 = 64 GPUs: one each.
  EXPECT_EQ(by_devices.wins[0], (std::vector<std::size_t>{2, 0}));
  EXPECT_EQ(by_devices.wins[1], (std::vector<std::size_t>{1, 1}));
  const AxisWins& by_oversub = a.wins[1];
  EXPECT_EQ(by_oversub.wins[0], (std::vector<std::size_t>{2, 0}));
  EXPECT_EQ(by_oversub.wins[1], (std::vector<std::size_t>{1, 1}));

  std::vector<std::string> lines = headlines(a);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "standard wins 3 of 4 configurations, at devices=8, 64");
  EXPECT_EQ(lines[1], "occult wins 1 of 4 configurations, by 2.00x over standard, at devices=64");
}

TEST(ReportAnalysis, DuplicateRowIsAnInputError) {
  std::vector<FakeRow> rows = {
      {"standard", "contiguous", 8}, {"occult", "contiguous", 8}, {"standard", "contiguous", 8}};
  try {
    analyze_results(load(rows));
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.line(), 4);
    EXPECT_NE(e.message().find("line 2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace occult::report
