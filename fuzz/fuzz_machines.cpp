// libFuzzer target: arbitrary bytes as a machines registry (read_machines: calibration/machines.toml). The
// only acceptable failure is InputError; anything else (crash, sanitizer report, other exception) is a bug.
#include <cstdint>

#include "fuzz/fuzz_file.hpp"
#include "sim/core/machines.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return occult::fuzz::only_input_errors("machines", data, size,
                                         [](const std::string& p) { return occult::read_machines(p); });
}
