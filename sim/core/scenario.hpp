#pragma once
// Scenario files (scenarios/*.toml, docs/scenarios.md): model + workload + cluster + what to compare
// (+ optional sweep axes). A ScenarioDoc is the parsed TOML document; `--set key=value` edits it; a
// sweep expands it into one document per point; `resolve()` turns a document into a typed, validated
// Scenario. Every error names the file, line and key at fault.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/cost_model.hpp"
#include "sim/core/model.hpp"
#include "sim/core/strategy.hpp"
#include "sim/core/topology.hpp"
#include "sim/core/workload.hpp"

namespace occult {

struct Scenario {
  std::string file;  // where it came from
  std::string name, description;
  std::uint64_t seed = 1;

  ModelConfig model;
  std::string model_source;  // "preset olmoe-1b-7b", "file path", "inline"

  Mode mode = Mode::Train;
  std::int64_t tokens_per_device = 4096;
  int layers = 1;          // MoE layers simulated (each with its own routing); results are per layer
  int first_layer = 0;     // the first of them (of the trace, or of the generator)
  std::string trace_path;  // empty: synthetic routing
  SyntheticRouting synthetic;

  TopologySpec topology;  // after the cluster.* overrides
  int devices = 0;        // D: GPUs simulated (the first D GPUs of the topology)
  int ep_size = 0;        // GPUs per expert-parallel group (D / ep_size groups, each with every expert)
  ClusterShape shape() const { return {devices, std::min(devices, topology.gpus_per_node)}; }
  ClusterShape group_shape() const { return {ep_size, std::min(ep_size, topology.gpus_per_node)}; }

  std::vector<StrategySpec> strategies;
  std::vector<std::string> placements;  // algorithm names, or paths of placement .json files (resolved)

  Overlap overlap = Overlap::None;
  int chunks = 1;

  std::string profile_path;  // empty: roofline
  RooflineParams roofline;
  LinkCorrection link_correction = LinkCorrection::Calibrated;
  LayerExecution execution;  // how the exchanges run (execution.* keys)
  bool per_pair_flows = false;
  FlowModel flow_model = FlowModel::Auto;
  double fluid_quantum = SimOptions{}.fluid_quantum;

  nlohmann::json resolved;  // every key with its final value (printed in outputs, hashed into run ids)

  // What the scenario runs, as every executor takes it (workload.hpp).
  Workload workload() const;
};

struct SweepAxis {
  std::string key;                  // dotted key, e.g. "cluster.nodes"
  std::vector<std::string> values;  // TOML literals, e.g. "4", "\"occult\""
  long line = 0;
};

class ScenarioDoc;
struct SweepPoint {
  std::vector<std::pair<std::string, std::string>> values;  // (axis key, TOML literal) per axis
  std::shared_ptr<const ScenarioDoc> doc;                   // the base document with these values set
};

// The points of a sweep: the cartesian product of the axes in file order (the last axis varies
// fastest); one point with no values when there is no sweep. Points are built one at a time, on
// demand: a sweep of millions of points costs one document at a time, and `simulate`, which runs the
// first point, never builds the others.
class SweepPoints {
 public:
  static constexpr std::size_t kMaxPoints = 2147483647;  // points are numbered with an int
  std::size_t size() const { return size_; }
  SweepPoint operator[](std::size_t i) const;
  const std::vector<SweepAxis>& axes() const { return axes_; }

 private:
  friend class ScenarioDoc;
  std::vector<SweepAxis> axes_;
  std::shared_ptr<const ScenarioDoc> base_;  // the document without its sweep table
  std::size_t size_ = 1;
};

class ScenarioDoc {
 public:
  static ScenarioDoc load(const std::string& path);
  // For tests and embedded scenarios: `path` names the source and anchors relative paths.
  static ScenarioDoc parse(const std::string& text, const std::string& path);

  ScenarioDoc(const ScenarioDoc&);
  ScenarioDoc& operator=(const ScenarioDoc&);
  ScenarioDoc(ScenarioDoc&&) noexcept;
  ScenarioDoc& operator=(ScenarioDoc&&) noexcept;
  ~ScenarioDoc();

  // `--set key=value`: value is a TOML literal (4, 2.5, true, "x", ["a","b"]) or a bare word taken
  // as a string. Unknown keys are an InputError naming the key. Relative paths given here are
  // relative to the current directory.
  void set(const std::string& assignment);
  void set(const std::string& key, const std::string& value, const std::string& origin);

  const std::string& file() const;
  std::vector<SweepAxis> sweep_axes() const;
  // InputError when the axes make more than SweepPoints::kMaxPoints points.
  SweepPoints sweep_points() const;
  Scenario resolve() const;

  struct Impl;  // internal (scenario_impl.hpp); public only so the resolver can read it

 private:
  friend class SweepPoints;
  explicit ScenarioDoc(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Every key a scenario accepts, with its type and meaning (the source of docs/scenarios.md).
struct ScenarioKey {
  const char* key;
  const char* type;  // "string", "path", "integer", "number", "boolean", "string list"
  const char* help;
};
const std::vector<ScenarioKey>& scenario_keys();

}  // namespace occult
