#include "sim/core/expert_calibration.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "sim/core/measured_curve.hpp"

namespace occult {

double ExpertSample::tflops(double flops_per_pair_per_hf) const {
  if (seconds <= 0) return 0;
  return flops_per_pair_per_hf * double(hidden) * double(ffn) * double(rows_per_expert) * double(local_experts) /
         seconds / 1e12;
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Time at (experts, rows per expert) from one family's samples at one pairs-per-row value.
double at_experts(const std::map<int, MeasuredCurve>& by_experts, double experts, double rpe) {
  auto hi = by_experts.lower_bound(int(std::ceil(experts)));
  if (hi == by_experts.end()) {  // more experts than any sample: the work grows in proportion
    const auto& [l, curve] = *by_experts.rbegin();
    return curve.seconds(rpe) * experts / double(l);
  }
  if (hi == by_experts.begin() || double(hi->first) == experts) {
    const auto& [l, curve] = *hi;
    return curve.seconds(rpe) * std::min(1.0, experts / double(l));
  }
  const auto lo = std::prev(hi);
  const double t0 = lo->second.seconds(rpe), t1 = hi->second.seconds(rpe);
  const double w = std::log(experts / double(lo->first)) / std::log(double(hi->first) / double(lo->first));
  return t0 * std::pow(t1 / t0, w);
}

}  // namespace

double ExpertCalibration::seconds(const ExpertShape& s) const {
  if (s.pairs <= 0 || s.local_experts <= 0) return 0;
  if (samples.empty()) return kInf;
  // The family: nearest GEMM size h*f, then the slot layout the caller has (else the other).
  const double hf = double(s.hidden) * double(s.ffn);
  double best = kInf;
  int bh = 0, bf = 0;
  for (const auto& x : samples) {
    const double d = std::abs(std::log(double(x.hidden) * double(x.ffn) / hf));
    if (d < best - 1e-12) best = d, bh = x.hidden, bf = x.ffn;
  }
  bool multi = s.multi_slot;
  auto in_family = [&](const ExpertSample& x, bool m) {
    return x.hidden == bh && x.ffn == bf && (x.slots > 1) == m;
  };
  if (std::none_of(samples.begin(), samples.end(), [&](const auto& x) { return in_family(x, multi); }))
    multi = !multi;
  // pairs per row -> experts -> curve over rows per expert
  std::map<int, std::map<int, std::vector<CurveSample>>> grid;
  for (const auto& x : samples)
    if (in_family(x, multi) && x.seconds > 0 && x.rows_per_expert > 0)
      grid[x.pairs_per_row][x.local_experts].push_back({double(x.rows_per_expert), x.seconds});
  if (grid.empty()) return kInf;
  std::map<int, std::map<int, MeasuredCurve>> curves;
  for (auto& [p, by_l] : grid)
    for (auto& [l, pts] : by_l) curves[p][l] = MeasuredCurve(std::move(pts));

  const double rpe = double(s.pairs) / double(s.local_experts);
  const double ppr = s.rows > 0 ? std::max(1.0, double(s.pairs) / double(s.rows)) : 1.0;
  auto hi = curves.lower_bound(int(std::ceil(ppr)));
  double t = 0;
  if (hi == curves.end()) {
    t = at_experts(curves.rbegin()->second, s.local_experts, rpe);
  } else if (hi == curves.begin() || double(hi->first) == ppr) {
    t = at_experts(hi->second, s.local_experts, rpe);
  } else {
    const auto lo = std::prev(hi);
    const double t0 = at_experts(lo->second, s.local_experts, rpe);
    const double t1 = at_experts(hi->second, s.local_experts, rpe);
    t = t0 + (t1 - t0) * (ppr - double(lo->first)) / double(hi->first - lo->first);
  }
  // Another GEMM size: same efficiency, time in proportion to the FLOPs.
  return t * hf / (double(bh) * double(bf));
}

}  // namespace occult
