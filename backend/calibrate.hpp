#pragma once
// `occult calibrate`: microbenchmarks on the local GPUs filling a CalibrationProfile (DESIGN.md 7).
// NCCL reads its path-selecting environment once per process, so each link class is measured by a
// child process of this binary with that class's environment; GEMM and kernel overheads are
// measured in the parent on GPU 0. The children's links merge into one profile by class name.
#include <string>
#include <vector>

#include "sim/core/calibration.hpp"

namespace occult::gpu {

struct CalibrateOptions {
  std::vector<std::string> paths = {"nvlink", "pcie", "network"};
  int gpus = 0;        // 0: every visible GPU
  bool quick = false;  // fewer sizes and shapes (tests, smoke runs)
  int iters = 10;
  std::string nccl_mode = "blocking";  // the interconnect as PyTorch sees it (communicator.hpp)
  double timeout_s = 120;
};

// All-to-all time against message size on the path this process's environment selects.
LinkCalibration measure_link(const CalibrateOptions& opt);
// Sparse expert FFN time against rows per expert, hidden, ffn and local experts, plus the dense
// cuBLAS ceiling, on GPU 0.
GemmCalibration measure_gemm(const CalibrateOptions& opt);
// Layout, pack and unpack: launch time and bandwidth, on GPU 0.
void measure_overheads(const CalibrateOptions& opt, CalibrationProfile& out);

// The whole profile: links from child processes (one per path), the rest here.
CalibrationProfile calibrate(const CalibrateOptions& opt);

// {"links": [...]} in the profile's format: what a --link-only child prints.
nlohmann::json links_to_json(const std::vector<LinkCalibration>& links);

// Replaces or adds `links` by class in `base` (how shipped profiles gain a path measured later).
void merge_links(CalibrationProfile& base, const std::vector<LinkCalibration>& links);

}  // namespace occult::gpu
