#pragma once
// The measured time of the sparse expert FFN (forward or backward) against its shape, and how the
// cost model reads it for shapes between the samples. Part of the calibration profile (docs/calibration.md).
#include <cstdint>
#include <string>
#include <vector>

namespace occult {

// One measured call: `local_experts` experts of h x f, each receiving exactly `rows_per_expert`
// (token, expert) pairs, on received rows that carry `slots` metadata slots (1: standard, one expert
// per row; top-k: occult, a row may feed several local experts) of which `pairs_per_row` are used.
struct ExpertSample {
  int hidden = 0, ffn = 0;
  int local_experts = 0;
  std::int64_t rows_per_expert = 0;
  int slots = 1;
  int pairs_per_row = 1;
  double seconds = 0;
  double tflops(double flops_per_pair_per_hf) const;  // flops_per_pair_per_hf: 6 forward, 12 backward
};

// What the cost model asks: `pairs` (token, expert) pairs on `rows` received rows over `local_experts`
// experts of h x f; `multi_slot` when rows carry several slots (occult's layout, even where a row feeds
// one expert: the kernel then accumulates in fp32 before it writes).
struct ExpertShape {
  std::int64_t pairs = 0, rows = 0;
  int local_experts = 0, hidden = 0, ffn = 0;
  bool multi_slot = false;
};

struct ExpertCalibration {
  std::string kernel;  // which kernel (and path) was timed
  std::vector<ExpertSample> samples;

  // Samples of the nearest (h, f) (scaled by the FLOP ratio when not exact) and the same slot layout
  // (the other one when the profile has none). In that family: log-time interpolated over log(rows
  // per expert) for each sampled expert count (below the smallest sample: its time, the launch floor;
  // above the largest: in proportion), then over log(local experts) between the two nearest expert
  // counts (in proportion beyond the largest), then linearly over pairs per row. Infinity without
  // samples.
  double seconds(const ExpertShape& s) const;
};

}  // namespace occult
