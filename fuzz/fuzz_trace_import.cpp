// libFuzzer target: arbitrary bytes through the JSONL and .npy importers. The only acceptable failure
// is InputError; anything else (crash, sanitizer report, other exception) is a bug.
#include <cstdint>
#include <string>

#include "fuzz/fuzz_file.hpp"
#include "sim/core/error.hpp"
#include "sim/core/trace_import.hpp"

namespace {

void import_as(const std::string& path, occult::LogFormat format, bool skip_bad) {
  occult::ImportOptions opts;
  opts.format = format;
  opts.skip_bad = skip_bad;
  opts.degenerate_min_run = 2;
  try {
    occult::import_trace({path}, opts, nullptr);
  } catch (const occult::InputError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = occult::fuzz::fresh_file("import", data, size);
  if (path.empty()) return 0;
  import_as(path, occult::LogFormat::Jsonl, false);
  import_as(path, occult::LogFormat::Jsonl, true);
  import_as(path, occult::LogFormat::Npy, false);
  return 0;
}
