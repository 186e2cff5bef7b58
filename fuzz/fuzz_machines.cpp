// libFuzzer target: arbitrary bytes as a machines registry (read_machines: calibration/machines.toml).
// The only acceptable failure is InputError; anything else (crash, sanitizer report, other exception)
// is a bug.
#include <cstdint>
#include <string>

#include "fuzz/fuzz_file.hpp"
#include "sim/core/error.hpp"
#include "sim/core/machines.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in = occult::fuzz::fresh_file("machines", data, size);
  if (in.empty()) return 0;
  try {
    (void)occult::read_machines(in);
  } catch (const occult::InputError&) {
  }
  return 0;
}
