// NumPy .npy routing arrays: integer ids of shape [tokens, k] (one layer) or [layers, tokens, k], with
// an optional float array of gate weights of the same shape. Format: numpy.lib.format, versions 1-3.
#include <cctype>
#include <cstring>
#include <filesystem>
#include <limits>

#include "sim/core/error.hpp"
#include "sim/core/memory_budget.hpp"
#include "sim/core/trace_import_collector.hpp"

namespace occult::detail {
namespace {

struct NpyArray {
  char kind = 0;  // 'i', 'u' or 'f'
  int item = 0;   // bytes per element
  bool fortran = false;
  std::vector<std::int64_t> shape;
  std::vector<char> data;

  std::int64_t count() const {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
  // Element at a C-order index over `shape`, as a double or int64.
  template <class T>
  T get(std::int64_t i) const {
    const char* p = data.data() + std::size_t(i) * std::size_t(item);
    auto load = [p](auto v) {
      std::memcpy(&v, p, sizeof v);
      return v;
    };
    if (kind == 'f') return item == 4 ? T(load(float{})) : T(load(double{}));
    if (kind == 'u') {
      switch (item) {
        case 1:
          return T(load(std::uint8_t{}));
        case 2:
          return T(load(std::uint16_t{}));
        case 4:
          return T(load(std::uint32_t{}));
        default: {
          auto v =
              load(std::uint64_t{});  // clamp so a huge id stays huge (and is rejected) instead of wrapping
          return T(std::min<std::uint64_t>(v, std::uint64_t(std::numeric_limits<std::int64_t>::max())));
        }
      }
    }
    switch (item) {
      case 1:
        return T(load(std::int8_t{}));
      case 2:
        return T(load(std::int16_t{}));
      case 4:
        return T(load(std::int32_t{}));
      default:
        return T(load(std::int64_t{}));
    }
  }
};

class HeaderParser {
 public:
  HeaderParser(const std::string& path, std::string text) : path_(path), s_(std::move(text)) {}

  std::string string_value(const char* key) {
    seek_key(key);
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) fail(key, "expected a quoted string");
    char quote = s_[pos_++];
    auto end = s_.find(quote, pos_);
    if (end == std::string::npos) fail(key, "unterminated string");
    return s_.substr(pos_, end - pos_);
  }
  bool bool_value(const char* key) {
    seek_key(key);
    if (s_.compare(pos_, 4, "True") == 0) return true;
    if (s_.compare(pos_, 5, "False") == 0) return false;
    fail(key, "expected True or False");
  }
  std::vector<std::int64_t> shape() {
    seek_key("shape");
    if (pos_ >= s_.size() || s_[pos_] != '(') fail("shape", "expected a tuple");
    ++pos_;
    std::vector<std::int64_t> dims;
    for (;;) {
      skip_space();
      if (pos_ < s_.size() && s_[pos_] == ')') break;
      if (pos_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[pos_])))
        fail("shape", "expected a size");
      std::int64_t d = 0;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
        if (d > (std::int64_t(1) << 40)) fail("shape", "dimension too large");
        d = d * 10 + (s_[pos_++] - '0');
      }
      dims.push_back(d);
      skip_space();
      if (pos_ < s_.size() && s_[pos_] == ',') ++pos_;
      if (dims.size() > 8) fail("shape", "too many dimensions");
    }
    return dims;
  }

 private:
  [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
    throw InputError(path_, 0, "npy header '" + key + "'", msg);
  }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  void seek_key(const char* key) {
    auto at = s_.find("'" + std::string(key) + "'");
    if (at == std::string::npos) fail(key, "missing");
    pos_ = at + std::strlen(key) + 2;
    skip_space();
    if (pos_ >= s_.size() || s_[pos_] != ':') fail(key, "expected ':'");
    ++pos_;
    skip_space();
  }

  std::string path_;
  std::string s_;
  std::size_t pos_ = 0;
};

NpyArray load_npy(InputFile& in) {
  const std::string& path = in.name();
  char pre[10] = {};
  if (in.read(pre, 10) != 10 || std::memcmp(pre, "\x93NUMPY", 6) != 0)
    throw InputError(path, 0, "npy magic", "not a .npy file (missing \\x93NUMPY magic)");
  const int major = static_cast<unsigned char>(pre[6]);
  std::int64_t header_len = 0, offset = 10;
  if (major == 1) {
    header_len = static_cast<unsigned char>(pre[8]) | (static_cast<unsigned char>(pre[9]) << 8);
  } else if (major == 2 || major == 3) {
    char more[2];
    if (in.read(more, 2) != 2) throw InputError(path, 0, "npy header", "file truncated in the header");
    for (int i = 3; i >= 0; --i)
      header_len = (header_len << 8) | static_cast<unsigned char>(i < 2 ? pre[8 + i] : more[i - 2]);
    offset = 12;
  } else {
    throw InputError(path, 0, "npy version", "unsupported .npy version " + std::to_string(major));
  }
  // A real header is a short Python dict; a corrupt length must not allocate gigabytes.
  constexpr std::int64_t kMaxHeader = std::int64_t(1) << 20;
  if (header_len > kMaxHeader || (in.regular() && header_len > in.size() - offset))
    throw InputError(path, 0, "npy header", "file truncated in the header");
  std::string header(std::size_t(header_len), '\0');
  if (std::int64_t(in.read(header.data(), std::size_t(header_len))) != header_len)
    throw InputError(path, 0, "npy header", "file truncated in the header");

  NpyArray a;
  HeaderParser hp(path, header);
  const std::string descr = hp.string_value("descr");
  if (descr.size() < 3 || std::string("<|=>").find(descr[0]) == std::string::npos)
    throw InputError(path, 0, "npy dtype", "unsupported dtype '" + descr + "'");
  if (descr[0] == '>' && descr.substr(1) != "i1" && descr.substr(1) != "u1")
    throw InputError(path, 0, "npy dtype",
                     "big-endian arrays are not supported ('" + descr + "'); save as little-endian");
  a.kind = descr[1];
  const std::string item = descr.substr(2);
  a.item = item == "1" ? 1 : item == "2" ? 2 : item == "4" ? 4 : item == "8" ? 8 : 0;
  const bool int_ok = (a.kind == 'i' || a.kind == 'u') && a.item > 0;
  const bool float_ok = a.kind == 'f' && (a.item == 4 || a.item == 8);
  if (!int_ok && !float_ok)
    throw InputError(path, 0, "npy dtype",
                     "unsupported dtype '" + descr + "' (need an integer or float32/64 array)");
  a.fortran = hp.bool_value("fortran_order");
  a.shape = hp.shape();
  std::int64_t count = 1;
  for (auto d : a.shape) {
    if (d != 0 && count > (std::int64_t(1) << 40) / d)
      throw InputError(path, 0, "npy shape", "array too large");
    count *= d;
  }
  const std::int64_t need = count * a.item;
  if (in.regular()) {
    const std::int64_t have = in.size() - offset - header_len;
    if (have < need)
      throw InputError(path, 0, "npy data",
                       "file truncated: the shape needs " + std::to_string(need) +
                           " data bytes, the file has " + std::to_string(have));
    if (have > need)
      throw InputError(path, 0, "npy data",
                       std::to_string(have - need) + " unexpected bytes after the array");
  }
  // The raw array, and the ids and weights the importer keeps from it (4 + 4 bytes per element).
  check_memory(sat_add(std::uint64_t(need), sat_mul(std::uint64_t(count), 8)), "the .npy array " + path, path,
               0, "npy shape");
  // Chunks: a pipe that ends early costs what it delivered, not what its header claimed.
  constexpr std::int64_t kChunk = std::int64_t(1) << 24;
  while (std::int64_t(a.data.size()) < need) {
    const std::int64_t at = std::int64_t(a.data.size()), n = std::min(kChunk, need - at);
    a.data.resize(std::size_t(at + n));
    const auto got = std::int64_t(in.read(a.data.data() + at, std::size_t(n)));
    if (got != n)
      throw InputError(path, 0, "npy data",
                       "file truncated: the shape needs " + std::to_string(need) +
                           " data bytes, the file has " + std::to_string(at + got));
  }
  if (!in.at_end()) throw InputError(path, 0, "npy data", "unexpected bytes after the array");
  return a;
}

// C-order flat index of element (l, t, j) in an array of logical shape [L, T, K], stored C or Fortran.
std::int64_t flat(const NpyArray& a, std::int64_t l, std::int64_t t, std::int64_t j, std::int64_t L,
                  std::int64_t T, std::int64_t K) {
  if (!a.fortran) return (l * T + t) * K + j;
  return a.shape.size() == 3 ? (j * T + t) * L + l : j * T + t;
}

// The trailing number of the file name ("moe_layer12.npy" -> 12), or -1.
int layer_from_name(const std::string& path) {
  const std::string stem = std::filesystem::path(path).stem().string();
  std::size_t end = stem.size(), begin = end;
  while (begin > 0 && std::isdigit(static_cast<unsigned char>(stem[begin - 1]))) --begin;
  if (begin == end || end - begin > 6) return -1;
  return std::stoi(stem.substr(begin, end - begin));
}

}  // namespace

void read_npy(InputFile& in, const std::string& weights_path, int position, RoutingCollector& sink) {
  const std::string& path = in.name();
  const NpyArray ids = load_npy(in);
  if (ids.kind == 'f')
    throw InputError(path, 0, "npy dtype", "expert ids must be an integer array (this one holds floats)");
  if (ids.shape.size() != 2 && ids.shape.size() != 3)
    throw InputError(path, 0, "npy shape",
                     "expected [tokens, k] or [layers, tokens, k], got " + std::to_string(ids.shape.size()) +
                         " dimensions");
  const bool stacked = ids.shape.size() == 3;
  const std::int64_t L = stacked ? ids.shape[0] : 1, T = ids.shape[stacked ? 1 : 0], K = ids.shape.back();
  if (L == 0 || T == 0 || K == 0) throw InputError(path, 0, "npy shape", "array is empty");
  NpyArray w;
  if (!weights_path.empty()) {
    InputFile weights_in(weights_path);
    w = load_npy(weights_in);
    if (w.kind != 'f')
      throw InputError(weights_path, 0, "npy dtype", "gate weights must be a float32/float64 array");
    if (w.shape != ids.shape)
      throw InputError(weights_path, 0, "npy shape", "weights shape differs from the ids shape of " + path);
  }
  const int named = layer_from_name(path);
  std::vector<std::int64_t> row(std::size_t(K), 0);
  std::vector<double> wrow;
  for (std::int64_t l = 0; l < L; ++l) {
    const int layer = stacked ? int(l) : (named >= 0 ? named : position);
    for (std::int64_t t = 0; t < T; ++t) {
      wrow.clear();
      for (std::int64_t j = 0; j < K; ++j) {
        row[std::size_t(j)] = ids.get<std::int64_t>(flat(ids, l, t, j, L, T, K));
        if (!w.data.empty()) wrow.push_back(w.get<double>(flat(w, l, t, j, L, T, K)));
      }
      // Errors name the 1-based row (token) of the layer in place of a line number.
      sink.add(layer, row, wrow, long(t + 1));
    }
  }
}

}  // namespace occult::detail
