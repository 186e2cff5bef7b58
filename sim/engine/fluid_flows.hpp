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
// - the layer is one graph of nodes, the same for every device: exchange steps (every stage of every
//   chunk of dispatch, combine and the backward mirror) and the compute between them. A device starts a
//   node when it has ended the node's predecessors; it ends an exchange when it has received all its
//   data, a compute node after its duration. All exchanges are solved together.
// Rates are re-solved by progressive filling after pairs start or end: at once (quantum 0, exact), or
// at most once per quantum (on a grid of absolute times); in between, pairs keep their rates, a pair
// that joins a live class gets the class's rate at once (its links may be oversubscribed until the
// solve), and a class that starts waits for the next solve.
#include <unordered_map>
#include <vector>

#include "sim/engine/flow_groups.hpp"
#include "sim/engine/sg_backend.hpp"

namespace occult {

struct FluidPair {
  int source = -1, dest = -1, cls = -1, node = 0;
  int port = -1;       // the source's private first hop when it is not part of the class route; else -1
  double latency = 0;  // route latency, before the bytes move
  double bytes = 0;
};

struct VectorHash {
  std::size_t operator()(const std::vector<int>& v) const;
};

struct FluidNode {
  std::vector<int> preds;        // nodes a device must have ended before it starts this one
  std::vector<double> duration;  // compute node: per device seconds; exchange: the least per device
                                 // (its own-block copies), empty for none
  bool exchange = false;
};

// A layer's graph of exchanges and compute, with its solution.
struct FluidChain {
  std::vector<double> capacity;               // per NetworkGraph link, bytes/s
  std::vector<std::vector<int>> class_links;  // per class: the links every one of its pairs crosses
  std::unordered_map<std::vector<int>, int, VectorHash> class_index;
  std::vector<FluidPair> pairs;
  std::vector<FluidNode> nodes;
  int devices = 0;
  // Rates are re-solved at most once per this share of the shortest exchange's busiest-link drain time,
  // rounded down to a power of two seconds (0: at every pair start or end, exact).
  double quantum = 0;
  // Solution, per node and device: when the device starts it (gate) and ends it (end >= gate).
  std::vector<std::vector<double>> gate, end;
  bool solved = false;

  int add_compute(std::vector<int> preds, std::vector<double> duration);
  // Adds the pairs of `t` with their bytes times `scale` (a chunk's share) as one exchange node.
  int add_exchange(const NetworkGraph& net, const StepTraffic& t, double scale, std::vector<int> preds);
  void solve();
};

// Bytes per link and per link class of one step (what layer_dag counts for the report).
struct FluidLoad {
  std::vector<int> link_ids;
  std::vector<std::vector<double>> bytes;
  double class_bytes[kLinkClasses] = {0, 0, 0};
  std::vector<double> ready_after;  // the step's ready key, unchanged (the fluid model needs no estimate)
};
FluidLoad fluid_load(const NetworkGraph& net, const StepTraffic& t, const std::vector<double>& ready_key);

// Per device, the activity that ends when the device has ended exchange `node` as solved, counted from
// its SimGrid gate (which the same graph puts where the solution's gate is).
std::vector<int> fluid_step(SgBackend& sg, FluidChain& chain, int node, const std::vector<int>& gate);

}  // namespace occult
