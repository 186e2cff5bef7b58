#pragma once
// Where a cluster's expert-parallel groups sit on its nodes (scenario key cluster.group_placement):
// which physical node each simulated node is (TopologySpec::node_of). A scheduler that knows about
// expert parallelism gives each group a contiguous block of nodes (blocked: under one leaf where it
// fits); one that does not spreads them (strided: node j of group g is physical node j * groups + g,
// so every leaf holds a node of each group and the groups' traffic shares the leaf uplinks; random: a
// seeded shuffle of the nodes).
#include <cstdint>
#include <string>
#include <vector>

namespace occult {

enum class GroupPlacement { Blocked, Strided, Random };

// "blocked", "strided", "random"; InputError (no file) otherwise.
GroupPlacement parse_group_placement(const std::string& name);
const char* group_placement_name(GroupPlacement p);

// node_of for `nodes` simulated nodes in `groups` equal groups (empty for blocked: the identity).
// Deterministic under `seed`.
std::vector<int> group_node_order(GroupPlacement p, int nodes, int groups, std::uint64_t seed);

}  // namespace occult
