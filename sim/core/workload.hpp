#pragma once
// The workload of an MoE layer run, one definition for every executor: `occult simulate` (from a
// scenario), `occult gpu-run` (from its flags or a scenario) and `occult validate` (from a measured
// run's record). The same Workload gives the same routing and the same placement everywhere, which is
// what makes comparing the simulator with a measured run a comparison of time models only.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/cluster_shape.hpp"
#include "sim/core/cost_model.hpp"
#include "sim/core/model.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/strategy.hpp"
#include "sim/core/trace.hpp"

namespace occult {

// Knobs of the synthetic routing generator (sim/core/trace_gen.hpp), used when no trace is given.
struct SyntheticRouting {
  double skew = 0.0;      // Zipf exponent of expert popularity
  double affinity = 0.0;  // probability that a token's next expert comes from its co-activation group
  int groups = 0;         // co-activation groups; 0: the generator's default
};

struct Workload {
  ModelConfig model;
  Mode mode = Mode::Train;
  std::int64_t tokens_per_device = 4096;
  int first_layer = 0;  // the first routed layer (of the trace, or of the generator)
  int layers = 1;       // layers run, each with its own routing
  std::uint64_t seed = 1;
  std::string trace_path;    // empty: synthetic routing
  std::string trace_digest;  // FNV-1a of the trace file's bytes (hex), checked when a record is replayed
  SyntheticRouting synthetic;
  int devices = 0;        // D
  int ep_size = 0;        // GPUs per expert-parallel group
  int gpus_per_node = 0;  // of the cluster the workload runs on
  std::vector<StrategySpec> strategies;
  std::vector<std::string> placements;  // algorithm names or placement .json paths

  ClusterShape shape() const;
  ClusterShape group_shape() const;
};

// The routing of layer `first_layer + layer` in expert-parallel group `group`: `sim` holds
// ep_size * tokens_per_device tokens; `profile` (group 0 only) holds other tokens of the same
// distribution, on which placement algorithms are profiled (so placements are judged on tokens they
// did not see). `note` says when that could not be done.
struct WorkloadRouting {
  LayerRouting sim, profile;
  std::string note;
};
// `trace` is the workload's trace, already read (nullptr for synthetic routing). Fills `out`, reusing
// its buffers: a large cluster's groups are routed one after another into one WorkloadRouting.
void workload_routing(const Workload& w, int layer, const Trace* trace, int group, WorkloadRouting& out);

// Placement algorithms that need the host tools (sim/place: greedy, metis, ...), given by the caller
// that links them; empty where they are not built (the GPU-only build).
using PlacementAlgorithm =
    std::function<LayerPlacement(const std::string& algo, const LayerRouting& profile, int experts,
                                 int top_k, const ClusterShape& shape, std::uint64_t seed)>;
// The placement of one expert-parallel group (every group uses the same one): contiguous,
// round-robin, a placement .json, or an algorithm through `algo`.
LayerPlacement workload_placement(const Workload& w, const std::string& placement, const LayerRouting& profile,
                                  int layer, const PlacementAlgorithm& algo);

// Hex FNV-1a 64 of a file's bytes; InputError when it cannot be read.
std::string file_digest(const std::string& path);

// The record of a workload in measured run files; from_json checks every field (InputError naming
// `where` and the field).
nlohmann::json workload_to_json(const Workload& w);
Workload workload_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace occult
