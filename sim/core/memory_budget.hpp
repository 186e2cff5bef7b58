#pragma once
// The memory a run may use, and the check every large allocation passes first: a command estimates
// what its input will need before allocating it, and an input that needs more than the limit is bad
// input (InputError, exit 2) naming the estimate, the limit and the option that raises it, instead of a
// process that grows until the kernel kills it or std::bad_alloc ends it (docs/guarantees.md).
//
// The limit is the smallest of the machine's physical memory, the cgroup's memory.max and the
// process's address-space and data limits (ulimit -v, ulimit -d), unless --max-memory set it.
#include <cstdint>
#include <string>

namespace occult {

// Bytes the process may use; see above.
std::uint64_t memory_limit();
// Where the limit comes from, for messages: "the machine's memory", "ulimit -v", "--max-memory", ...
std::string memory_limit_source();
// --max-memory: replaces the detected limit (0: back to the detected one).
void set_memory_limit(std::uint64_t bytes);

// Throws InputError(file, line, field, "<what> needs about X (estimate), more than the memory limit of Y
// (<source>); ...") when `estimate` exceeds the limit.
void check_memory(std::uint64_t estimate, const std::string& what, const std::string& file = "",
                  long line = 0, const std::string& field = "");

// Saturating arithmetic for estimates built from input sizes: absurd sizes must not wrap to small ones.
std::uint64_t sat_mul(std::uint64_t a, std::uint64_t b);
std::uint64_t sat_add(std::uint64_t a, std::uint64_t b);
template <typename... T>
std::uint64_t sat_product(std::uint64_t a, T... rest) {
  std::uint64_t p = a;
  ((p = sat_mul(p, std::uint64_t(rest))), ...);
  return p;
}

// "1.5 GiB", "512.0 MiB", "4.2 TiB" (`decimals` after the point; bytes as a whole number); saturated
// values print as "more than 16 EiB".
std::string format_bytes(std::uint64_t bytes, int decimals = 1);
// "64G", "64GiB", "1.5T", "512M", "4096" (bytes); binary units. InputError(field) when malformed or 0.
std::uint64_t parse_size(const std::string& text, const std::string& field);

}  // namespace occult
