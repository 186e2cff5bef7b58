#include "sim/core/trace_import.hpp"

#include <algorithm>
#include <string_view>

#include "sim/core/error.hpp"
#include "sim/core/input_file.hpp"
#include "sim/core/trace_import_collector.hpp"

namespace occult {
namespace {

// Peeks at the buffered start: the input is not opened twice (a pipe can be read only once).
bool looks_like_npy(InputFile& in) { return in.peek(6) == std::string_view("\x93NUMPY", 6); }

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
  if (std::count(inputs.begin(), inputs.end(), "-") > 1)
    throw InputError("", 0, "input", "'-' (standard input) given more than once");
  for (const auto& path : inputs) {
    InputFile in(path);
    sink.begin_file(in.name());
    const bool npy = opts.format == LogFormat::Npy || (opts.format == LogFormat::Auto && looks_like_npy(in));
    if (npy) {
      std::string weights;
      if (npy_seen < opts.weight_files.size()) weights = opts.weight_files[npy_seen];
      detail::read_npy(in, weights, int(npy_seen), sink);
      ++npy_seen;
    } else {
      detail::read_jsonl(in, sink);
    }
    sink.end_file();
    sources += (sources.empty() ? "" : " ") + in.name();
  }
  // Weights pair with id files by position: a missing one would leave a layer unweighted unnoticed.
  if (!opts.weight_files.empty() && opts.weight_files.size() != npy_seen)
    throw InputError(opts.weight_files.back(), 0, "weights",
                     std::to_string(opts.weight_files.size()) + " --weights file(s) for " +
                         std::to_string(npy_seen) +
                         " .npy id file(s): give one per id file, in the same order");
  Trace t = sink.finish();
  t.source = "import " + sources;
  validate_trace(t, inputs.back());
  return t;
}

}  // namespace occult
