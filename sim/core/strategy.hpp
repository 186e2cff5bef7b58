#pragma once
// Communication strategies (docs/design.md 3) and collaboration pruning, as named on the command line:
// "standard", "occult", "hierarchical", "pruned:N" (occult after keeping each token's experts on at
// most N devices), "node-limited:M" (hierarchical after keeping each token's experts on at most M
// nodes). A pruning criterion can follow: "pruned:2/similarity" (default "score").
#include <string>

namespace occult {

enum class Strategy { Standard, Occult, Hierarchical };
enum class PruneCriterion { Score, Similarity };

struct StrategySpec {
  Strategy base = Strategy::Standard;
  int prune_limit = 0;       // 0: exact (no pruning)
  bool prune_nodes = false;  // limit counts nodes (node-limited) instead of devices
  PruneCriterion criterion = PruneCriterion::Score;

  bool pruned() const { return prune_limit > 0; }
  std::string name() const;  // canonical spelling, parse_strategy(name()) round-trips
};

// Throws InputError(field "strategy") listing the valid spellings.
StrategySpec parse_strategy(const std::string& text);

}  // namespace occult
