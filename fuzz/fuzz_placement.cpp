// libFuzzer target: arbitrary bytes as a placement file (read_placement parses and validates it). A
// placement that reads must write and read back to the same document. The only acceptable failure is
// InputError; anything else (crash, sanitizer report, other exception, a round trip that differs) is a
// bug.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sim/core/error.hpp"
#include "sim/core/placement.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string in = "/tmp/occult_fuzz_placement_" + std::to_string(getpid()) + ".json";
  static const std::string out = "/tmp/occult_fuzz_placement_out_" + std::to_string(getpid()) + ".json";
  // A fresh file each time: truncating in place makes ext4 flush on close (auto_da_alloc), 100x slower.
  std::remove(in.c_str());
  FILE* f = std::fopen(in.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
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
