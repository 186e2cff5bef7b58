#include "sim/core/degenerate_blocks.hpp"

#include <algorithm>

namespace occult::detail {

void DegenerateBlockFinder::add(std::span<const std::int32_t> sorted_set, bool new_unit, long line) {
  if (seen_ == 0 || new_unit) {
    close_unit();
    unit_first_ = seen_;
    unit_line_ = line;
    unit_uniform_ = true;
    unit_set_.assign(sorted_set.begin(), sorted_set.end());
  } else if (unit_uniform_ && !std::ranges::equal(sorted_set, unit_set_)) {
    unit_uniform_ = false;
  }
  ++unit_records_;
  ++seen_;
}

void DegenerateBlockFinder::close_unit() {
  if (unit_records_ == 0) return;
  if (!unit_uniform_) {
    close_block();
  } else if (block_.records > 0 && block_.experts == unit_set_) {
    block_.records += unit_records_;
    ++block_.units;
  } else {
    close_block();
    // Field by field: the set's storage is reused, since in logs without pass marks every record opens
    // a block.
    block_.first = unit_first_;
    block_.records = unit_records_;
    block_.units = 1;
    block_.line = unit_line_;
    block_.experts.assign(unit_set_.begin(), unit_set_.end());
  }
  unit_records_ = 0;
}

void DegenerateBlockFinder::close_block() {
  if (block_.records >= min_records_) found_.push_back(block_);
  block_.records = 0;
}

std::vector<DegenerateBlock> DegenerateBlockFinder::finish() {
  close_unit();
  close_block();
  return std::move(found_);
}

}  // namespace occult::detail
