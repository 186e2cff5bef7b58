#include "sim/core/group_placement.hpp"

#include <numeric>
#include <random>

#include "sim/core/error.hpp"

namespace occult {

GroupPlacement parse_group_placement(const std::string& name) {
  if (name == "blocked") return GroupPlacement::Blocked;
  if (name == "strided") return GroupPlacement::Strided;
  if (name == "random") return GroupPlacement::Random;
  throw InputError("", 0, "group_placement", "unknown value '" + name + "' (blocked, strided, random)");
}

const char* group_placement_name(GroupPlacement p) {
  switch (p) {
    case GroupPlacement::Blocked:
      return "blocked";
    case GroupPlacement::Strided:
      return "strided";
    case GroupPlacement::Random:
      return "random";
  }
  return "?";
}

std::vector<int> group_node_order(GroupPlacement p, int nodes, int groups, std::uint64_t seed) {
  if (p == GroupPlacement::Blocked || nodes <= 1) return {};
  std::vector<int> order(std::size_t(nodes), 0);
  if (p == GroupPlacement::Strided) {
    // Groups of whole nodes only: smaller groups share their node whatever the order.
    if (groups <= 1 || nodes % groups != 0) return {};
    const int per_group = nodes / groups;
    for (int n = 0; n < nodes; ++n) order[std::size_t(n)] = (n % per_group) * groups + n / per_group;
    return order;
  }
  std::iota(order.begin(), order.end(), 0);
  // Fisher-Yates with a fixed generator (std::shuffle's algorithm is the library's choice).
  std::mt19937_64 rng(seed ^ 0x6a09e667f3bcc908ULL);
  for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[rng() % (i + 1)]);
  return order;
}

}  // namespace occult
