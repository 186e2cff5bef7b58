// libFuzzer target: arbitrary bytes as a sweep's results CSV, read the two ways occult reads it: as the
// sweep's resume does (scan_results, which decides which rows count as done and which lines to set
// aside) and as `occult report` does. What the resume keeps must be a file the report accepts, and
// reads back the same. The only acceptable failure is InputError; anything else is a bug.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sim/cli/host/report_csv.hpp"
#include "sim/cli/host/report_results.hpp"
#include "sim/cli/host/results_log.hpp"
#include "sim/core/error.hpp"
#include "sim/core/results_columns.hpp"

namespace {

const std::string& header() {
  static const std::string h = [] {
    std::string s;
    for (const auto& c : occult::results_csv_columns()) s += c + ",";
    return s + "cluster.nodes";
  }();
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)occult::report::load_results(occult::report::parse_csv(text, "fuzz.csv"));
  } catch (const occult::InputError&) {
  }
  // The fuzzer rarely guesses the 31-column header: give it, and let the bytes be the rows.
  for (const std::string& file : {text, header() + "\n" + text}) {
    occult::cli::ResultsScan scan;
    try {
      scan = occult::cli::scan_results(file, header(), "fuzz.csv");
    } catch (const occult::InputError&) {
      continue;
    }
    std::string kept = header() + "\n";
    for (const auto& [b, e] : scan.rows) kept.append(file, b, e - b).push_back('\n');
    const occult::cli::ResultsScan again = occult::cli::scan_results(kept, header(), "kept.csv");
    if (again.done != scan.done || !again.rejected.empty() || again.torn_at != std::string::npos)
      std::abort();
    if (!scan.rows.empty() &&
        occult::report::load_results(occult::report::parse_csv(kept, "kept.csv")).rows.size() !=
            scan.rows.size())
      std::abort();
  }
  return 0;
}
