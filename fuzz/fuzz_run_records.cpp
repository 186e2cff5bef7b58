// libFuzzer target: arbitrary bytes as a file of measured runs (read_run_records: one gpu-run record,
// or a file of several). Every record that reads must encode and decode to the same document. The
// only acceptable failure is InputError; anything else is a bug.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_file.hpp"
#include "sim/core/error.hpp"
#include "sim/core/run_record.hpp"

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
    if (occult::run_record_to_json(occult::run_record_from_json(j, r.name)) != j) std::abort();
  }
  return 0;
}
