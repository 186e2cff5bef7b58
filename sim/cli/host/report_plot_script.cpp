#include "sim/cli/host/report_plot_script.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "sim/cli/host/report_format.hpp"
#include "sim/cli/host/report_templates.hpp"

namespace occult::report {
namespace {

constexpr std::size_t kLineStyles = 7;      // colours defined in plot_common.gp, one per strategy
constexpr std::size_t kDashes = 5;          // gnuplot dash types 1..5, one per placement
constexpr std::size_t kMaxPhaseGroups = 6;  // x values shown in the phase chart (bars get unreadable)
// A y axis goes logarithmic when its values span more than this ratio.
constexpr double kLogSpan = 30.0;

using RowValue = std::function<double(std::size_t row)>;

struct Unit {
  std::string name;
  double scale;  // displayed = value * scale
};

// The unit that shows `max` as a number in [1, 1000).
Unit pick_unit(double max, const std::vector<std::string>& names, double base_scale) {
  double scale = base_scale;
  std::size_t u = 0;
  while (u + 1 < names.size() && max * scale >= 1000.0) {
    scale /= 1000.0;
    ++u;
  }
  return {names[u], scale};
}
Unit time_unit(double max_s) {
  if (max_s >= 1.0) return {"s", 1.0};
  if (max_s >= 1e-3) return {"ms", 1e3};
  return {"us", 1e6};
}
Unit byte_unit(double max_b) { return pick_unit(max_b, {"B", "kB", "MB", "GB", "TB", "PB"}, 1.0); }

std::string num(double v) { return fmt_shortest(v); }

struct XAxis {
  std::vector<double> pos;  // per configuration of the panel
  std::string setup, label;
};

XAxis x_axis(const Analysis& a, const Panel& p) {
  const auto xd = static_cast<std::size_t>(a.x_dim);
  const Dimension& dim = a.dims[xd];
  XAxis x;
  x.label = dim.name == "devices" ? "devices (GPUs in expert parallelism)" : dim.name;
  std::string tics;
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (std::size_t c : p.configs) {
    const std::string& v = a.value(a.configs[c], xd);
    double pos = dim.numeric ? std::stod(v) : static_cast<double>(a.configs[c].key[xd]);
    x.pos.push_back(pos);
    lo = std::min(lo, pos);
    hi = std::max(hi, pos);
    if (!tics.empty()) tics += ", ";
    tics += gnuplot_quote(v) + " " + num(pos);
  }
  x.setup = "set xtics (" + tics + ")\n";
  if (dim.numeric && lo > 0 && hi / lo >= 8) {
    x.setup += "set logscale x 2\n";
    x.setup += "set xrange [" + num(lo / 1.3) + ":" + num(hi * 1.3) + "]\n";
  } else {
    double pad = hi > lo ? (hi - lo) * 0.08 : 1.0;
    x.setup += "set xrange [" + num(lo - pad) + ":" + num(hi + pad) + "]\n";
  }
  return x;
}

std::string y_setup(const std::vector<double>& values, bool from_zero) {
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (double v : values) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (!values.empty() && lo > 0 && hi / lo > kLogSpan) return "set logscale y 10\n";
  return from_zero ? "set yrange [0:*]\n" : "";
}

// Colour tells the strategy, dash the placement.
std::string style_of(const Series& s) {
  return "ls " + std::to_string(s.strategy_slot % kLineStyles + 1) + " dt " +
         std::to_string(s.placement_slot % kDashes + 1);
}

// A datablock of one block per series (x y pairs) and the plot clauses that draw them.
struct Lines {
  std::string data, plot;
  std::vector<double> ys;
};

struct LineStyle {
  std::string label, style;  // title and gnuplot style clause of one line
};

Lines line_chart(const Analysis& a, const Panel& p, const XAxis& x, const std::string& block,
                 const RowValue& value, const std::vector<std::size_t>& series_rank,
                 const std::vector<LineStyle>& lines) {
  Lines out;
  out.data = block + " << EOD\n";
  std::size_t index = 0;
  for (std::size_t s = 0; s < lines.size(); ++s) {
    std::string pts;
    for (std::size_t i = 0; i < p.configs.size(); ++i) {
      for (std::size_t r : a.configs[p.configs[i]].rows) {
        if (series_rank[r] != s) continue;
        double v = value(r);
        if (std::isnan(v)) continue;
        pts += num(x.pos[i]) + " " + num(v) + "\n";
        out.ys.push_back(v);
      }
    }
    if (pts.empty()) continue;
    if (index > 0) out.data += "\n\n";
    out.data += pts;
    if (!out.plot.empty()) out.plot += ", \\\n     ";
    out.plot += block + " index " + std::to_string(index) + " using 1:2 with linespoints " + lines[s].style +
                " title " + gnuplot_quote(lines[s].label);
    ++index;
  }
  out.data += "EOD\n";
  return out;
}

std::string common(const std::string& file, int width, int height) {
  std::string w = std::to_string(width), h = std::to_string(height);
  return fill_template(report_template("plot_common.gp"),
                       {{"width", w}, {"height", h}, {"output", gnuplot_quote(file)}});
}

std::string title_for(const std::string& what, const Panel& p) {
  return gnuplot_quote(p.title.empty() ? what : what + " (" + p.title + ")");
}

std::string lines_plot(const std::string& file, const std::string& title, const std::string& ylabel,
                       const XAxis& x, const Lines& l, const std::string& ysetup, const std::string& extra) {
  if (l.plot.empty()) return "";
  return common(file, 860, 420) +
         fill_template(report_template("plot_lines.gp"), {{"data", l.data},
                                                          {"title", title},
                                                          {"xlabel", gnuplot_quote(x.label)},
                                                          {"ylabel", gnuplot_quote(ylabel)},
                                                          {"xsetup", x.setup},
                                                          {"ysetup", ysetup},
                                                          {"plot", l.plot + extra}});
}

struct Context {
  const Results& res;
  const Analysis& a;
  std::vector<LineStyle> series_lines;  // per series
  std::vector<std::string> series_labels;
};

double max_over(const Results& res, const Analysis& a, const Panel& p, const RowValue& v) {
  double m = 0;
  for (std::size_t c : p.configs)
    for (std::size_t r : a.configs[c].rows)
      if (!std::isnan(v(r))) m = std::max(m, v(r));
  (void)res;
  return m;
}

std::string time_plot(const Context& ctx, const Panel& p, const XAxis& x, const std::string& file,
                      const std::string& block) {
  const auto& rows = ctx.res.rows;
  Unit u = time_unit(max_over(ctx.res, ctx.a, p, [&](std::size_t r) { return rows[r].run.total_s; }));
  Lines l = line_chart(
      ctx.a, p, x, block, [&](std::size_t r) { return rows[r].run.total_s * u.scale; }, ctx.a.row_series,
      ctx.series_lines);
  return lines_plot(file, title_for("MoE layer time", p), "layer time (" + u.name + ")", x, l,
                    y_setup(l.ys, true), "");
}

std::string speedup_plot(const Context& ctx, const Panel& p, const XAxis& x, const std::string& file,
                         const std::string& block) {
  Lines l = line_chart(
      ctx.a, p, x, block, [&](std::size_t r) { return ctx.a.speedup[r]; }, ctx.a.row_series,
      ctx.series_lines);
  return lines_plot(file, title_for("Speedup over the fastest standard row", p),
                    "speedup (x, higher is better)", x, l, "",
                    ", \\\n     1 with lines lc rgb '#888888' dt 3 lw 1 notitle");
}

std::string bytes_plot(const Context& ctx, const Panel& p, const XAxis& x, const std::string& file,
                       const std::string& block) {
  const auto& rows = ctx.res.rows;
  Unit ur = byte_unit(max_over(ctx.res, ctx.a, p, [&](std::size_t r) { return rows[r].run.bytes_remote; }));
  Unit ui =
      byte_unit(max_over(ctx.res, ctx.a, p, [&](std::size_t r) { return rows[r].run.bytes_inter_node; }));
  Lines remote = line_chart(
      ctx.a, p, x, block + "r", [&](std::size_t r) { return rows[r].run.bytes_remote * ur.scale; },
      ctx.a.row_series, ctx.series_lines);
  Lines inter = line_chart(
      ctx.a, p, x, block + "i", [&](std::size_t r) { return rows[r].run.bytes_inter_node * ui.scale; },
      ctx.a.row_series, ctx.series_lines);
  if (remote.plot.empty()) return "";
  return common(file, 1100, 420) +
         fill_template(report_template("plot_bytes.gp"),
                       {{"data", remote.data + inter.data},
                        {"title", title_for("Bytes per MoE layer", p)},
                        {"xlabel", gnuplot_quote(x.label)},
                        {"xsetup", x.setup},
                        {"ylabel_remote", gnuplot_quote("remote bytes (" + ur.name + ")")},
                        {"ysetup_remote", y_setup(remote.ys, true)},
                        {"plot_remote", remote.plot},
                        {"ylabel_inter", gnuplot_quote("inter-node bytes (" + ui.name + ")")},
                        {"ysetup_inter", y_setup(inter.ys, true)},
                        {"plot_inter", inter.plot}});
}

// Copies per token depend on routing and placement, not on how bytes travel: standard, occult and
// hierarchical with one placement share one line; pruned strategies change the routing and get their own.
std::string ct_plot(const Context& ctx, const Panel& p, const XAxis& x, const std::string& file,
                    const std::string& block) {
  const auto& rows = ctx.res.rows;
  std::vector<std::string> labels;
  std::vector<std::size_t> rank(rows.size());
  std::vector<std::size_t>
      colour;  // per ct line: the strategy colour of its first series (exact: standard's)
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const Series& s = ctx.a.series[ctx.a.row_series[r]];
    bool exact = s.strategy.find(':') == std::string::npos;
    std::string label = exact ? "placement " + s.placement : s.placement + ", " + s.strategy;
    auto it = std::find(labels.begin(), labels.end(), label);
    rank[r] = static_cast<std::size_t>(it - labels.begin());
    if (it == labels.end()) {
      labels.push_back(label);
      colour.push_back(exact ? 0 : s.strategy_slot);
    }
  }
  // One row per (configuration, ct line): keep the first row of each.
  std::vector<bool> keep(rows.size(), false);
  for (std::size_t c : p.configs) {
    std::vector<bool> seen(labels.size(), false);
    for (std::size_t r : ctx.a.configs[c].rows)
      if (!seen[rank[r]]) seen[rank[r]] = keep[r] = true;
  }
  auto occ = [&](std::size_t r) { return keep[r] ? rows[r].run.ct_occult : kNotApplicable; };
  auto node = [&](std::size_t r) { return keep[r] ? rows[r].run.ct_node : kNotApplicable; };
  // Placement by point type here (dashes are taken by ct_node): colour 0 (black) is for exact strategies.
  std::vector<LineStyle> occ_lines, node_lines;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    std::string ls = "ls " + std::to_string(colour[i] % kLineStyles + 1) + " pt " + std::to_string(5 + 2 * i);
    occ_lines.push_back({"ct_occult, " + labels[i], ls + " dt 1"});
    node_lines.push_back({"ct_node, " + labels[i], ls + " dt 2"});
  }
  Lines lo = line_chart(ctx.a, p, x, block + "o", occ, rank, occ_lines);
  Lines ln = line_chart(ctx.a, p, x, block + "n", node, rank, node_lines);
  // top-k is the same for every row of a configuration: draw it once, as a grey reference.
  std::vector<std::size_t> one(rows.size(), 0);
  std::vector<bool> first(rows.size(), false);
  for (std::size_t c : p.configs) first[ctx.a.configs[c].rows.front()] = true;
  Lines ls = line_chart(ctx.a, p, x, block + "s",
                        [&](std::size_t r) { return first[r] ? rows[r].run.ct_standard : kNotApplicable; },
                        one, {{"ct_standard (= top-k)", "lc rgb '#888888' lw 1 dt 3 pt 0"}});
  Lines all;
  all.data = lo.data + ln.data + ls.data;
  all.plot = lo.plot;
  for (const Lines* more : {&ln, &ls})
    if (!more->plot.empty()) all.plot += ", \\\n     " + more->plot;
  return lines_plot(file, title_for("Replicas per token (ct)", p), "copies of a token per layer", x, all,
                    "set yrange [0:*]\n", "");
}

std::string phases_plot(const Context& ctx, const Panel& p, const std::string& file,
                        const std::string& block) {
  const auto& rows = ctx.res.rows;
  bool any_bwd = false;
  double max_t = 0;
  for (std::size_t c : p.configs)
    for (std::size_t r : ctx.a.configs[c].rows) {
      any_bwd = any_bwd || rows[r].run.backward_s > 0;
      max_t = std::max(max_t, rows[r].run.total_s);
    }
  Unit u = time_unit(max_t);
  // Evenly spaced x values, always the first and the last.
  std::vector<std::size_t> picked;
  std::size_t n = p.configs.size();
  std::size_t groups = std::min(n, kMaxPhaseGroups);
  for (std::size_t g = 0; g < groups; ++g) {
    std::size_t i = groups == 1 ? 0 : g * (n - 1) / (groups - 1);
    if (picked.empty() || picked.back() != i) picked.push_back(i);
  }
  // One datablock section and one `newhistogram` (titled with the x value) per picked x value.
  const auto xd = static_cast<std::size_t>(ctx.a.x_dim);
  std::string data = block + " << EOD\n";
  auto cell = [&](double v) { return num(std::isnan(v) ? 0.0 : v * u.scale); };
  struct Ph {
    const char* name;
    const char* colour;
  };
  const Ph phases[] = {{"layout", "#999999"},  {"dispatch", "#0072B2"}, {"expert", "#009E73"},
                       {"combine", "#56B4E9"}, {"unpack", "#CC79A7"},   {"backward", "#E69F00"}};
  std::string plot;
  for (std::size_t gi = 0; gi < picked.size(); ++gi) {
    const Config& c = ctx.a.configs[p.configs[picked[gi]]];
    if (gi > 0) data += "\n\n";
    for (std::size_t r : c.rows) {
      const ResultRow& row = rows[r];
      std::string quoted;
      for (char ch : ctx.series_labels[ctx.a.row_series[r]]) quoted += ch == '"' ? '\'' : ch;
      data += "\"" + quoted + "\" " + cell(row.run.phase_max("layout")) + " " +
              cell(row.run.phase_max("dispatch")) + " " + cell(row.run.phase_max("expert")) + " " +
              cell(row.run.phase_max("combine")) + " " + cell(row.run.phase_max("unpack")) + " " +
              cell(row.run.backward_s) + "\n";
    }
    if (gi > 0) plot += ", \\\n     ";
    plot += "newhistogram " + gnuplot_quote(ctx.a.dims[xd].name + "=" + ctx.a.value(c, xd)) + " lt 1";
    for (int i = 0; i < (any_bwd ? 6 : 5); ++i) {
      plot += ", \\\n       " + block + " index " + std::to_string(gi) + " using " + std::to_string(i + 2) +
              (i == 0 ? ":xtic(1)" : "") +
              (gi == 0 ? std::string(" title '") + phases[i].name + "'" : " notitle") + " lc rgb '" +
              phases[i].colour + "'";
    }
  }
  data += "EOD\n";
  int width = static_cast<int>(std::max<std::size_t>(860, 200 + 34 * (picked.size() * ctx.a.series.size())));
  return common(file, width, 520) + fill_template(report_template("plot_phases.gp"),
                                                  {{"data", data},
                                                   {"title", title_for("Where the layer time goes", p)},
                                                   {"ylabel", gnuplot_quote("phase time (" + u.name + ")")},
                                                   {"plot", plot}});
}

}  // namespace

const std::vector<std::string>& plot_kinds() {
  static const std::vector<std::string> kinds = {"time", "speedup", "phases", "bytes", "ct"};
  return kinds;
}

PlotScript build_plot_script(const Results& res, const Analysis& a, const std::string& out_dir) {
  Context ctx{res, a, {}, {}};
  for (const Series& s : a.series) {
    ctx.series_labels.push_back(s.label);
    ctx.series_lines.push_back({s.label, style_of(s)});
  }
  PlotScript script;
  script.text = "# gnuplot script written by `occult report`; run `gnuplot report.gp` to redraw.\n";
  for (const std::string& kind : plot_kinds()) {
    for (std::size_t pi = 0; pi < a.panels.size(); ++pi) {
      const Panel& p = a.panels[pi];
      XAxis x = x_axis(a, p);
      std::string file = out_dir + "/" + kind + "_" + std::to_string(pi) + ".svg";
      std::string block = "$" + kind + std::to_string(pi);
      std::string text;
      if (kind == "time")
        text = time_plot(ctx, p, x, file, block);
      else if (kind == "speedup")
        text = speedup_plot(ctx, p, x, file, block);
      else if (kind == "phases")
        text = phases_plot(ctx, p, file, block);
      else if (kind == "bytes")
        text = bytes_plot(ctx, p, x, file, block);
      else
        text = ct_plot(ctx, p, x, file, block);
      if (text.empty()) continue;
      script.text += "\n" + text + "unset output\n";
      script.plots.push_back({kind, pi, file});
    }
  }
  return script;
}

}  // namespace occult::report
