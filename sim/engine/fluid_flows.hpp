#pragma once
// The fluid flow model: max-min bandwidth sharing of a layer's exchanges solved outside SimGrid, per
// flow class, then handed to SimGrid as one delay per receiver and step (layer_dag.hpp picks it).
//
// Why: per pair is D^2 SimGrid flows; the link-drain model is O(links) but misses two things that per
// pair has (docs/simulator.md, "Flow models"): max-min's tail (a receiver starved behind other senders'
// bottlenecks ends after every link it uses could have drained), and traffic of consecutive steps that
// overlaps in time (a device that has received its dispatch computes and starts its combine while
// others still receive: on skewed routing that combine traffic slows the hot receivers' dispatch by
// up to 9%). Here:
// - pairs whose routes coincide after the source's own port (rail-optimized with PXN: source node x
//   destination GPU) form a class; every pair of a class gets the same max-min rate, as per pair gives
//   pairs with one route, so a class is a processor-sharing queue: a pair joins when its source is
//   ready plus its route latency (charged first, as per pair does) and leaves when it has moved its
//   bytes. A port that is not part of the class route stays a constraint, counted per active pair;
// - the steps of a layer form a chain, solved together: a device starts a step when it has received
//   the previous one, plus the compute in between (taken from the ready-time keys that layer_dag
//   carries through the steps).
// Rates are re-solved by progressive filling at every pair start or finish.
#include <memory>
#include <unordered_map>
#include <vector>

#include "sim/engine/flow_groups.hpp"
#include "sim/engine/sg_backend.hpp"

namespace occult {

struct FluidPair {
  int source = -1, dest = -1, cls = -1, step = 0;
  int port = -1;       // the source's private first hop when it is not part of the class route; else -1
  double latency = 0;  // route latency, before the bytes move
  double bytes = 0;
};

struct VectorHash {
  std::size_t operator()(const std::vector<int>& v) const;
};

// The steps of one layer (or a single step), with their solution.
struct FluidChain {
  std::vector<double> capacity;               // per NetworkGraph link, bytes/s
  std::vector<std::vector<int>> class_links;  // per class: the links every one of its pairs crosses
  std::unordered_map<std::vector<int>, int, VectorHash> class_index;
  std::vector<FluidPair> pairs;
  // Per step, per device: step 0, when the device is ready (absolute); later steps, how long after it
  // has received the previous step it is ready (the compute in between).
  std::vector<std::vector<double>> ready;
  // Solution, per step and device: when it is ready (gate) and when it has received everything (end,
  // at least its gate).
  std::vector<std::vector<double>> gate, end;
  std::size_t solved_steps = 0;
  std::vector<double> last_key;  // the ready key of the last step appended
  std::size_t cursor = 0;        // next step fluid_load hands out; rewind() to reuse a chain built ahead
  void rewind() { cursor = 0; }

  void solve(double bytes_scale = 1.0);  // fills gate and end for every step
};

struct FluidLoad {
  std::shared_ptr<FluidChain> chain;
  int step = 0;
  // Accounting, as the other models' loads (layer_dag counts them).
  std::vector<int> link_ids;
  std::vector<std::vector<double>> bytes;
  double class_bytes[kLinkClasses] = {0, 0, 0};
  std::vector<double> ready_after;  // the step's ready key: layer_dag adds the compute to it
};

// Appends step `t` to `chain` (a fresh chain of one step when null), or, after chain->rewind(), hands
// out the chain's next step again. Its sources are ready at `ready_key`, which for a later step of the
// chain is the previous load's ready_after (its key) plus the compute in between. Nothing is solved
// here (fluid_step solves the whole chain).
FluidLoad fluid_load(const NetworkGraph& net, const StepTraffic& t, const std::vector<double>& ready_key,
                     const std::shared_ptr<FluidChain>& chain);

// Per device, the activity that finishes when the device has received all its data of this step, as
// solved (and not before gate[device]). `bytes_scale` != 1 (chunks) re-solves with scaled bytes.
std::vector<int> fluid_step(SgBackend& sg, const FluidLoad& load, double bytes_scale,
                            const std::vector<int>& gate);

}  // namespace occult
