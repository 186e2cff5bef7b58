#include "sim/cli/host/report_html.hpp"

#include "sim/cli/host/report_format.hpp"
#include "sim/cli/host/report_plot_script.hpp"
#include "sim/cli/host/report_tables.hpp"
#include "sim/cli/host/report_templates.hpp"

namespace occult::report {
namespace {

std::string html_table(const Table& t) {
  std::string out = "<div class=\"scroll\"><table>\n<thead><tr>";
  for (std::size_t i = 0; i < t.header.size(); ++i)
    out +=
        std::string(t.text_column[i] ? "<th class=\"text\">" : "<th>") + html_escape(t.header[i]) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    out += t.row_class[r].empty() ? "<tr>" : "<tr class=\"" + t.row_class[r] + "\">";
    for (std::size_t i = 0; i < t.rows[r].size(); ++i)
      out += std::string(t.text_column[i] ? "<td class=\"text\">" : "<td>") + html_escape(t.rows[r][i]) +
             "</td>";
    out += "</tr>\n";
  }
  return out + "</tbody></table></div>\n";
}

struct KindText {
  const char* kind;
  const char* heading;
  const char* caption;
};
const KindText kKinds[] = {
    {"time", "Layer time against cluster size",
     "Simulated time of one MoE layer for each strategy and placement. Lower is better."},
    {"speedup", "Speedup over standard",
     "Layer time of the fastest standard row of the same configuration divided by each row's layer time; "
     "the dotted line at 1 is standard. Higher is better."},
    {"phases", "Where the time goes",
     "Phase times stacked per strategy and placement (at most six x values are shown; the tables below have "
     "all). Communication phases are dispatch and combine; with overlap on, the bar exceeds the layer time."},
    {"bytes", "Bytes moved",
     "Bytes per MoE layer that leave a GPU (left) and that cross the network between nodes (right)."},
    {"ct", "Copies per token",
     "Solid: ct_occult, the distinct GPUs a token is sent to; dashed: ct_node, the distinct nodes; dotted: "
     "ct_standard (top-k). Depends on routing and placement, so exact strategies with one placement share a "
     "line."},
};

std::string plots_html(const Analysis& a, const PlotOutcome& plots) {
  std::string out;
  if (!plots.note.empty()) out += "<p class=\"note\">" + html_escape(plots.note) + "</p>\n";
  for (const KindText& k : kKinds) {
    std::string figures;
    for (const RenderedPlot& p : plots.plots) {
      if (p.kind != k.kind) continue;
      const std::string& title = a.panels[p.panel].title;
      figures += "<figure>\n" + p.svg + "\n<figcaption>" + (title.empty() ? "" : html_escape(title) + ". ") +
                 k.caption + "</figcaption>\n</figure>\n";
    }
    if (figures.empty()) continue;
    out += "<section id=\"" + std::string(k.kind) + "\">\n<h3>" + k.heading + "</h3>\n" + figures +
           "</section>\n";
  }
  if (plots.plots.empty() && plots.note.empty()) out += "<p>No plots were requested.</p>\n";
  return out;
}

}  // namespace

std::string html_report(const Results& res, const Analysis& a, const PlotOutcome& plots,
                        const PageInfo& info) {
  std::string context;
  for (const auto& [name, value] : context_facts(res, a))
    context += "<dt>" + html_escape(name) + "</dt><dd>" + html_escape(value) + "</dd>\n";

  std::string summary = "<ul>\n";
  for (const std::string& line : headlines(a)) summary += "<li>" + html_escape(line) + "</li>\n";
  summary += "</ul>\n" + html_table(summary_table(res, a));

  std::string wins;
  std::vector<TitledTable> wt = wins_tables(a);
  if (!wt.empty()) {
    wins = "<section id=\"wins\">\n<h2>Wins per sweep value</h2>\n";
    for (const TitledTable& t : wt) wins += "<h3>" + html_escape(t.title) + "</h3>\n" + html_table(t.table);
    wins += "</section>\n";
  }

  std::string tables;
  for (const Panel& p : a.panels) {
    if (!p.title.empty()) tables += "<h3>" + html_escape(p.title) + "</h3>\n";
    tables += html_table(results_table(res, a, p));
  }

  std::string notes;
  if (a.profiles.size() > 1)
    notes =
        "<p class=\"note\">The rows were simulated with " + std::to_string(a.profiles.size()) +
        " different calibration profiles; times from different profiles are not directly comparable.</p>\n";

  std::string subtitle = "Scaling report of " + std::to_string(a.configs.size()) + " configuration" +
                         (a.configs.size() == 1 ? "" : "s") + " simulated by occult.";
  return fill_template(report_template("report.html"),
                       {{"title", html_escape(info.title)},
                        {"subtitle", html_escape(subtitle)},
                        {"notes", notes},
                        {"context", context},
                        {"summary", summary},
                        {"wins", wins},
                        {"plots", plots_html(a, plots)},
                        {"tables", tables},
                        {"footer", "Written by <code>" + html_escape(info.command) + "</code>."}});
}

}  // namespace occult::report
