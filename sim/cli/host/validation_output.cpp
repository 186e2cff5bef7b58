// `occult validate`'s outputs: a table for people, JSON, CSV and an HTML page with a log-log plot.
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "sim/cli/host/report_format.hpp"
#include "sim/cli/host/report_gnuplot.hpp"
#include "sim/cli/host/validation.hpp"

namespace occult::cli {
namespace {

using report::fmt_time;
using report::html_escape;

std::string pct(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%+.1f%%", 100 * x);
  return b;
}
std::string apct(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", 100 * x);
  return b;
}

const char* kClassColors[][2] = {
    {"layer", "#000000"}, {"communication", "#0072B2"}, {"expert", "#009E73"}, {"kernel", "#D55E00"}};

}  // namespace

void print_validation(const Validation& v, std::FILE* out) {
  std::fprintf(out, "occult validate: %zu comparisons from %zu runs, %zu not modelled\n\n", v.rows.size(),
               v.sources.size(), v.not_modelled.size());
  std::string last;
  for (const auto& r : v.rows) {
    if (r.run != last) {
      std::fprintf(out, "%s  (%s)\n", r.run.c_str(), r.group.c_str());
      std::fprintf(out, "  %-9s %-16s %12s %12s %9s\n", "strategy", "phase", "measured", "predicted", "error");
      last = r.run;
    }
    std::fprintf(out, "  %-9s %-16s %12s %12s %9s\n", r.strategy.c_str(), r.phase.c_str(),
                 fmt_time(r.measured_s).c_str(), fmt_time(r.predicted_s).c_str(), pct(r.error()).c_str());
  }
  if (!v.not_modelled.empty()) {
    std::fprintf(out, "\nnot modelled:\n");
    for (const auto& n : v.not_modelled) std::fprintf(out, "  %s: %s\n", n.run.c_str(), n.reason.c_str());
  }
  std::fprintf(out, "\nsummary: |predicted - measured| / measured\n");
  std::fprintf(out, "  %-34s %-14s %5s %8s %8s %9s\n", "machine and path", "class", "n", "median", "p90", "worst");
  for (const auto& s : summarize(v))
    std::fprintf(out, "  %-34s %-14s %5zu %8s %8s %9s\n", s.group.c_str(), s.cls.c_str(), s.stats.n,
                 apct(s.stats.median).c_str(), apct(s.stats.p90).c_str(), pct(s.stats.worst).c_str());
}

nlohmann::json validation_json(const Validation& v) {
  nlohmann::json rows = nlohmann::json::array(), nm = nlohmann::json::array(), src = nlohmann::json::array(),
                 sum = nlohmann::json::array();
  for (const auto& r : v.rows)
    rows.push_back({{"run", r.run},
                    {"group", r.group},
                    {"strategy", r.strategy},
                    {"phase", r.phase},
                    {"class", r.cls},
                    {"measured_s", r.measured_s},
                    {"predicted_s", r.predicted_s},
                    {"error", r.error()}});
  for (const auto& n : v.not_modelled) nm.push_back({{"run", n.run}, {"reason", n.reason}});
  for (const auto& s : v.sources)
    src.push_back({{"run", s.run},
                   {"group", s.group},
                   {"topology", s.topology},
                   {"profile", s.profile},
                   {"gpu", s.gpu},
                   {"date", s.date},
                   {"command", s.command},
                   {"commit", s.commit}});
  for (const auto& s : summarize(v))
    sum.push_back({{"group", s.group},
                   {"class", s.cls},
                   {"n", s.stats.n},
                   {"median_abs_error", s.stats.median},
                   {"p90_abs_error", s.stats.p90},
                   {"worst_error", s.stats.worst}});
  return {{"comparisons", rows}, {"not_modelled", nm}, {"runs", src},
          {"summary", sum},      {"warnings", v.warnings}, {"errors", v.errors}};
}

std::string validation_csv(const Validation& v) {
  std::ostringstream o;
  o << "run,group,strategy,phase,class,measured_s,predicted_s,error\n";
  auto q = [](const std::string& s) { return s.find_first_of(",\"") == std::string::npos ? s : "\"" + s + "\""; };
  o.precision(9);
  for (const auto& r : v.rows)
    o << q(r.run) << ',' << q(r.group) << ',' << r.strategy << ',' << r.phase << ',' << r.cls << ','
      << r.measured_s << ',' << r.predicted_s << ',' << r.error() << '\n';
  return o.str();
}

namespace {

report::PlotScript plot_script(const Validation& v, const std::string& dir) {
  report::PlotScript s;
  const std::string file = dir + "/validation.svg";
  std::ostringstream g;
  g.precision(9);
  g << "set terminal svg size 720,560 dynamic font 'Helvetica,13' background '#ffffff'\n"
    << "set output " << report::gnuplot_quote(file) << "\n"
    << "set logscale xy\nset format x '%.0s%cs'\nset format y '%.0s%cs'\n"
    << "set xlabel 'measured'\nset ylabel 'predicted (simulator)'\n"
    << "set key top left box opaque\nset grid\nset size square\n";
  double lo = 1e300, hi = 0;
  for (const auto& r : v.rows) {
    lo = std::min({lo, r.measured_s, r.predicted_s});
    hi = std::max({hi, r.measured_s, r.predicted_s});
  }
  if (hi <= 0) lo = 1e-6, hi = 1e-3;
  lo = std::max(lo, 1e-7);
  g << "set xrange [" << lo / 1.5 << ":" << hi * 1.5 << "]\nset yrange [" << lo / 1.5 << ":" << hi * 1.5 << "]\n";
  std::string plot = "plot x title 'predicted = measured' lc rgb '#888888' dt 1, 1.15*x title '+/-15%' lc rgb "
                     "'#bbbbbb' dt 2, 0.85*x notitle lc rgb '#bbbbbb' dt 2";
  for (const auto& [cls, color] : kClassColors) {
    std::string block = std::string("$") + cls;
    g << block << " << EOD\n";
    bool any = false;
    for (const auto& r : v.rows)
      if (r.cls == cls && r.measured_s > 0 && r.predicted_s > 0) g << r.measured_s << ' ' << r.predicted_s << '\n', any = true;
    g << "EOD\n";
    if (any)
      plot += ", " + block + " using 1:2 with points pt 7 ps 0.6 lc rgb '" + color + "' title '" + cls + "'";
  }
  g << plot << "\n";
  s.text = g.str();
  s.plots.push_back({"validation", 0, file});
  return s;
}

}  // namespace

std::string validation_html(const Validation& v, const std::string& command, const std::string& plots_dir) {
  const report::PlotOutcome plots =
      report::render_script([&](const std::string& dir) { return plot_script(v, dir); }, plots_dir);
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>occult validation</title>\n"
    << "<style>body{font-family:Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
    << "table{border-collapse:collapse;margin:1em 0}td,th{padding:3px 9px;border-bottom:1px solid #ddd;"
    << "text-align:right}th{background:#f4f4f4}td.l,th.l{text-align:left}.bad{color:#b00}"
    << "code{background:#f4f4f4;padding:1px 4px}</style></head><body>\n"
    << "<h1>Simulator against measured GPU runs</h1>\n<p>Every measured run simulated as the identical layer "
    << "(same workload, routing, placement, plan, transport and modes, on the topology and calibration profile "
    << "of its machine). Error = (predicted &minus; measured) / measured. " << v.rows.size() << " comparisons from "
    << v.sources.size() << " runs; " << v.not_modelled.size() << " not modelled.</p>\n";
  h << "<h2>Summary</h2>\n<table><tr><th class=l>machine and path</th><th class=l>class</th><th>n</th>"
    << "<th>median |error|</th><th>p90 |error|</th><th>worst</th></tr>\n";
  for (const auto& s : summarize(v))
    h << "<tr><td class=l>" << html_escape(s.group) << "</td><td class=l>" << s.cls << "</td><td>" << s.stats.n
      << "</td><td>" << apct(s.stats.median) << "</td><td>" << apct(s.stats.p90) << "</td><td"
      << (std::abs(s.stats.worst) > 0.15 ? " class=bad" : "") << ">" << pct(s.stats.worst) << "</td></tr>\n";
  h << "</table>\n";
  for (const auto& w : v.warnings) h << "<p class=bad>warning: " << html_escape(w) << "</p>\n";
  h << "<h2>Predicted against measured</h2>\n";
  for (const auto& p : plots.plots) h << p.svg << "\n";
  if (!plots.note.empty()) h << "<p>" << html_escape(plots.note) << "</p>\n";
  h << "<h2>Every comparison</h2>\n<table><tr><th class=l>run</th><th class=l>machine and path</th>"
    << "<th class=l>strategy</th><th class=l>phase</th><th>measured</th><th>predicted</th><th>error</th></tr>\n";
  for (const auto& r : v.rows)
    h << "<tr><td class=l>" << html_escape(r.run) << "</td><td class=l>" << html_escape(r.group)
      << "</td><td class=l>" << r.strategy << "</td><td class=l>" << r.phase << "</td><td>"
      << fmt_time(r.measured_s) << "</td><td>" << fmt_time(r.predicted_s) << "</td><td"
      << (std::abs(r.error()) > 0.15 ? " class=bad" : "") << ">" << pct(r.error()) << "</td></tr>\n";
  h << "</table>\n";
  if (!v.not_modelled.empty()) {
    h << "<h2>Not modelled</h2>\n<table><tr><th class=l>run</th><th class=l>why</th></tr>\n";
    for (const auto& n : v.not_modelled)
      h << "<tr><td class=l>" << html_escape(n.run) << "</td><td class=l>" << html_escape(n.reason) << "</td></tr>\n";
    h << "</table>\n";
  }
  h << "<h2>Where the numbers come from</h2>\n<table><tr><th class=l>run</th><th class=l>measured</th>"
    << "<th class=l>command</th><th class=l>topology</th><th class=l>profile</th></tr>\n";
  for (const auto& s : v.sources)
    h << "<tr><td class=l>" << html_escape(s.run) << "</td><td class=l>" << html_escape(s.gpu + ", " + s.date)
      << (s.commit.empty() ? "" : ", " + html_escape(s.commit)) << "</td><td class=l><code>"
      << html_escape(s.command) << "</code></td><td class=l>" << html_escape(s.topology) << "</td><td class=l>"
      << html_escape(s.profile) << "</td></tr>\n";
  h << "</table>\n<p>Made by <code>" << html_escape(command) << "</code>.</p>\n</body></html>\n";
  return h.str();
}

}  // namespace occult::cli
