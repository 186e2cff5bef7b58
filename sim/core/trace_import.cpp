#include "sim/core/trace_import.hpp"

#include <cstring>
#include <fstream>

#include "sim/core/error.hpp"
#include "sim/core/trace_import_collector.hpp"

namespace occult {
namespace {

bool looks_like_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[6] = {};
  return in.read(magic, 6) && std::memcmp(magic, "\x93NUMPY", 6) == 0;
}

}  // namespace

Trace import_trace(const std::vector<std::string>& inputs, const ImportOptions& opts, ImportReport* report) {
  if (inputs.empty()) throw InputError("", 0, "input", "no input files");
  if (opts.experts < 0) throw InputError("", 0, "experts", "must be positive");
  if (opts.top_k < 0 || (opts.experts > 0 && opts.top_k > opts.experts))
    throw InputError("", 0, "top-k", "must be in [1, experts]");
  if (opts.degenerate_min_run < 1) throw InputError("", 0, "degenerate-min", "must be >= 1");
  ImportReport local;
  ImportReport& rep = report ? *report : local;
  rep = ImportReport{};
  detail::RoutingCollector sink(opts, rep);
  std::size_t npy_seen = 0;
  std::string sources;
  for (const auto& path : inputs) {
    sink.begin_file(path);
    const bool npy =
        opts.format == LogFormat::Npy || (opts.format == LogFormat::Auto && looks_like_npy(path));
    if (npy) {
      std::string weights;
      if (npy_seen < opts.weight_files.size()) weights = opts.weight_files[npy_seen];
      detail::read_npy(path, weights, int(npy_seen), sink);
      ++npy_seen;
    } else {
      detail::read_jsonl(path, sink);
    }
    sink.end_file();
    sources += (sources.empty() ? "" : " ") + path;
  }
  if (opts.weight_files.size() > npy_seen)
    throw InputError(opts.weight_files[npy_seen], 0, "weights",
                     "more weight files than .npy id files (" + std::to_string(opts.weight_files.size()) +
                         " vs " + std::to_string(npy_seen) + ")");
  Trace t = sink.finish();
  t.source = "import " + sources;
  validate_trace(t, inputs.back());
  return t;
}

}  // namespace occult
