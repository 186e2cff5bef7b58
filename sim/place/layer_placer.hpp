#pragma once
// One layer's placement from its profiling tokens. Layers are independent: callers may run them in
// any order or in parallel, and the result depends only on (tokens, options, seed).
#include <cstdint>

#include "sim/core/placement.hpp"
#include "sim/place/algorithms.hpp"
#include "sim/place/token_sets.hpp"

namespace occult::place {

struct LayerOutcome {
  LayerPlacement placement;
  // load-aware only: the bound on (token, expert) pairs per device, and whether it was met on the
  // profiling tokens (it can be infeasible, e.g. one expert heavier than the bound).
  std::int64_t load_bound = 0;
  bool load_bound_met = true;
};

// options must have passed validate_options for tokens.num_experts.
LayerOutcome place_layer(const TokenSets& tokens, const PlaceOptions& options, std::uint64_t seed);

}  // namespace occult::place
