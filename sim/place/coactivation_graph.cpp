#include "sim/place/coactivation_graph.hpp"

#include <algorithm>
#include <climits>
#include <functional>

namespace occult::place {

std::vector<std::int64_t> coactivation_counts(const TokenSets& tokens) {
  const auto E = std::size_t(tokens.num_experts);
  // Both triangles at once: one more increment per pair is cheaper than ordering each pair, and the
  // callers want the full symmetric matrix.
  std::vector<std::int64_t> w(E * E, 0);
  for (std::int64_t t = 0; t < tokens.tokens(); ++t) {
    const auto s = tokens.experts_of(t);
    for (std::size_t i = 0; i < s.size(); ++i) {
      auto* row = &w[std::size_t(s[i]) * E];
      for (std::size_t j = 0; j < s.size(); ++j) row[std::size_t(s[j])] += std::int64_t(i != j);
    }
  }
  return w;
}

CoactivationGraph build_coactivation_graph(const TokenSets& tokens) {
  return build_coactivation_graph(tokens, coactivation_counts(tokens));
}

CoactivationGraph build_coactivation_graph(const TokenSets& tokens, const std::vector<std::int64_t>& counts) {
  const auto E = std::size_t(tokens.num_experts);
  CoactivationGraph g(E);
  for (std::size_t a = 0; a < E; ++a) {
    g[a].load = tokens.load(int(a));
    for (std::size_t b = a + 1; b < E; ++b)
      if (counts[a * E + b] > 0) boost::add_edge(a, b, CoactivationEdge{counts[a * E + b]}, g);
  }
  return g;
}

CsrGraph to_csr(const CoactivationGraph& g, int max_degree) {
  const auto V = boost::num_vertices(g);
  std::int64_t max_w = 1;
  for (auto [it, end] = boost::edges(g); it != end; ++it) max_w = std::max(max_w, g[*it].weight);
  const double scale = max_w > INT32_MAX ? double(INT32_MAX) / double(max_w) : 1.0;
  // keep[v]: the weight of v's max_degree-th heaviest edge; edges at least that heavy at either end stay.
  std::vector<std::int64_t> keep(V, 0), w;
  if (max_degree > 0)
    for (std::size_t v = 0; v < V; ++v) {
      w.clear();
      for (auto e : boost::make_iterator_range(boost::out_edges(v, g))) w.push_back(g[e].weight);
      if (int(w.size()) > max_degree) {
        std::nth_element(w.begin(), w.begin() + (max_degree - 1), w.end(), std::greater<>());
        keep[v] = w[std::size_t(max_degree - 1)];
      }
    }
  CsrGraph csr;
  csr.xadj.push_back(0);
  for (std::size_t v = 0; v < V; ++v) {
    for (auto e : boost::make_iterator_range(boost::out_edges(v, g))) {
      const auto u = boost::target(e, g);
      if (g[e].weight < keep[v] && g[e].weight < keep[u]) continue;
      csr.adjncy.push_back(std::int32_t(u));
      csr.adjwgt.push_back(std::max<std::int32_t>(1, std::int32_t(double(g[e].weight) * scale)));
    }
    csr.xadj.push_back(std::int32_t(csr.adjncy.size()));
  }
  return csr;
}

}  // namespace occult::place
