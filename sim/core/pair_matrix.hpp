#pragma once
// A (source device, destination device) matrix of row counts. Bytes = rows * row_bytes.
//
// Dense by default. A block-diagonal matrix (PairMatrix(n, block)) holds only the entries inside its
// diagonal blocks of `block` devices: the plans of a cluster run as independent expert-parallel groups,
// which never exchange tokens, are block-diagonal, and at 16,384 GPUs a dense matrix is 2 GiB where its
// blocks of 256 are 32 MiB. Every entry outside the blocks reads as 0 and cannot be written. Loops that
// should cost what is stored walk [band_begin(i), band_end(i)) instead of [0, size()).
#include <cstdint>
#include <vector>

namespace occult {

class PairMatrix {
 public:
  PairMatrix() = default;
  explicit PairMatrix(int n) : PairMatrix(n, n) {}
  // Block-diagonal: `block` must divide n (std::invalid_argument otherwise); block == n is dense.
  PairMatrix(int n, int block);

  int size() const { return n_; }
  int block() const { return block_; }  // == size() when dense
  // The columns of row i that can be nonzero (the same range bounds the rows of column i).
  int band_begin(int i) const { return block_ == n_ ? 0 : i - i % block_; }  // dense: no division
  int band_end(int i) const { return band_begin(i) + block_; }

  // Throws std::out_of_range outside the diagonal blocks (where the entry is 0 and cannot change).
  std::int64_t& at(int src, int dst) {
    const int lo = band_begin(src);
    if (dst < lo || dst >= lo + block_) outside_blocks(src, dst);
    return v_[std::size_t(src) * std::size_t(block_) + std::size_t(dst - lo)];
  }
  std::int64_t at(int src, int dst) const {
    const int lo = band_begin(src);
    if (dst < lo || dst >= lo + block_) return 0;
    return v_[std::size_t(src) * std::size_t(block_) + std::size_t(dst - lo)];
  }

  std::int64_t total() const;         // all entries, the diagonal (local rows) included
  std::int64_t remote_total() const;  // off-diagonal entries only
  std::int64_t row_sum(int src, bool include_local) const;
  PairMatrix transposed() const;  // combine mirrors dispatch; same blocks (column sums: its row_sum)

 private:
  [[noreturn]] void outside_blocks(int src, int dst) const;

  int n_ = 0;
  int block_ = 1;                // never 0, so band_begin is defined on an empty matrix too
  std::vector<std::int64_t> v_;  // row src holds columns [band_begin(src), band_end(src))
};

}  // namespace occult
