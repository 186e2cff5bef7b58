// libFuzzer target: arbitrary bytes as an occult binary trace, read from a regular file (sizes checked
// against the file's) and from a pipe (no size known: arrays grow as their bytes arrive). The only
// acceptable failure is InputError; anything else (crash, sanitizer report, other exception) is a bug.
#include <unistd.h>

#include <cstdint>
#include <string>

#include "fuzz/fuzz_file.hpp"
#include "sim/core/error.hpp"
#include "sim/core/trace.hpp"

namespace {

void read_quietly(const std::string& path) {
  try {
    (void)occult::read_trace(path);
  } catch (const occult::InputError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (const std::string path = occult::fuzz::fresh_file("trace", data, size); !path.empty())
    read_quietly(path);
  // The same bytes through a pipe; inputs are at most -max_len bytes, well within a pipe's buffer.
  int fds[2];
  if (size <= 65536 && ::pipe(fds) == 0) {
    const bool written = ::write(fds[1], data, size) == ssize_t(size);
    ::close(fds[1]);
    if (written) read_quietly("/dev/fd/" + std::to_string(fds[0]));
    ::close(fds[0]);
  }
  return 0;
}
