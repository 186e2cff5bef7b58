#pragma once
// Finding dummy routing in a log: serving engines run forward passes on dummy input (memory profiling,
// warm-up, CUDA graph capture for each batch size, again after a restart), and every token of such a
// pass picks the same expert set. These blocks can sit anywhere in a log, not only at its start.
#include <cstdint>
#include <span>
#include <vector>

namespace occult::detail {

// One block of consecutive units (forward passes, or single records when passes are unknown) that each
// pick a single expert set, the same one throughout.
struct DegenerateBlock {
  std::int64_t first = 0;             // index of its first record in the stream fed to the finder
  std::int64_t records = 0;           // records it spans
  std::int64_t units = 0;             // passes (or records) it spans
  long line = 0;                      // input line (or .npy row) of its first record
  std::vector<std::int32_t> experts;  // the repeated set, sorted
};

// Streams over one (file, layer)'s records in order. A unit is *uniform* when all its records pick the
// same set; maximal runs of uniform units with one common set form a block, and a block of at least
// `min_records` records is reported. Merging units matters for CUDA graph capture, whose many small
// dummy passes (batch sizes 1, 2, 4, ...) are each too short to judge alone; a short uniform pass
// between real ones (a decode step of one sequence) is kept, because it is a block of its own.
class DegenerateBlockFinder {
 public:
  explicit DegenerateBlockFinder(std::int64_t min_records) : min_records_(min_records) {}

  // `sorted_set`: the record's expert ids, sorted. `new_unit`: the record starts a new unit (ignored for
  // the first record, which always does).
  void add(std::span<const std::int32_t> sorted_set, bool new_unit, long line);
  // Closes the open unit and block; returns every block found, in stream order.
  std::vector<DegenerateBlock> finish();

 private:
  void close_unit();
  void close_block();

  std::int64_t min_records_;
  std::int64_t seen_ = 0;  // records fed so far
  // The open unit.
  std::int64_t unit_first_ = 0, unit_records_ = 0;
  long unit_line_ = 0;
  bool unit_uniform_ = true;
  std::vector<std::int32_t> unit_set_;
  // The open block (block_.records == 0: none).
  DegenerateBlock block_;
  std::vector<DegenerateBlock> found_;
};

}  // namespace occult::detail
