#include "sim/core/memory_budget.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <mutex>

#include "sim/core/error.hpp"

namespace occult {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

struct Limit {
  std::uint64_t bytes = kMax;
  std::string source;
};

void lower(Limit& l, std::uint64_t bytes, const char* source) {
  if (bytes > 0 && bytes < l.bytes) l = {bytes, source};
}

// A cgroup v2 memory.max ("max" or bytes) or v1 memory.limit_in_bytes; 0 when there is none.
std::uint64_t cgroup_limit() {
  for (const char* p : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream in(p);
    std::string text;
    if (in >> text && !text.empty() && std::isdigit(static_cast<unsigned char>(text[0])))
      return std::strtoull(text.c_str(), nullptr, 10);
  }
  return 0;
}

Limit detect() {
  Limit l;
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) lower(l, std::uint64_t(pages) * std::uint64_t(page), "the machine's memory");
  lower(l, cgroup_limit(), "the cgroup's memory.max");
  rlimit r{};
  if (getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY)
    lower(l, std::uint64_t(r.rlim_cur), "ulimit -v");
  if (getrlimit(RLIMIT_DATA, &r) == 0 && r.rlim_cur != RLIM_INFINITY)
    lower(l, std::uint64_t(r.rlim_cur), "ulimit -d");
  if (l.bytes == kMax) l.source = "no limit found";
  return l;
}

std::mutex g_mutex;
Limit* g_override = nullptr;

Limit current() {
  std::lock_guard lock(g_mutex);
  if (g_override) return *g_override;
  static const Limit detected = detect();
  return detected;
}

}  // namespace

std::uint64_t memory_limit() { return current().bytes; }
std::string memory_limit_source() { return current().source; }

void set_memory_limit(std::uint64_t bytes) {
  std::lock_guard lock(g_mutex);
  static Limit storage;
  if (bytes == 0) {
    g_override = nullptr;
    return;
  }
  storage = {bytes, "--max-memory"};
  g_override = &storage;
}

void check_memory(std::uint64_t estimate, const std::string& what, const std::string& file, long line,
                  const std::string& field) {
  const Limit l = current();
  if (estimate <= l.bytes) return;
  constexpr std::uint64_t kGiB = std::uint64_t(1) << 30;
  const std::string raise = estimate == kMax ? "SIZE" : std::to_string(estimate / kGiB + 1) + "G";
  throw InputError(file, line, field,
                   what + " needs about " + format_bytes(estimate) +
                       " of memory (estimate), more than the limit of " + format_bytes(l.bytes) + " (" +
                       l.source + "); make it smaller, or raise the limit with --max-memory " + raise +
                       " where there is that much memory");
}

std::uint64_t sat_mul(std::uint64_t a, std::uint64_t b) {
  if (a != 0 && b > kMax / a) return kMax;
  return a * b;
}

std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) { return b > kMax - a ? kMax : a + b; }

std::string format_bytes(std::uint64_t bytes, int decimals) {
  if (bytes == kMax) return "more than 16 EiB";
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = double(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f %s", u == 0 ? 0 : decimals, v, units[u]);
  return buf;
}

std::uint64_t parse_size(const std::string& text, const std::string& field) {
  auto bad = [&]() -> std::uint64_t {
    throw InputError("", 0, field,
                     "'" + text +
                         "' is not a size: a number with an optional unit K, M, G or T (binary: 64G = 64 "
                         "GiB), e.g. 64G");
  };
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return bad();
  double v = 0;
  try {
    std::size_t used = 0;
    v = std::stod(text.substr(0, i), &used);
    if (used != i) return bad();
  } catch (const std::exception&) {
    return bad();
  }
  std::string unit = text.substr(i);
  for (char& c : unit) c = char(std::toupper(static_cast<unsigned char>(c)));
  if (unit.ends_with("IB")) unit.erase(unit.size() - 2);
  if (unit.ends_with("B")) unit.pop_back();
  double mult = 1;
  if (unit == "K")
    mult = 1024.0;
  else if (unit == "M")
    mult = 1024.0 * 1024;
  else if (unit == "G")
    mult = 1024.0 * 1024 * 1024;
  else if (unit == "T")
    mult = 1024.0 * 1024 * 1024 * 1024;
  else if (!unit.empty())
    return bad();
  const double bytes = v * mult;
  if (!(bytes >= 1) || !std::isfinite(bytes)) return bad();
  return bytes >= 1.8e19 ? kMax : std::uint64_t(bytes);
}

}  // namespace occult
