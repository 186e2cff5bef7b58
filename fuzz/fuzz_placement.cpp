// libFuzzer target: arbitrary bytes as a placement file (read_placement parses and validates it). A
// placement that reads must write and read back to the same document; the only acceptable failure is
// InputError.
#include <cstdint>

#include "fuzz/fuzz_file.hpp"
#include "sim/core/placement.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return occult::fuzz::round_trips(
      "placement", data, size, [](const std::string& p) { return occult::read_placement(p); },
      [](const occult::Placement& v, const std::string& p) { occult::write_placement(v, p); },
      [](const occult::Placement& v) { return occult::placement_to_json(v); });
}
