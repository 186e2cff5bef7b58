#pragma once
// The co-activation graph of one layer (the paper's collaboration graph): a weighted undirected
// Boost.Graph whose vertices are experts (vertex weight = expert load, the tokens that chose it) and whose
// edge {a, b} weighs the tokens that chose both a and b. Edges of weight 0 are absent.
#include <cstdint>
#include <vector>

#include <boost/graph/adjacency_matrix.hpp>

#include "sim/place/token_sets.hpp"

namespace occult::place {

struct ExpertVertex {
  std::int64_t load = 0;
};
struct CoactivationEdge {
  std::int64_t weight = 0;
};
// An adjacency matrix: these graphs are dense (a long trace co-activates almost every pair), so a matrix
// costs no more memory than edge lists and is filled without one allocation per edge (with an
// adjacency_list, building the graph cost more than partitioning it).
using CoactivationGraph = boost::adjacency_matrix<boost::undirectedS, ExpertVertex, CoactivationEdge>;

// Row-major E x E pair counts (symmetric, zero diagonal): entry (a, b) = tokens that chose both a and b.
std::vector<std::int64_t> coactivation_counts(const TokenSets& tokens);

CoactivationGraph build_coactivation_graph(const TokenSets& tokens);
// The graph of counts already made by coactivation_counts (same vertex loads from `tokens`).
CoactivationGraph build_coactivation_graph(const TokenSets& tokens, const std::vector<std::int64_t>& counts);

// Compressed sparse rows with int32 weights, the input format of METIS. Weights above INT32_MAX are
// scaled down together (never to 0) so the ratios METIS sees stay close to the true ones.
struct CsrGraph {
  std::vector<std::int32_t> xadj, adjncy, adjwgt;
};
// max_degree > 0 keeps only the edges that are among the max_degree heaviest of at least one endpoint:
// enough for METIS to find the clusters (it only seeds the refinement, which sees every token), and
// much faster on the near-complete graphs of long traces.
CsrGraph to_csr(const CoactivationGraph& g, int max_degree = 0);

}  // namespace occult::place
