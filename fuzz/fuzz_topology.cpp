// libFuzzer target: arbitrary bytes as a topology file (load_topology reads and validates it). The only
// acceptable failure is InputError; anything else (crash, sanitizer report, other exception) is a bug.
#include <cstdint>

#include "fuzz/fuzz_file.hpp"
#include "sim/core/topology.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return occult::fuzz::only_input_errors("topology", data, size,
                                         [](const std::string& p) { return occult::load_topology(p); });
}
