// libFuzzer target: arbitrary bytes through the JSONL and .npy importers. The only acceptable failure
// is InputError; anything else (crash, sanitizer report, other exception) is a bug.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "sim/core/error.hpp"
#include "sim/core/trace_import.hpp"

namespace {

std::string temp_file() {
  static const std::string path = "/tmp/occult_fuzz_" + std::to_string(getpid()) + ".in";
  return path;
}

void import_as(occult::LogFormat format, bool skip_bad) {
  occult::ImportOptions opts;
  opts.format = format;
  opts.skip_bad = skip_bad;
  opts.degenerate_min_run = 2;
  try {
    occult::import_trace({temp_file()}, opts, nullptr);
  } catch (const occult::InputError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A fresh file each time: truncating in place makes ext4 flush on close (auto_da_alloc), 100x slower.
  std::remove(temp_file().c_str());
  FILE* f = std::fopen(temp_file().c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  import_as(occult::LogFormat::Jsonl, false);
  import_as(occult::LogFormat::Jsonl, true);
  import_as(occult::LogFormat::Npy, false);
  return 0;
}
