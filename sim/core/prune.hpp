#pragma once
// Collaboration pruning (docs/design.md 9, lossy): `pruned:N` keeps each token's experts on at most N
// devices, `node-limited:M` on at most M nodes. The kept devices (nodes) are those with the highest
// sum of the token's gate weights on them; ties go to the token's own device (node), then the
// lower id.
//
// Traces hold only each token's top-k ids and gate weights, not the router's full scores, so the
// paper's "next-best experts on the allowed devices" cannot be known. What we do instead:
// - criterion score: keep the token's experts on the allowed devices; each dropped slot becomes
//   kDroppedExpert (weight 0) and the kept weights are scaled up so the token's gate mass is
//   unchanged. A pruned token may thus have fewer than k experts.
// - criterion similarity: replace each dropped expert by the most similar expert that the token
//   does not already use and that has a copy on an allowed device, carrying the dropped weight.
//   Similarity is the cosine of the experts' co-activation rows, profiled from the routing itself
//   (SimilarityMatrix, built once per layer). If no such expert exists the slot is dropped as
//   under score.
// docs/metrics.md discusses what this can and cannot tell about model quality.
#include <cstdint>
#include <span>
#include <vector>

#include "sim/core/cluster_shape.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/strategy.hpp"
#include "sim/core/trace.hpp"

namespace occult {

// How much of the original routing survives pruning.
struct PruneFidelity {
  std::int64_t choices = 0;       // (token, expert) choices before pruning
  std::int64_t kept_choices = 0;  // of those, still chosen afterwards
  std::int64_t replaced = 0;      // dropped choices filled by a similar expert (criterion similarity)
  double gate_mass = 0;           // sum of the gate weights before pruning
  double kept_gate_mass = 0;      // the part of it on kept choices
  std::int64_t tokens = 0;
  std::int64_t tokens_pruned = 0;  // tokens that lost at least one choice

  double choice_fraction() const { return choices > 0 ? double(kept_choices) / double(choices) : 1.0; }
  double mass_fraction() const { return gate_mass > 0 ? kept_gate_mass / gate_mass : 1.0; }
  void merge(const PruneFidelity& o);
};

// Cosine similarity of the co-activation rows of every pair of experts of one layer:
// C[a][b] = tokens that chose both a and b (a != b), sim(a, b) = C_a . C_b / (|C_a| |C_b|).
class SimilarityMatrix {
 public:
  static SimilarityMatrix profile(const LayerRouting& routing, int num_experts);

  int experts() const { return n_; }
  double at(int a, int b) const { return sim_[std::size_t(a) * std::size_t(n_) + std::size_t(b)]; }
  // The other experts by decreasing similarity to a (ties: lower id first).
  std::span<const int> neighbours(int a) const {
    return {order_.data() + std::size_t(a) * std::size_t(n_ - 1), std::size_t(n_ - 1)};
  }

 private:
  int n_ = 0;
  std::vector<double> sim_;
  std::vector<int> order_;
};

struct PrunedLayer {
  LayerRouting routing;  // same layout [tokens x k]; dropped slots hold kDroppedExpert, weight 0
  PruneFidelity fidelity;
};

// Prunes one layer as `spec` says (an unpruned spec returns the routing unchanged). For criterion
// similarity, `similarity` may be given (profiled on other data) or is profiled from `routing`.
// Devices are resolved with routing_resolve.hpp, so replicas count where the token uses them.
PrunedLayer prune_layer(const LayerRouting& routing, const LayerPlacement& placement,
                        const ClusterShape& shape, const StrategySpec& spec,
                        const SimilarityMatrix* similarity = nullptr);

}  // namespace occult
