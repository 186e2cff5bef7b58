#pragma once
// For fuzz targets whose parser reads a file: the input written to a file of its own.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sim/core/error.hpp"

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

// The whole body of a target whose only contract is "bad input is InputError": the bytes as a file,
// given to read(path). Anything else it throws, a crash or a sanitizer report is the bug found.
template <class Read>
int only_input_errors(const std::string& tag, const std::uint8_t* data, std::size_t size, Read read) {
  const std::string path = fresh_file(tag, data, size);
  if (path.empty()) return 0;
  try {
    (void)read(path);
  } catch (const InputError&) {
  }
  return 0;
}

// The body of a target for a format the project also writes: bytes that read (read(path)) must
// write (write(value, path)) and read back to the same document (to_json(value)); bad input must be
// InputError. A round trip that differs aborts, as a crash would.
template <class Read, class Write, class ToJson>
int round_trips(const std::string& tag, const std::uint8_t* data, std::size_t size, Read read, Write write,
                ToJson to_json) {
  static const std::string out = "/tmp/occult_fuzz_" + tag + "_out_" + std::to_string(getpid());
  const std::string in = fresh_file(tag, data, size);
  if (in.empty()) return 0;
  decltype(read(in)) value;
  try {
    value = read(in);
  } catch (const InputError&) {
    return 0;
  }
  write(value, out);
  if (to_json(read(out)) != to_json(value)) std::abort();
  return 0;
}

}  // namespace occult::fuzz
