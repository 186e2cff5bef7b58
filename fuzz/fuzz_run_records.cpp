// libFuzzer target: arbitrary bytes as a file of measured runs (read_run_records: one gpu-run record,
// or a file of several). Every record that reads must encode and decode to the same document, numbers
// within 1e-12 relative (the file has microseconds, the record seconds: the scaling may move the last
// bit). The only acceptable failure is InputError; anything else is a bug.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_file.hpp"
#include "sim/core/error.hpp"
#include "sim/core/run_record.hpp"

namespace {

bool same(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>(), y = b.get<double>();
    return x == y || std::fabs(x - y) <= 1e-12 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.type() != b.type() || a.size() != b.size()) return false;
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it)
      if (!b.contains(it.key()) || !same(it.value(), b.at(it.key()))) return false;
    return true;
  }
  if (a.is_array()) {
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!same(a[i], b[i])) return false;
    return true;
  }
  return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in = occult::fuzz::fresh_file("run_records", data, size);
  if (in.empty()) return 0;
  std::vector<occult::NamedRecord> runs;
  try {
    runs = occult::read_run_records(in);
  } catch (const occult::InputError&) {
    return 0;
  }
  for (const auto& r : runs) {
    const auto j = occult::run_record_to_json(r.record);
    if (!same(occult::run_record_to_json(occult::run_record_from_json(j, r.name)), j)) std::abort();
  }
  return 0;
}
