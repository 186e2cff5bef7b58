#pragma once
// How numbers and text appear in reports: SI units chosen so that 3 significant digits show, changes as
// signed percentages, and escaping for HTML and gnuplot strings. "n/a" for values the CSV left empty.
#include <string>
#include <string_view>

namespace occult::report {

std::string fmt_time(double seconds);               // "1.23 ms", "456 us", "2.10 s"
std::string fmt_bytes(double bytes);                // decimal units: "1.50 GB", "320 MB"
std::string fmt_ratio(double x);                    // "1.60x"
std::string fmt_share(double fraction);             // "71%"
std::string fmt_change(double now, double before);  // "-38%", "+5%", "0%"; "n/a" when before is 0
std::string fmt_fixed(double v, int decimals);      // "5.13"
std::string fmt_shortest(double v);                 // "64", "0.5": the shortest text that reads back exactly

std::string html_escape(std::string_view s);
// A gnuplot single-quoted string literal (quotes doubled), for titles and labels.
std::string gnuplot_quote(std::string_view s);

}  // namespace occult::report
