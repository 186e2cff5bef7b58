#pragma once
// A dense (source device, destination device) matrix of row counts. Bytes = rows * row_bytes.
#include <cstdint>
#include <vector>

namespace occult {

class PairMatrix {
 public:
  PairMatrix() = default;
  explicit PairMatrix(int n) : n_(n), v_(std::size_t(n) * std::size_t(n), 0) {}

  int size() const { return n_; }
  std::int64_t& at(int src, int dst) { return v_[std::size_t(src) * std::size_t(n_) + std::size_t(dst)]; }
  std::int64_t at(int src, int dst) const { return v_[std::size_t(src) * std::size_t(n_) + std::size_t(dst)]; }

  std::int64_t total() const;            // all entries, the diagonal (local rows) included
  std::int64_t remote_total() const;     // off-diagonal entries only
  std::int64_t row_sum(int src, bool include_local) const;
  std::int64_t col_sum(int dst, bool include_local) const;
  PairMatrix transposed() const;         // combine mirrors dispatch

 private:
  int n_ = 0;
  std::vector<std::int64_t> v_;
};

}  // namespace occult
