// The written report: HTML sections, escaping, notes, Markdown tables, the gnuplot script and inline SVG.
#include <gtest/gtest.h>

#include "sim/cli/host/report_analysis.hpp"
#include "sim/cli/host/report_gnuplot.hpp"
#include "sim/cli/host/report_html.hpp"
#include "sim/cli/host/report_markdown.hpp"
#include "sim/cli/host/report_plot_script.hpp"
#include "sim/core/results_csv.hpp"
#include "test_report_fixture.hpp"

namespace occult::report {
namespace {

using testing::fake_csv;
using testing::FakeRow;

struct Loaded {
  Results res;
  Analysis a;
};

Loaded sweep(const std::string& scenario = "tiny") {
  std::vector<FakeRow> rows;
  for (int d : {8, 64, 512}) {
    rows.emplace_back("standard", "contiguous", d, 1e-3 * d / 8);
    rows.emplace_back("occult", "contiguous", d, 0.7e-3 * d / 8, 2e-4, 2e-4, 6e7);
    rows.push_back(FakeRow("hierarchical", "contiguous", d, 0.8e-3 * d / 8, 2e-4, 2e-4, 1e8, 2e7));
  }
  std::string csv = fake_csv(rows);
  for (std::size_t p = csv.find(",tiny,"); p != std::string::npos; p = csv.find(",tiny,", p + 1))
    csv.replace(p, 6, "," + scenario + ",");
  Loaded l{load_results(parse_csv(csv, "sweep.csv")), {}};
  l.a = analyze_results(l.res);
  return l;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST(ReportHtml, HasEverySectionAndTheInputsContext) {
  Loaded l = sweep();
  PlotOutcome plots;
  plots.plots.push_back({"time", 0, "<svg id=\"p0_x\"></svg>"});
  std::string html = html_report(l.res, l.a, plots, {"My title", "occult report sweep.csv"});
  for (const char* id : {"id=\"reading\"", "id=\"summary\"", "id=\"plots\"", "id=\"time\"", "id=\"results\""})
    EXPECT_NE(html.find(id), std::string::npos) << id;
  EXPECT_EQ(html.find("{{"), std::string::npos);  // every placeholder filled
  EXPECT_NE(html.find("<title>My title</title>"), std::string::npos);
  EXPECT_NE(html.find("h200-test"), std::string::npos);      // the calibration profile is stated
  EXPECT_NE(html.find("<dd>tiny</dd>"), std::string::npos);  // and the scenario
  EXPECT_NE(html.find("occult wins 3 of 3 configurations, by 1.43x over standard, at devices=8..512"),
            std::string::npos);
  EXPECT_EQ(count(html, "<tr class=\"win\">"), 3u);
  EXPECT_EQ(count(html, "<tr class=\"base\">"), 3u);
  EXPECT_NE(html.find("<svg id=\"p0_x\">"), std::string::npos);
  EXPECT_NE(html.find("occult report sweep.csv"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);  // self-contained, static
}

TEST(ReportHtml, EscapesInputTextAndShowsPlotNotes) {
  Loaded l = sweep("<script>x</script>");
  PlotOutcome plots;
  plots.note = "gnuplot was not found on PATH";
  std::string html = html_report(l.res, l.a, plots, {"a < b", "cmd"});
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;x&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("<title>a &lt; b</title>"), std::string::npos);
  EXPECT_NE(html.find("<p class=\"note\">gnuplot was not found on PATH</p>"), std::string::npos);
  EXPECT_NE(html.find("id=\"summary\""), std::string::npos);  // tables still there
}

TEST(ReportHtml, SameInputSameBytes) {
  Loaded l1 = sweep(), l2 = sweep();
  EXPECT_EQ(html_report(l1.res, l1.a, {}, {"t", "c"}), html_report(l2.res, l2.a, {}, {"t", "c"}));
}

TEST(ReportMarkdown, SummaryAndTables) {
  Loaded l = sweep();
  std::string md = markdown_report(l.res, l.a, {"T", "occult report sweep.csv --format md"});
  EXPECT_EQ(md.rfind("# T\n", 0), 0u);
  EXPECT_NE(md.find("## Where each strategy wins"), std::string::npos);
  EXPECT_NE(md.find("- **calibration profile**: h200-test"), std::string::npos);
  EXPECT_NE(md.find("| devices | winner | speedup vs standard |"), std::string::npos);
  EXPECT_NE(md.find("| 512 | occult | 1.43x |"), std::string::npos);
  EXPECT_NE(md.find("| **512** | **occult / contiguous** |"), std::string::npos);  // winner rows in bold
}

TEST(ReportPlots, ScriptDrawsEveryKindPerPanelFromDatablocks) {
  Loaded l = sweep();
  PlotScript s = build_plot_script(l.res, l.a, "/out dir");
  ASSERT_EQ(s.plots.size(), plot_kinds().size());
  for (const PlotSpec& p : s.plots) {
    EXPECT_EQ(p.file, "/out dir/" + p.kind + "_0.svg");
    EXPECT_NE(s.text.find("set output '" + p.file + "'"), std::string::npos) << p.kind;
  }
  EXPECT_NE(s.text.find("$time0 << EOD\n8 1\n64 8\n512 64\n"), std::string::npos);  // ms per layer
  EXPECT_NE(s.text.find("set logscale x 2"), std::string::npos);                    // 8..512 GPUs
  EXPECT_EQ(s.text.find("{{"), std::string::npos);
}

TEST(ReportPlots, InlineSvgPrefixesIds) {
  std::string file =
      "<?xml version=\"1.0\"?>\n<svg viewBox=\"0 0 1 1\"><defs><path id='gpPt0'/></defs>"
      "<use xlink:href='#gpPt0'/><g id=\"gnuplot_canvas\" clip-path=\"url(#gpClip)\"/></svg>\n";
  std::string svg = inline_svg(file, "p3_");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("id='p3_gpPt0'"), std::string::npos);
  EXPECT_NE(svg.find("href='#p3_gpPt0'"), std::string::npos);
  EXPECT_NE(svg.find("id=\"p3_gnuplot_canvas\""), std::string::npos);
  EXPECT_NE(svg.find("url(#p3_gpClip)"), std::string::npos);
  EXPECT_EQ(inline_svg("not an svg", "p_"), "");
}

}  // namespace
}  // namespace occult::report
