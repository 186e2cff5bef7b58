#pragma once
// Balanced k-way partitioning of the co-activation graph with METIS, repaired to exact part sizes.
#include <cstdint>
#include <vector>

#include "sim/place/coactivation_graph.hpp"

namespace occult::place {

struct MetisRequest {
  int vertices = 0;  // graph vertices plus isolated extra ones (empty replica slots)
  int parts = 1;
  std::uint64_t seed = 1;
  // Optional second balance constraint (expert load) with its tolerance (max/mean); 0 turns it off.
  std::vector<std::int64_t> load;
  double load_tolerance = 0;
  bool recursive = true;  // METIS_PartGraphRecursive; false: METIS_PartGraphKway
};

// METIS (recursive bisection or k-way) minimising the weight of cut edges, vertex counts balanced within a
// few percent. Returns the part of each vertex.
std::vector<int> metis_partition(const CsrGraph& graph, const MetisRequest& request);

// Moves vertices out of parts above `capacity` into parts below it, one at a time, always the move that
// loses the least internal co-activation weight, until every part holds exactly `capacity`.
// `weights` is the dense V x V matrix (isolated vertices have zero rows).
void repair_sizes(std::vector<int>& part, int parts, int capacity, const std::vector<std::int64_t>& weights);

}  // namespace occult::place
