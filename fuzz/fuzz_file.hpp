#pragma once
// For fuzz targets whose parser reads a file: the input written to a file of its own.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace occult::fuzz {

// Writes the input to /tmp/occult_fuzz_TAG_PID (a fresh file each time: truncating in place makes
// ext4 flush on close, auto_da_alloc, 100x slower). Returns its path, or "" when it cannot be written.
inline std::string fresh_file(const std::string& tag, const std::uint8_t* data, std::size_t size) {
  const std::string path = "/tmp/occult_fuzz_" + tag + "_" + std::to_string(getpid());
  std::remove(path.c_str());
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return "";
  const bool ok = std::fwrite(data, 1, size, f) == size;
  return std::fclose(f) == 0 && ok ? path : "";
}

}  // namespace occult::fuzz
