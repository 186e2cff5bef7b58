#include "sim/core/prune.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "sim/core/error.hpp"
#include "sim/core/routing_resolve.hpp"

namespace occult {

void PruneFidelity::merge(const PruneFidelity& o) {
  choices += o.choices;
  kept_choices += o.kept_choices;
  replaced += o.replaced;
  gate_mass += o.gate_mass;
  kept_gate_mass += o.kept_gate_mass;
  tokens += o.tokens;
  tokens_pruned += o.tokens_pruned;
}

SimilarityMatrix SimilarityMatrix::profile(const LayerRouting& routing, int num_experts) {
  if (num_experts < 1) throw InputError("", 0, "experts", "must be >= 1");
  const auto E = std::size_t(num_experts);
  std::vector<std::int64_t> co(E * E, 0);
  const std::int64_t tokens = routing.tokens();
  for (std::int64_t t = 0; t < tokens; ++t) {
    const auto ids = routing.token_experts(t);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] < 0) continue;
      if (ids[i] >= num_experts)
        throw InputError("", 0, "experts",
                         "token " + std::to_string(t) + ": expert id " + std::to_string(ids[i]) +
                             " outside [0, " + std::to_string(num_experts) + ")");
      for (std::size_t j = i + 1; j < ids.size(); ++j) {
        if (ids[j] < 0 || ids[j] == ids[i] || ids[j] >= num_experts) continue;
        ++co[std::size_t(ids[i]) * E + std::size_t(ids[j])];
        ++co[std::size_t(ids[j]) * E + std::size_t(ids[i])];
      }
    }
  }
  SimilarityMatrix s;
  s.n_ = num_experts;
  s.sim_.assign(E * E, 0.0);
  std::vector<double> norm(E, 0.0);
  for (std::size_t a = 0; a < E; ++a) {
    double sq = 0;
    for (std::size_t x = 0; x < E; ++x) sq += double(co[a * E + x]) * double(co[a * E + x]);
    norm[a] = std::sqrt(sq);
  }
  for (std::size_t a = 0; a < E; ++a) {
    for (std::size_t b = a + 1; b < E; ++b) {
      if (norm[a] == 0 || norm[b] == 0) continue;
      double dot = 0;
      for (std::size_t x = 0; x < E; ++x) dot += double(co[a * E + x]) * double(co[b * E + x]);
      s.sim_[a * E + b] = s.sim_[b * E + a] = dot / (norm[a] * norm[b]);
    }
  }
  s.order_.reserve(E * (E - 1));
  std::vector<int> others;
  for (std::size_t a = 0; a < E; ++a) {
    others.clear();
    for (std::size_t b = 0; b < E; ++b)
      if (b != a) others.push_back(int(b));
    std::stable_sort(others.begin(), others.end(), [&](int x, int y) {
      return s.sim_[a * E + std::size_t(x)] > s.sim_[a * E + std::size_t(y)];
    });
    s.order_.insert(s.order_.end(), others.begin(), others.end());
  }
  return s;
}

namespace {

// Per-token scratch of prune_layer; sized once per layer so tokens allocate nothing.
class TokenPruner {
 public:
  TokenPruner(const LayerPlacement& placement, const ClusterShape& shape, const StrategySpec& spec, int top_k,
              const SimilarityMatrix* similarity)
      : shape_(shape),
        spec_(spec),
        similarity_(similarity),
        copies_(placement, shape.devices),
        placement_(placement),
        group_of_slot_(std::size_t(top_k)),
        groups_(std::size_t(top_k)),
        group_allowed_(std::size_t(std::max(shape.devices, shape.nodes())), 0),
        chosen_(placement.device_of.size(), 0),
        keep_(std::size_t(top_k)),
        substitute_(std::size_t(top_k)) {}

  // Rewrites one token's slots (ids, weights) in place; `t` is the token as resolved before pruning.
  void prune(const TokenDestinations& t, std::span<std::int32_t> ids, std::span<float> weights,
             PruneFidelity& fid) {
    const std::size_t k = ids.size();
    ++epoch_;
    double total = 0;
    std::size_t n_groups = 0;
    for (std::size_t j = 0; j < k; ++j) {
      const int d = t.device_of_slot[j];
      if (d < 0) continue;
      total += weights[j];
      const int g = group(d);
      group_of_slot_[j] = g;
      std::size_t i = 0;
      while (i < n_groups && groups_[i].id != g) ++i;
      if (i == n_groups) groups_[n_groups++] = {g, 0.0};
      groups_[i].sum += weights[j];
    }
    ++fid.tokens;
    fid.choices += t.slots;
    fid.gate_mass += total;
    pruned_now_ = n_groups > std::size_t(spec_.prune_limit);
    if (!pruned_now_) {
      fid.kept_choices += t.slots;
      fid.kept_gate_mass += total;
      return;
    }
    // Highest gate sum first; ties to the token's own device (node), then the lower id.
    const int own = group(t.src);
    std::sort(groups_.begin(), groups_.begin() + std::ptrdiff_t(n_groups),
              [&](const Group& a, const Group& b) {
                if (a.sum != b.sum) return a.sum > b.sum;
                if ((a.id == own) != (b.id == own)) return a.id == own;
                return a.id < b.id;
              });
    for (std::size_t i = 0; i < std::size_t(spec_.prune_limit); ++i)
      group_allowed_[std::size_t(groups_[i].id)] = epoch_;

    ++fid.tokens_pruned;
    for (std::size_t j = 0; j < k; ++j) {
      keep_[j] = t.device_of_slot[j] >= 0 && group_allowed_[std::size_t(group_of_slot_[j])] == epoch_;
      if (ids[j] >= 0) chosen_[std::size_t(ids[j])] = epoch_;  // originals are never substitutes
      if (keep_[j]) ++fid.kept_choices, fid.kept_gate_mass += weights[j];
    }
    for (std::size_t j = 0; j < k; ++j) {
      substitute_[j] = false;
      if (keep_[j] || ids[j] < 0) continue;
      const int substitute =
          spec_.criterion == PruneCriterion::Similarity ? most_similar_allowed(ids[j]) : -1;
      if (substitute >= 0) {
        ids[j] = substitute;  // carries the dropped weight
        chosen_[std::size_t(substitute)] = epoch_;
        substitute_[j] = true;
        ++fid.replaced;
      } else {
        ids[j] = kDroppedExpert;
        weights[j] = 0;
      }
    }
    target_ = total;
    renormalise(ids, weights);
  }

  // With replicas, routing_resolve may send a substitute (and, following it, a kept expert) to a
  // device outside the allowed set. Then the token falls back to the score criterion: without
  // substitutes its kept experts resolve exactly as before (routing_resolve.hpp), inside the limit.
  // `resolved` is the pruned token resolved again.
  void enforce_limit(const TokenDestinations& resolved, std::span<std::int32_t> ids, std::span<float> weights,
                     PruneFidelity& fid) {
    if (!pruned_now_) return;
    bool outside = false;
    for (std::size_t j = 0; j < ids.size(); ++j) {
      const int d = resolved.device_of_slot[j];
      outside = outside || (d >= 0 && group_allowed_[std::size_t(group(d))] != epoch_);
    }
    if (!outside) return;
    for (std::size_t j = 0; j < ids.size(); ++j) {
      if (!substitute_[j]) continue;
      ids[j] = kDroppedExpert;
      weights[j] = 0;
      --fid.replaced;
    }
    renormalise(ids, weights);
  }

  bool replicated() const { return copies_.replicated(); }

 private:
  struct Group {
    int id;
    double sum;
  };

  int group(int device) const { return spec_.prune_nodes ? shape_.node_of(device) : device; }

  bool on_allowed_device(int expert) const {
    if (group_allowed_[std::size_t(group(placement_.device_of[std::size_t(expert)]))] == epoch_) return true;
    if (!copies_.replicated()) return false;
    for (int d : placement_.replicas[std::size_t(expert)])
      if (group_allowed_[std::size_t(group(d))] == epoch_) return true;
    return false;
  }

  int most_similar_allowed(int dropped) const {
    for (int x : similarity_->neighbours(dropped))
      if (chosen_[std::size_t(x)] != epoch_ && on_allowed_device(x)) return x;
    return -1;
  }

  // Scales the remaining weights so the token keeps the gate mass it had before pruning.
  void renormalise(std::span<const std::int32_t> ids, std::span<float> weights) {
    double left = 0;
    for (std::size_t j = 0; j < ids.size(); ++j)
      if (ids[j] >= 0) left += weights[j];
    if (left <= 0) return;
    const double scale = target_ / left;
    for (std::size_t j = 0; j < ids.size(); ++j)
      if (ids[j] >= 0) weights[j] = float(double(weights[j]) * scale);
  }

  ClusterShape shape_;
  StrategySpec spec_;
  const SimilarityMatrix* similarity_;
  DeviceResolver copies_;
  const LayerPlacement& placement_;
  std::vector<int> group_of_slot_;
  std::vector<Group> groups_;
  std::vector<std::int64_t> group_allowed_;  // == epoch_ for the current token's allowed groups
  std::vector<std::int64_t> chosen_;         // == epoch_ for experts the current token uses
  std::vector<bool> keep_, substitute_;
  std::int64_t epoch_ = 0;
  bool pruned_now_ = false;  // the current token lost choices
  double target_ = 0;        // the current token's gate mass before pruning
};

}  // namespace

PrunedLayer prune_layer(const LayerRouting& routing, const LayerPlacement& placement,
                        const ClusterShape& shape, const StrategySpec& spec,
                        const SimilarityMatrix* similarity) {
  PrunedLayer out;
  out.routing = routing;
  const std::int64_t tokens = routing.tokens();
  const int k = routing.top_k;
  // Pruned weights are explicit even when the input's were implicit (uniform 1/k).
  if (out.routing.weights.empty() && tokens > 0) {
    out.routing.weights.resize(routing.experts.size());
    for (std::int64_t t = 0; t < tokens; ++t)
      for (int j = 0; j < k; ++j) out.routing.weights[std::size_t(t * k + j)] = routing.weight(t, j);
  }
  if (tokens == 0) return out;
  if (out.routing.weights.size() != out.routing.experts.size())
    throw InputError("", 0, "weights",
                     "layer " + std::to_string(routing.layer) + ": weights and ids differ in size");

  TokenWalker walker(placement, shape, k);
  if (!spec.pruned()) {
    PruneFidelity& f = out.fidelity;
    walker.walk(routing, [&](const TokenDestinations& t) {
      ++f.tokens;
      f.choices += t.slots;
      f.kept_choices += t.slots;
      for (int j = 0; j < k; ++j)
        if (t.experts[std::size_t(j)] >= 0) f.gate_mass += routing.weight(t.token, j);
    });
    f.kept_gate_mass = f.gate_mass;
    return out;
  }

  const int experts = int(placement.device_of.size());
  SimilarityMatrix profiled;
  if (spec.criterion == PruneCriterion::Similarity && similarity == nullptr) {
    profiled = SimilarityMatrix::profile(routing, experts);
    similarity = &profiled;
  }
  if (similarity != nullptr && similarity->experts() != experts)
    throw InputError("", 0, "similarity",
                     "profiled for " + std::to_string(similarity->experts()) + " experts, placement has " +
                         std::to_string(experts));

  TokenPruner pruner(placement, shape, spec, k, similarity);
  TokenWalker check(placement, shape, k);
  for (std::int64_t t = 0; t < tokens; ++t) {
    const TokenDestinations& before = walker.resolve_token(routing, t, tokens);
    std::span<std::int32_t> ids(out.routing.experts.data() + t * k, std::size_t(k));
    std::span<float> weights(out.routing.weights.data() + t * k, std::size_t(k));
    pruner.prune(before, ids, weights, out.fidelity);
    if (pruner.replicated())
      pruner.enforce_limit(check.resolve_token(out.routing, t, tokens), ids, weights, out.fidelity);
  }
  return out;
}

}  // namespace occult
