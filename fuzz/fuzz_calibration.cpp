// libFuzzer target: arbitrary bytes as a calibration profile (read_calibration parses and validates
// it). A profile that reads must write and read back to the same document; the only acceptable
// failure is InputError.
#include <cstdint>

#include "fuzz/fuzz_file.hpp"
#include "sim/core/calibration.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return occult::fuzz::round_trips(
      "calibration", data, size, [](const std::string& p) { return occult::read_calibration(p); },
      [](const occult::CalibrationProfile& c, const std::string& p) { occult::write_calibration(c, p); },
      [](const occult::CalibrationProfile& c) { return occult::calibration_to_json(c); });
}
