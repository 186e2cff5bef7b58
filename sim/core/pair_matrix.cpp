#include "sim/core/pair_matrix.hpp"

#include <numeric>
#include <stdexcept>
#include <string>

namespace occult {

PairMatrix::PairMatrix(int n, int block) : n_(n), block_(n > 0 ? block : 1) {
  if (n < 0 || (n > 0 && (block < 1 || n % block != 0)))
    throw std::invalid_argument("PairMatrix: block " + std::to_string(block) + " does not divide size " +
                                std::to_string(n));
  v_.assign(std::size_t(n) * std::size_t(block_), 0);
}

void PairMatrix::outside_blocks(int src, int dst) const {
  throw std::out_of_range("PairMatrix: entry (" + std::to_string(src) + ", " + std::to_string(dst) +
                          ") lies outside the diagonal blocks of " + std::to_string(block_));
}

std::int64_t PairMatrix::total() const { return std::accumulate(v_.begin(), v_.end(), std::int64_t{0}); }

std::int64_t PairMatrix::remote_total() const {
  std::int64_t diag = 0;
  for (int i = 0; i < n_; ++i) diag += at(i, i);
  return total() - diag;
}

std::int64_t PairMatrix::row_sum(int src, bool include_local) const {
  std::int64_t s = 0;
  for (int d = band_begin(src); d < band_end(src); ++d)
    if (include_local || d != src) s += at(src, d);
  return s;
}

PairMatrix PairMatrix::transposed() const {
  PairMatrix t(n_, block_);
  for (int s = 0; s < n_; ++s)
    for (int d = band_begin(s); d < band_end(s); ++d) t.at(d, s) = at(s, d);
  return t;
}

}  // namespace occult
