// libFuzzer target: arbitrary bytes as a calibration profile (read_calibration parses and validates
// it). A profile that reads must write and read back to the same document. The only acceptable
// failure is InputError; anything else (crash, sanitizer report, other exception, a round trip that
// differs) is a bug.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_file.hpp"
#include "sim/core/calibration.hpp"
#include "sim/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string out = "/tmp/occult_fuzz_calibration_out_" + std::to_string(getpid()) + ".json";
  const std::string in = occult::fuzz::fresh_file("calibration", data, size);
  if (in.empty()) return 0;
  occult::CalibrationProfile p;
  try {
    p = occult::read_calibration(in);
  } catch (const occult::InputError&) {
    return 0;
  }
  occult::write_calibration(p, out);
  if (occult::calibration_to_json(occult::read_calibration(out)) != occult::calibration_to_json(p))
    std::abort();
  return 0;
}
