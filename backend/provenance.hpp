#pragma once
// Where a measurement came from (docs/design.md 7): GPU, driver, CUDA and NCCL versions, date,
// command, host, and which NCCL path (link class) the environment selects.
#include <string>

#include "sim/core/calibration.hpp"

namespace occult::gpu {

// The command line of this process as typed (from /proc/self/cmdline).
std::string this_command_line();
Provenance collect_provenance();

// NCCL environment variables pick the path between the GPUs of one node (docs/calibration.md, "Links"):
// "nvlink" by default, "pcie" (host-staged) with NCCL_P2P_DISABLE=1, "network" (sockets) when
// NCCL_SHM_DISABLE=1 is set too.
std::string link_class_from_env();
// The environment assignments that select `link_class` ("" for nvlink). InputError when unknown.
std::string nccl_env_for(const std::string& link_class);
// How a link class is measured, for LinkCalibration::how.
std::string link_description(const std::string& link_class);

}  // namespace occult::gpu
