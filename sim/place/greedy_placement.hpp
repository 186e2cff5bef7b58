#pragma once
// The Occult paper's greedy clustering of the co-activation graph into equal groups.
#include <cstdint>
#include <vector>

namespace occult::place {

// Seeds far apart: the most loaded vertex first, then repeatedly the unassigned vertex with the least
// co-activation to the seeds chosen so far (ties: heavier, then lower id). Then the groups take turns,
// each adding the unassigned vertex with the largest co-activation to its current members (ties:
// heavier, then lower id), until every group holds `capacity`. `weights` is dense V x V.
std::vector<int> greedy_groups(const std::vector<std::int64_t>& weights,
                               const std::vector<std::int64_t>& load, int groups, int capacity);

}  // namespace occult::place
