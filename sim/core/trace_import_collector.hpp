#pragma once
// Internal to the importers: gathers records from any log format, checks each one, finds the blocks
// of dummy routing per (file, layer) (degenerate_blocks.hpp), and builds the Trace at the end.
#include <map>
#include <optional>
#include <span>

#include "sim/core/degenerate_blocks.hpp"
#include "sim/core/input_file.hpp"
#include "sim/core/trace_import.hpp"

namespace occult::detail {

// Where a record sits among the forward passes, as far as the log says (either may be absent).
struct PassMark {
  std::optional<std::int64_t> pass;       // pass id: a change of it starts a new pass
  std::optional<std::int64_t> token_idx;  // row inside its pass: a restart (<= the previous) starts one
};

class RoutingCollector {
 public:
  RoutingCollector(const ImportOptions& opts, ImportReport& report) : opts_(opts), report_(report) {}

  void begin_file(const std::string& path);
  // One (token, layer) record. `weights` may be empty (no gate weights logged). Bad records throw
  // InputError, or are counted and skipped under skip_bad.
  void add(int layer, std::span<const std::int64_t> ids, std::span<const double> weights, long line,
           const PassMark& mark = {});
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
    explicit Segment(std::int64_t min_records) : by_pass(min_records), by_record(min_records) {}
    std::int64_t start_token = 0;
    bool weighted = false;
    // Passes are known once a record names one or a token_idx restarts; until then (and in logs that
    // never say) each record is judged as a unit of its own.
    bool passes_known = false;
    std::optional<std::int64_t> last_pass, last_token_idx;
    DegenerateBlockFinder by_pass, by_record;
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
