#pragma once
// Turning a finished DAG into LayerSimResult (statistics over devices, link accounting) and the
// Chrome/Perfetto timeline. The result crosses the pipe from the simulation process in its one JSON form
// (sim/core/run_result.hpp).
#include <string>

#include "sim/engine/layer_dag.hpp"
#include "sim/engine/layer_sim.hpp"

namespace occult {

PhaseStats phase_stats(std::vector<double> durations);
// Per phase (in the DAG's order), each device's time in it.
std::vector<std::pair<std::string, std::vector<double>>> phase_durations(const DagResult& dag);
LayerSimResult summarize(const NetworkGraph& net, const DagResult& dag, std::size_t top_links);
// Chrome trace-event format (chrome://tracing, ui.perfetto.dev): one row per device, grouped by node.
void write_timeline(const std::string& path, const DagResult& dag, int gpus_per_node);

}  // namespace occult
