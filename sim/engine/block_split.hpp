#pragma once
// Splitting a layer into independent blocks of devices (e.g. the expert-parallel groups of a large
// cluster, which never exchange tokens). A split is only taken when it is exact: the plan's matrices are
// block-diagonal, no link carries traffic of two blocks, and every block's routes map one-to-one onto
// the routes of the cluster's first block (same bandwidth, latency and sharing structure). Then each
// block simulated alone on the first block's GPUs gives the same times as the whole cluster would, at a
// fraction of the cost (SimGrid's cost grows faster than linearly with the number of flows).
#include <vector>

#include "sim/core/layer_work.hpp"
#include "sim/engine/network_graph.hpp"

namespace occult {

struct BlockSplit {
  int block_devices = 0;  // devices per block; block b holds [b * block_devices, (b + 1) * block_devices)
  int blocks = 0;
  // Per block: full-cluster link id of each link id of the first block's graph that it uses (-1: unused).
  std::vector<std::vector<int>> link_of;
};

// Smallest block size (a multiple of gpus_per_node dividing D) for which the plan is block-diagonal,
// or D when there is none.
int plan_block_size(const CommPlan& plan, int gpus_per_node);

// The exact split into blocks of `block_devices` (first_block: the graph of the cluster's first
// block_devices GPUs), or blocks == 0 when it is not exact (shared links, routes that differ).
BlockSplit find_block_split(const NetworkGraph& full, const NetworkGraph& first_block, const CommPlan& plan,
                            int block_devices);

// Block b's part of the plan and of the work (times sliced per device); `plan_out` must outlive the work.
LayerWork block_work(const LayerWork& w, int b, int block_devices, CommPlan& plan_out);

}  // namespace occult
