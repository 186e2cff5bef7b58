#pragma once
// The part of a cluster that the routing metrics and plans need: how many devices, how many per node.
#include "sim/core/error.hpp"

namespace occult {

struct ClusterShape {
  int devices = 1;         // D
  int gpus_per_node = 1;   // G; nodes N = D / G

  int nodes() const { return devices / gpus_per_node; }
  int node_of(int device) const { return device / gpus_per_node; }
  int local_rank(int device) const { return device % gpus_per_node; }
};

// Throws InputError (field "devices" / "gpus-per-node") when D < 1, G < 1 or G does not divide D.
void validate_shape(const ClusterShape& shape);

}  // namespace occult
