#pragma once
// Internal to the importers: gathers records from any log format, checks each one, tracks the
// leading run of identical expert sets per (file, layer), and builds the Trace at the end.
#include <map>
#include <span>

#include "sim/core/input_file.hpp"
#include "sim/core/trace_import.hpp"

namespace occult::detail {

class RoutingCollector {
 public:
  RoutingCollector(const ImportOptions& opts, ImportReport& report) : opts_(opts), report_(report) {}

  void begin_file(const std::string& path);
  // One (token, layer) record. `weights` may be empty (no gate weights logged). Bad records throw
  // InputError, or are counted and skipped under skip_bad.
  void add(int layer, std::span<const std::int64_t> ids, std::span<const double> weights, long line);
  // A record the parser could not even read (malformed JSON, missing field, wrong type).
  void bad(long line, const std::string& field, const std::string& message);
  void typed_skipped() { ++report_.typed_skipped; }
  void end_file();
  Trace finish();

 private:
  struct LayerData {
    std::vector<std::int32_t> experts;
    std::vector<float> weights;  // always filled (1/k when not logged), cleared at the end if none was
    bool any_weights = false;
  };
  struct Segment {  // this file's part of one layer
    std::int64_t start_token = 0;
    std::vector<std::int32_t> first_set;  // sorted
    std::int64_t leading_run = 0;
    bool run_open = true;
    bool weighted = false;
  };

  const ImportOptions& opts_;
  ImportReport& report_;
  std::string file_;
  int top_k_ = 0;
  long top_k_line_ = 0;               // the record k was taken from (when --top-k was not given)
  std::int64_t other_k_records_ = 0;  // records skipped for having another number of ids than k
  std::int64_t max_id_ = -1;
  std::map<int, LayerData> layers_;
  std::map<int, Segment> segments_;
  std::vector<std::int32_t> scratch_;
};

// The parsers (trace_jsonl.cpp, trace_npy.cpp) feed records into the collector. Each input is opened
// once (it may be a pipe) and read front to back.
void read_jsonl(InputFile& in, RoutingCollector& sink);
// `weights_path` may be empty. `position` numbers the .npy inputs, for files without a layer number.
void read_npy(InputFile& in, const std::string& weights_path, int position, RoutingCollector& sink);

}  // namespace occult::detail
