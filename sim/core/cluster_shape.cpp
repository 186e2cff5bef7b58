#include "sim/core/cluster_shape.hpp"

#include <string>

namespace occult {

void validate_shape(const ClusterShape& s) {
  if (s.devices < 1) throw InputError("", 0, "devices", "must be >= 1, got " + std::to_string(s.devices));
  if (s.gpus_per_node < 1)
    throw InputError("", 0, "gpus-per-node", "must be >= 1, got " + std::to_string(s.gpus_per_node));
  if (s.devices % s.gpus_per_node != 0)
    throw InputError("", 0, "gpus-per-node",
                     std::to_string(s.gpus_per_node) + " does not divide devices=" + std::to_string(s.devices));
}

}  // namespace occult
