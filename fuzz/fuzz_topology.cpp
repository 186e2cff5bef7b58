// libFuzzer target: arbitrary bytes as a topology file (load_topology reads and validates it). The only
// acceptable failure is InputError; anything else (crash, sanitizer report, other exception) is a bug.
#include <cstdint>
#include <string>

#include "fuzz/fuzz_file.hpp"

#include "sim/core/error.hpp"
#include "sim/core/topology.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = occult::fuzz::fresh_file("topology", data, size);
  if (path.empty()) return 0;
  try {
    (void)occult::load_topology(path);
  } catch (const occult::InputError&) {
  }
  return 0;
}
