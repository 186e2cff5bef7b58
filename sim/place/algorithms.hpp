#pragma once
// The placement algorithms by name, and the options they share.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/cluster_shape.hpp"

namespace occult::place {

enum class Algo { Contiguous, RoundRobin, Greedy, Metis, Hierarchical, LoadAware };

// In a stable order, as spelled on the command line.
const std::vector<std::string>& algo_names();
std::string algo_name(Algo a);
// Throws InputError(field "algo") listing the valid names.
Algo parse_algo(const std::string& name);

struct PlaceOptions {
  Algo algo = Algo::Metis;
  ClusterShape shape;
  int replicate = 0;            // extra copies of the hottest experts (EPLB-like); (E + R) % D == 0
  double max_load_ratio = 1.1;  // load-aware: bound on max / mean (token, expert) pairs per device
  int restarts = 2;             // metis-based: METIS seeds and perturbation rounds per stage
  // Tokens of the later half of each layer's profile count this many times; 0 = chosen by validation on
  // the profile (place_trace). Applies to every algorithm that reads the tokens (not the baselines).
  int recent_weight = 1;
  std::uint64_t seed = 1;
};

// Defaults of `occult place`: the option set that did best in cross-validation on the profiles of
// the real routing logs (docs/placement.md, results/placement-defaults-2026-12-07). PlaceOptions keeps
// the cheap defaults (2 restarts, no recency) for callers that place on the fly (simulate).
constexpr int kCliRestarts = 8;
constexpr int kCliRecentWeight = 4;

// Throws InputError naming the field at fault: G not dividing D, (E + R) not divisible by D, R out of
// [0, E * (D - 1)] ... (see the implementation for the full list).
void validate_options(const PlaceOptions& options, int experts);

}  // namespace occult::place
