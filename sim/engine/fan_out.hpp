#pragma once
// Zero-length joins with a bounded number of successors, shared by the flow models (comm_step,
// link_drain): wiring one activity to thousands of successors directly is quadratic in SimGrid's
// duplicate-successor check.
#include <map>

#include "sim/engine/sg_backend.hpp"

namespace occult {

// Hands out intermediate zero-length joins of `root`, each with at most kFan successors.
class FanOut {
 public:
  static constexpr int kFan = 64;
  FanOut(SgBackend& sg, int root, int host) : sg_(&sg), root_(root), host_(host) {}
  int root() const { return root_; }
  int next() {
    if (used_ == kFan || current_ < 0) {
      current_ = sg_->delay(host_, 0);
      sg_->depends(current_, root_);
      used_ = 0;
    }
    ++used_;
    return current_;
  }

 private:
  SgBackend* sg_;
  int root_, host_, current_ = -1, used_ = 0;
};

// A zero-length join on the control host per key, created on first use, that fans out to its successors.
template <class Key>
FanOut& join_of(std::map<Key, FanOut>& joins, const Key& k, SgBackend& sg, int control) {
  auto it = joins.find(k);
  if (it == joins.end()) it = joins.emplace(k, FanOut(sg, sg.delay(control, 0), control)).first;
  return it->second;
}

}  // namespace occult
