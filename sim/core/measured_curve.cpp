#include "sim/core/measured_curve.hpp"

#include <algorithm>
#include <cmath>

namespace occult {

MeasuredCurve::MeasuredCurve(std::vector<CurveSample> samples) {
  std::sort(samples.begin(), samples.end(), [](const CurveSample& a, const CurveSample& b) { return a.x < b.x; });
  for (std::size_t i = 0; i < samples.size();) {
    std::size_t j = i;
    double sum = 0;
    while (j < samples.size() && samples[j].x == samples[i].x) sum += samples[j++].seconds;
    samples_.push_back({samples[i].x, sum / double(j - i)});
    i = j;
  }
}

double MeasuredCurve::seconds(double x) const {
  if (x <= 0 || samples_.empty()) return 0;
  if (x <= samples_.front().x) return samples_.front().seconds;
  if (x >= samples_.back().x) return samples_.back().seconds * x / samples_.back().x;
  const auto hi = std::upper_bound(samples_.begin(), samples_.end(), x,
                                   [](double v, const CurveSample& s) { return v < s.x; });
  const auto lo = hi - 1;
  const double t = std::log(x / lo->x) / std::log(hi->x / lo->x);
  return lo->seconds * std::pow(hi->seconds / lo->seconds, t);
}

}  // namespace occult
