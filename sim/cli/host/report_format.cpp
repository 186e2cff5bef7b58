#include "sim/cli/host/report_format.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace occult::report {
namespace {

std::string printf_str(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// Three significant digits: 123, 12.3, 1.23.
std::string three_digits(double v) {
  double a = std::fabs(v);
  if (a >= 99.95) return printf_str("%.0f", v);
  if (a >= 9.995) return printf_str("%.1f", v);
  return printf_str("%.2f", v);
}

std::string scaled(double v, const char* const* units, int count, double step) {
  if (std::isnan(v)) return "n/a";
  int u = 0;
  while (u + 1 < count && std::fabs(v) >= step * 0.9995) {
    v /= step;
    ++u;
  }
  return three_digits(v) + " " + units[u];
}

}  // namespace

std::string fmt_time(double seconds) {
  if (std::isnan(seconds)) return "n/a";
  static const char* const units[] = {"ns", "us", "ms", "s"};
  return scaled(seconds * 1e9, units, 4, 1000.0);
}

std::string fmt_bytes(double bytes) {
  if (bytes == 0) return "0 B";
  static const char* const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  return scaled(bytes, units, 6, 1000.0);
}

std::string fmt_ratio(double x) { return std::isnan(x) ? "n/a" : printf_str("%.2fx", x); }

std::string fmt_share(double fraction) {
  return std::isnan(fraction) ? "n/a" : printf_str("%.0f%%", fraction * 100.0);
}

std::string fmt_change(double now, double before) {
  if (std::isnan(now) || std::isnan(before)) return "n/a";
  if (before == 0) return now == 0 ? "0%" : "n/a";
  double pct = (now - before) / before * 100.0;
  if (std::fabs(pct) < 0.5) return "0%";
  return printf_str("%+.0f%%", pct);
}

std::string fmt_fixed(double v, int decimals) {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string fmt_shortest(double v) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, ptr);
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string gnuplot_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "''";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out + "'";
}

}  // namespace occult::report
