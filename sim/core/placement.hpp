#pragma once
// Expert placement: which device holds each expert, per layer (pi: expert -> device).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/cluster_shape.hpp"

namespace occult {

struct LayerPlacement {
  std::vector<int> device_of;              // primary device of each expert, size E
  std::vector<std::vector<int>> replicas;  // extra devices per expert; empty when not replicated
};

struct Placement {
  int num_experts = 0;
  ClusterShape shape;
  std::string algo;            // how it was made
  nlohmann::json params;       // the algorithm's parameters
  nlohmann::json metrics;      // metrics on the profiling trace, when known
  std::vector<LayerPlacement> layers;  // one per trace layer; a single entry applies to every layer

  const LayerPlacement& layer(std::size_t l) const { return layers.size() == 1 ? layers[0] : layers.at(l); }
};

// Baselines: contiguous puts experts e*D/E.. on device e/(E/D); round-robin puts e on e % D.
Placement contiguous_placement(int experts, const ClusterShape& shape, int layers);
Placement round_robin_placement(int experts, const ClusterShape& shape, int layers);

// Throws InputError when E % D != 0 (no replication), an expert is unplaced or a device id is out of
// range, or when `layers` differs from a multi-layer placement's count.
void validate_placement(const Placement& p, int experts, int layers, const std::string& where);

// placement.json (docs/formats.md). Reading validates the structure; errors name file and field.
Placement read_placement(const std::string& path);
void write_placement(const Placement& p, const std::string& path);
nlohmann::json placement_to_json(const Placement& p);

}  // namespace occult
