#pragma once
// EPLB-like replication: extra copies of the hottest experts fill the free slots that the placement
// left (vertices >= E of the group assignment).
#include <vector>

#include "sim/core/placement.hpp"
#include "sim/place/token_sets.hpp"

namespace occult::place {

// group_of: one entry per vertex; experts first, then `free slots` (one per replica). Hottest experts
// first (ties: lower id), each expert gets at most one copy, on the free slot's device that saves the most
// destination devices for its tokens (tokens where it is alone on its device and another expert already
// sits on the slot's device; the dispatch in routing_resolve.hpp reuses such devices), ties by the
// lighter device. An expert whose only free slots are on its own device is skipped for the next one.
LayerPlacement place_replicas(const TokenSets& tokens, const std::vector<int>& group_of, int devices);

}  // namespace occult::place
