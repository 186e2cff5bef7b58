#include "sim/core/pair_matrix.hpp"

#include <numeric>

namespace occult {

std::int64_t PairMatrix::total() const { return std::accumulate(v_.begin(), v_.end(), std::int64_t{0}); }

std::int64_t PairMatrix::remote_total() const {
  std::int64_t diag = 0;
  for (int i = 0; i < n_; ++i) diag += at(i, i);
  return total() - diag;
}

std::int64_t PairMatrix::row_sum(int src, bool include_local) const {
  std::int64_t s = 0;
  for (int d = 0; d < n_; ++d)
    if (include_local || d != src) s += at(src, d);
  return s;
}

std::int64_t PairMatrix::col_sum(int dst, bool include_local) const {
  std::int64_t s = 0;
  for (int r = 0; r < n_; ++r)
    if (include_local || r != dst) s += at(r, dst);
  return s;
}

PairMatrix PairMatrix::transposed() const {
  PairMatrix t(n_);
  for (int s = 0; s < n_; ++s)
    for (int d = 0; d < n_; ++d) t.at(d, s) = at(s, d);
  return t;
}

}  // namespace occult
