#pragma once
// A quantity measured at a few sizes: seconds against a work measure x (bytes, pairs), as the
// calibration profile stores it. Between samples the time is interpolated on log-log axes (a power
// law per segment, which is how launch-bound and bandwidth-bound regimes join); below the first
// sample the time is the first sample's (the launch floor: a smaller call is no faster); above the
// last, it grows in proportion to x from the last sample (the asymptotic rate holds). Every sample
// is reproduced exactly.
#include <vector>

namespace occult {

struct CurveSample {
  double x = 0;
  double seconds = 0;
};

class MeasuredCurve {
 public:
  MeasuredCurve() = default;
  // Samples need x > 0 and seconds > 0; they are sorted by x, and samples of equal x averaged.
  explicit MeasuredCurve(std::vector<CurveSample> samples);

  bool empty() const { return samples_.empty(); }
  const std::vector<CurveSample>& samples() const { return samples_; }
  // 0 for x <= 0 (no work, no launch).
  double seconds(double x) const;

 private:
  std::vector<CurveSample> samples_;
};

}  // namespace occult
