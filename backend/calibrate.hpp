#pragma once
// `occult calibrate`: microbenchmarks on the local GPUs into a CalibrationProfile (docs/calibration.md).
// Compute (the sparse expert FFN forward and backward over a grid of shapes, the dense cuBLAS ceiling)
// and the memory-bound kernels run on GPU 0 of any machine; links need two GPUs or more. NCCL reads
// its path-selecting environment once per process, so each link class is measured by a child process
// of this binary with that class's environment, and the children's links merge by class.
#include <map>
#include <string>
#include <vector>

#include "sim/core/calibration.hpp"

namespace occult::gpu {

struct CalibrateOptions {
  // Link classes to measure (two GPUs or more); empty: none. Default: every NCCL path.
  std::vector<std::string> paths = {"nvlink", "pcie", "network"};
  // Nominal bandwidth per direction of each measured path, GB/s (the figure of the machine's topology
  // file; stored with the link so its efficiency carries over to other machines). Required per path.
  std::map<std::string, double> nominal_GBps;
  bool p2p = false;   // also measure the direct P2P transport on nvlink
  int gpus = 0;       // 0: every visible GPU
  bool quick = false;  // fewer sizes and shapes (tests, smoke runs)
  bool links_only = false, compute_only = false;
  std::vector<std::string> models = {"olmoe-1b-7b", "qwen1.5-moe-a2.7b", "deepseek-v3", "mixtral-8x7b"};
  std::int64_t max_pairs = std::int64_t(1) << 20;  // largest expert FFN call measured
  int iters = 10;
  std::string nccl_mode = "blocking";  // the interconnect as PyTorch sees it (communicator.hpp)
  std::string transport = "nccl";      // of a --link-only child
  double timeout_s = 120;
};

// The exchange-time curve of the path this process's environment selects (all visible or --gpus GPUs).
LinkCalibration measure_link(const CalibrateOptions& opt);
// Expert FFN forward and backward grids and the dense ceiling, on GPU 0 (calibrate_compute.cpp).
void measure_compute(const CalibrateOptions& opt, CalibrationProfile& out);
// Layout, pack, unpack, gradient pack, weight-gradient unpack and device copies, on GPU 0
// (calibrate_kernels.cpp).
void measure_kernels(const CalibrateOptions& opt, CalibrationProfile& out);

// The whole profile: compute and kernels here, links from child processes (one per path).
CalibrationProfile calibrate(const CalibrateOptions& opt);

// {"links": [...]} in the profile's format: what a --link-only child prints.
nlohmann::json links_to_json(const std::vector<LinkCalibration>& links);

// Replaces or adds `links` by (class, transport, mode) in `base` (how a profile gains a path measured
// on another machine, or later).
void merge_links(CalibrationProfile& base, const std::vector<LinkCalibration>& links);

}  // namespace occult::gpu
