#include "sim/core/strategy.hpp"

#include <charconv>

#include "sim/core/error.hpp"

namespace occult {
namespace {
const char* kValid =
    "standard, occult, hierarchical, pruned:N, node-limited:M (optionally /score or /similarity)";

[[noreturn]] void bad(const std::string& text, const std::string& why) {
  throw InputError("", 0, "strategy", "'" + text + "': " + why + " (valid: " + kValid + ")");
}
}  // namespace

std::string StrategySpec::name() const {
  std::string n;
  if (pruned()) {
    n = (prune_nodes ? "node-limited:" : "pruned:") + std::to_string(prune_limit);
    if (criterion == PruneCriterion::Similarity) n += "/similarity";
    return n;
  }
  switch (base) {
    case Strategy::Standard: return "standard";
    case Strategy::Occult: return "occult";
    case Strategy::Hierarchical: return "hierarchical";
  }
  return "?";
}

StrategySpec parse_strategy(const std::string& text) {
  StrategySpec s;
  if (text == "standard") return s;
  if (text == "occult") return s.base = Strategy::Occult, s;
  if (text == "hierarchical") return s.base = Strategy::Hierarchical, s;

  auto colon = text.find(':');
  if (colon == std::string::npos) bad(text, "unknown strategy");
  std::string head = text.substr(0, colon);
  std::string rest = text.substr(colon + 1);
  if (head == "pruned") {
    s.base = Strategy::Occult;
  } else if (head == "node-limited") {
    s.base = Strategy::Hierarchical;
    s.prune_nodes = true;
  } else {
    bad(text, "unknown strategy");
  }
  std::string crit;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    crit = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  int n = 0;
  auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
  if (ec != std::errc() || ptr != rest.data() + rest.size() || n < 1) bad(text, "limit must be an integer >= 1");
  s.prune_limit = n;
  if (crit.empty() || crit == "score") {
    s.criterion = PruneCriterion::Score;
  } else if (crit == "similarity") {
    s.criterion = PruneCriterion::Similarity;
  } else {
    bad(text, "unknown pruning criterion '" + crit + "'");
  }
  return s;
}

}  // namespace occult
