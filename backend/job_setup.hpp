#pragma once
// Turns gpu-run's command line (or a scenario file) into a GpuJob: a Workload (sim/core/workload.hpp,
// the one path from a scenario to what runs, shared with the simulator and validate), then its
// routing, placement and strategies, all checked before any GPU is touched.
#include <cstdint>
#include <string>
#include <vector>

#include "backend/gpu_job.hpp"

namespace occult::gpu {

struct RunArgs {
  std::string scenario;  // optional scenario file; explicit flags override it
  std::string model = "olmoe-1b-7b";
  std::string placement = "contiguous";
  std::string trace;
  int layer = 0;
  std::int64_t tokens = 4096;  // per GPU
  int gpus = 0;
  std::vector<std::string> strategies = {"standard", "occult"};
  double skew = 0.0, affinity = 0.0;
  std::uint64_t seed = 1;
  bool train = false, comm_only = false, no_plain = false;
  std::string counts = "fused";                     // fused | sync (LayerOptions::counts_sync)
  std::string transport = "nccl", p2p_copy = "sm";  // LayerOptions::transport, p2p.copy
  int p2p_blocks = 0;
  int iters = 20, warmup = 3, check_tokens = 4;
  std::int64_t max_tokens = 0;
  double timeout_s = 120;
  // which of the above were given on the command line (they win over the scenario)
  bool set_model = false, set_tokens = false, set_gpus = false, set_strategies = false, set_placement = false,
       set_seed = false, set_train = false, set_skew = false, set_affinity = false;
};

// False in every mpirun rank but the first (notes and results are printed once).
bool is_first_rank();
// GPUs the run will use: --gpus, else the mpirun world size, else every visible GPU.
int planned_gpus(const RunArgs& a);
GpuJob make_job(const RunArgs& a);

}  // namespace occult::gpu
