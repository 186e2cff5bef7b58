#pragma once
// Placement of a whole trace, layer by layer, profiled on the first part of each layer's tokens, with
// the metrics of the result on the profiling tokens and on the rest (the holdout).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/placement.hpp"
#include "sim/core/trace.hpp"
#include "sim/place/algorithms.hpp"

namespace occult::place {

// Tokens of a layer used for profiling: the first round(F * tokens), at least 1.
std::int64_t profile_tokens(std::int64_t tokens, double profile_fraction);

// The weights options.recent_weight = 0 ("auto") chooses from.
const std::vector<int>& recent_weight_candidates();

// Layer `l` is placed from its first profile_tokens(...) tokens with seed derived from (options.seed, l),
// the later half of them counting options.recent_weight times (make_token_sets). recent_weight 0 first
// chooses the weight from recent_weight_candidates() on the profile alone: each layer is placed from the
// first half of its profile and scored (ct_occult) on the second half, summed over layers; the best wins
// (params "recent_weight", "recent_weight_validation": candidate -> summed destination devices).
// Placement::params records the options; Placement::metrics is left empty (see evaluate_split).
// `progress(done)` is called (serialised) after each layer with the count of layers done. `jobs` > 1
// places that many layers at a time on threads; the result does not depend on it. Throws InputError on
// bad options or fraction.
Placement place_trace(const Trace& trace, const PlaceOptions& options, double profile_fraction,
                      const std::function<void(std::size_t)>& progress = {}, int jobs = 1);

// Metrics of `placement` on each layer's first profile_tokens(...) tokens ("profile") and on the
// remaining ones ("holdout", absent when there are none), via analyze_layer / aggregate_layers:
// {"profile": {"tokens", "ct_standard", "ct_occult", "ct_node", "remote_ct_occult", "remote_ct_node",
//   "intra_ratio", "load_imbalance_max", "load_imbalance_mean"}, "holdout": {...}}.
nlohmann::json evaluate_split(const Trace& trace, const Placement& placement, double profile_fraction);

// The in-sample optimum of the holdout, for showing the generalisation gap: each layer placed from its
// holdout tokens themselves (same options, no recency weighting) and scored on them, in the form of
// evaluate_split's entries; null when no layer has holdout tokens. One more placement of the holdout.
nlohmann::json holdout_optimum(const Trace& trace, const PlaceOptions& options, double profile_fraction,
                               int jobs = 1);

}  // namespace occult::place
