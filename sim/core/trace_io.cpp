// The project's binary trace format (docs/formats/trace.md) and trace validation.
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "sim/core/error.hpp"
#include "sim/core/input_file.hpp"
#include "sim/core/memory_budget.hpp"
#include "sim/core/output_file.hpp"
#include "sim/core/trace.hpp"

namespace occult {
namespace {

// The format is little-endian; raw arrays are copied as-is, which is only right on such hosts.
static_assert(std::endian::native == std::endian::little, "trace I/O assumes a little-endian host");

constexpr char kMagic[8] = {'O', 'C', 'C', 'T', 'R', 'A', 'C', 'E'};
constexpr std::uint32_t kVersion = 1;
constexpr std::uint32_t kMaxString = 1u << 20;  // model name / provenance; far above any real use
constexpr std::int32_t kMaxExperts = 1 << 20;
constexpr std::int32_t kMaxTopK = 1024;

void check_layer(const Trace& trace, const LayerRouting& l, const std::string& where) {
  const std::string ctx = "layer " + std::to_string(l.layer);
  if (l.top_k != trace.top_k)
    throw InputError(
        where, 0, ctx + " top_k",
        "k is " + std::to_string(l.top_k) + " but the trace's k is " + std::to_string(trace.top_k));
  if (l.experts.empty()) throw InputError(where, 0, ctx, "has no tokens");
  if (l.experts.size() % std::size_t(l.top_k) != 0)
    throw InputError(where, 0, ctx + " experts", "id count is not a multiple of k");
  if (!l.weights.empty() && l.weights.size() != l.experts.size())
    throw InputError(where, 0, ctx + " weights", "weight count differs from id count");
  const std::int64_t tokens = l.tokens();
  for (std::int64_t t = 0; t < tokens; ++t) {
    auto ids = l.token_experts(t);
    for (std::size_t j = 0; j < ids.size(); ++j) {
      if (ids[j] < 0 || ids[j] >= trace.num_experts)
        throw InputError(
            where, 0, ctx + " token " + std::to_string(t) + " expert",
            "id " + std::to_string(ids[j]) + " outside [0, " + std::to_string(trace.num_experts) + ")");
      for (std::size_t i = 0; i < j; ++i)
        if (ids[i] == ids[j])
          throw InputError(where, 0, ctx + " token " + std::to_string(t) + " expert",
                           "expert " + std::to_string(ids[j]) + " chosen twice");
    }
  }
  for (std::size_t i = 0; i < l.weights.size(); ++i)
    if (!std::isfinite(l.weights[i]) || l.weights[i] < 0.0f)
      throw InputError(where, 0, ctx + " token " + std::to_string(i / std::size_t(l.top_k)) + " weight",
                       "weight must be finite and >= 0");
}

// Reads with every size checked before anything is allocated: against what is left of a regular file,
// so that a corrupt header can neither make us allocate absurd amounts nor read past the end; in a pipe,
// whose size is unknown, against the memory limit, and arrays then grow only as their bytes arrive.
class Reader {
 public:
  explicit Reader(InputFile& in) : in_(in) {}
  const std::string& name() const { return in_.name(); }
  // Bytes left in a regular file; the largest value for a pipe.
  std::int64_t left() const {
    return in_.regular() ? in_.size() - in_.offset() : std::numeric_limits<std::int64_t>::max();
  }
  void bytes(void* dst, std::int64_t n, const char* field) {
    if (n < 0 || n > left())
      throw InputError(
          name(), 0, field,
          "file truncated: needs " + std::to_string(n) + " more bytes, " + std::to_string(left()) + " left");
    const auto got = std::int64_t(in_.read(dst, std::size_t(n)));
    if (got != n)
      throw InputError(
          name(), 0, field,
          "file truncated: needs " + std::to_string(n) + " more bytes, " + std::to_string(got) + " left");
  }
  template <class T>
  T scalar(const char* field) {
    T v{};
    bytes(&v, sizeof v, field);
    return v;
  }
  std::string str(const char* field) {
    auto n = scalar<std::uint32_t>(field);
    if (n > kMaxString)
      throw InputError(name(), 0, field, "string length " + std::to_string(n) + " too large");
    std::string s(n, '\0');
    bytes(s.data(), n, field);
    return s;
  }
  template <class T>
  void array(std::vector<T>& v, std::int64_t count, const char* field) {
    if (count < 0 || count > left() / std::int64_t(sizeof(T)))
      throw InputError(name(), 0, field,
                       "file truncated: array of " + std::to_string(count) + " elements does not fit");
    claimed_ = sat_add(claimed_, sat_mul(std::uint64_t(count), sizeof(T)));
    check_memory(claimed_, "the trace " + name() + " (as its header says)", name(), 0, field);
    v.clear();
    // Chunks: a pipe that ends early costs what it delivered, not what its header claimed.
    constexpr std::int64_t kChunk = (std::int64_t(1) << 24) / std::int64_t(sizeof(T));
    while (std::int64_t(v.size()) < count) {
      const std::int64_t at = std::int64_t(v.size()), n = std::min(kChunk, count - at);
      v.resize(std::size_t(at + n));
      bytes(v.data() + at, n * std::int64_t(sizeof(T)), field);
    }
  }
  bool at_end() { return in_.at_end(); }

 private:
  InputFile& in_;
  std::uint64_t claimed_ = 0;  // bytes of the arrays so far
};

class Writer {
 public:
  explicit Writer(const std::string& path) : file_(path) {}
  void bytes(const void* src, std::size_t n) {
    file_.stream().write(static_cast<const char*>(src), std::streamsize(n));
  }
  template <class T>
  void scalar(T v) {
    bytes(&v, sizeof v);
  }
  void str(const std::string& s) {
    scalar(std::uint32_t(s.size()));
    bytes(s.data(), s.size());
  }
  void finish() { file_.commit(); }

 private:
  OutputFile file_;
};

}  // namespace

void validate_trace(const Trace& trace, const std::string& where) {
  if (trace.num_experts <= 0 || trace.num_experts > kMaxExperts)
    throw InputError(where, 0, "num_experts", "must be in [1, " + std::to_string(kMaxExperts) + "]");
  if (trace.top_k <= 0 || trace.top_k > trace.num_experts || trace.top_k > kMaxTopK)
    throw InputError(where, 0, "top_k", "must be in [1, num_experts]");
  if (trace.layers.empty()) throw InputError(where, 0, "layers", "trace has no layers");
  std::map<int, int> seen;
  for (const auto& l : trace.layers) {
    if (seen[l.layer]++ > 0)
      throw InputError(where, 0, "layer", "layer " + std::to_string(l.layer) + " appears twice");
    check_layer(trace, l, where);
  }
}

void write_trace(const Trace& trace, const std::string& path) {
  validate_trace(trace, path);
  Writer w(path);
  w.bytes(kMagic, sizeof kMagic);
  w.scalar(kVersion);
  w.scalar(std::int32_t(trace.num_experts));
  w.scalar(std::int32_t(trace.top_k));
  w.scalar(std::int32_t(trace.layers.size()));
  w.str(trace.model);
  w.str(trace.source);
  for (const auto& l : trace.layers) {
    w.scalar(std::int32_t(l.layer));
    w.scalar(std::uint32_t(l.weights.empty() ? 0 : 1));
    w.scalar(std::int64_t(l.tokens()));
    w.bytes(l.experts.data(), l.experts.size() * sizeof(std::int32_t));
    if (!l.weights.empty()) w.bytes(l.weights.data(), l.weights.size() * sizeof(float));
  }
  w.finish();
}

Trace read_trace(const std::string& path) {
  InputFile in(path);
  Reader r(in);
  const std::string& name = r.name();
  char magic[sizeof kMagic];
  r.bytes(magic, sizeof magic, "magic");
  if (std::memcmp(magic, kMagic, sizeof kMagic) != 0)
    throw InputError(name, 0, "magic",
                     "not an occult trace (use `occult trace import` for JSONL or .npy logs)");
  auto version = r.scalar<std::uint32_t>("version");
  if (version != kVersion)
    throw InputError(name, 0, "version",
                     "format version " + std::to_string(version) + " unsupported (this build reads " +
                         std::to_string(kVersion) + ")");
  Trace t;
  t.num_experts = r.scalar<std::int32_t>("num_experts");
  t.top_k = r.scalar<std::int32_t>("top_k");
  auto layers = r.scalar<std::int32_t>("layers");
  if (t.num_experts <= 0 || t.num_experts > kMaxExperts)
    throw InputError(name, 0, "num_experts", "value " + std::to_string(t.num_experts) + " out of range");
  if (t.top_k <= 0 || t.top_k > t.num_experts || t.top_k > kMaxTopK)
    throw InputError(name, 0, "top_k", "value " + std::to_string(t.top_k) + " out of range");
  // Each layer needs at least its 16-byte header, which bounds a corrupt count by the file size.
  if (layers <= 0 || layers > r.left() / 16)
    throw InputError(name, 0, "layers", "count " + std::to_string(layers) + " impossible for this file size");
  t.model = r.str("model");
  t.source = r.str("source");
  // Layers are added as they are read: in a pipe the count is not bounded by a size.
  for (std::int32_t i = 0; i < layers; ++i) {
    LayerRouting& l = t.layers.emplace_back();
    l.layer = r.scalar<std::int32_t>("layer");
    auto has_weights = r.scalar<std::uint32_t>("has_weights");
    auto tokens = r.scalar<std::int64_t>("tokens");
    if (has_weights > 1) throw InputError(name, 0, "has_weights", "must be 0 or 1");
    if (tokens <= 0 || tokens > r.left() / (4 * std::int64_t(t.top_k)))
      throw InputError(name, 0, "tokens",
                       "count " + std::to_string(tokens) + " impossible for this file size");
    l.top_k = t.top_k;
    r.array(l.experts, tokens * t.top_k, "experts");
    if (has_weights) r.array(l.weights, tokens * t.top_k, "weights");
  }
  if (in.regular() ? r.left() != 0 : !r.at_end())
    throw InputError(name, 0, "",
                     (in.regular() ? std::to_string(r.left()) : std::string("some")) +
                         " unexpected bytes after the last layer");
  validate_trace(t, name);
  return t;
}

}  // namespace occult
