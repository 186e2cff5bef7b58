// libFuzzer target: arbitrary bytes as a topology file (load_topology reads and validates it). The only
// acceptable failure is InputError; anything else (crash, sanitizer report, other exception) is a bug.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "sim/core/error.hpp"
#include "sim/core/topology.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/tmp/occult_fuzz_topology_" + std::to_string(getpid()) + ".toml";
  // A fresh file each time: truncating in place makes ext4 flush on close (auto_da_alloc), 100x slower.
  std::remove(path.c_str());
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    (void)occult::load_topology(path);
  } catch (const occult::InputError&) {
  }
  return 0;
}
