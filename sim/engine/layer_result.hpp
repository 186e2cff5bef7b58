#pragma once
// Turning a finished DAG into LayerSimResult (statistics over devices, link accounting), the result's
// JSON form (it crosses the pipe from the simulation process), and the Chrome/Perfetto timeline.
#include <string>

#include <nlohmann/json.hpp>

#include "sim/engine/layer_dag.hpp"
#include "sim/engine/layer_sim.hpp"

namespace occult {

PhaseStats phase_stats(std::vector<double> durations);
// Per phase (in the DAG's order), each device's time in it.
std::vector<std::pair<std::string, std::vector<double>>> phase_durations(const DagResult& dag);
LayerSimResult summarize(const NetworkGraph& net, const DagResult& dag, std::size_t top_links);
nlohmann::json result_to_json(const LayerSimResult& r);
LayerSimResult result_from_json(const nlohmann::json& j);
// Chrome trace-event format (chrome://tracing, ui.perfetto.dev): one row per device, grouped by node.
void write_timeline(const std::string& path, const DagResult& dag, int gpus_per_node);

}  // namespace occult
