#pragma once
// Executes one MoE layer (a CommPlan plus compute times) on a SimGrid model of a cluster.
// This is the boundary between the scenario layer (sim/core/scenario, cost_model) and the engine; it
// only grows additively. Each call runs in forked child processes (SimGrid's engine is a singleton),
// so it may be called many times per process; call it from one thread (fork_run.hpp says why). Empty
// per-device vectors in LayerWork mean zero seconds. Phase names: sim/core/phases.hpp. Link classes:
// nvlink, pcie, network. docs/simulator.md describes the model and the aggregated-vs-per-pair validation.
#include "sim/core/layer_work.hpp"
#include "sim/core/run_result.hpp"
#include "sim/core/topology.hpp"

namespace occult {

// Throws InputError when the topology has fewer GPUs than the plan's devices.
LayerSimResult simulate_layer(const TopologySpec& topo, const LayerWork& work, const SimOptions& opt);

}  // namespace occult
