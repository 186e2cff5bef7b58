// libFuzzer target: arbitrary bytes as a placement file (read_placement parses and validates it). A
// placement that reads must write and read back to the same document. The only acceptable failure is
// InputError; anything else (crash, sanitizer report, other exception, a round trip that differs) is a
// bug.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_file.hpp"
#include "sim/core/error.hpp"
#include "sim/core/placement.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string out = "/tmp/occult_fuzz_placement_out_" + std::to_string(getpid()) + ".json";
  const std::string in = occult::fuzz::fresh_file("placement", data, size);
  if (in.empty()) return 0;
  occult::Placement p;
  try {
    p = occult::read_placement(in);
  } catch (const occult::InputError&) {
    return 0;
  }
  occult::write_placement(p, out);
  if (occult::placement_to_json(occult::read_placement(out)) != occult::placement_to_json(p)) std::abort();
  return 0;
}
