#pragma once
// The machines that measured runs come from (calibration/machines.toml): a run's GPU model, GPU count
// and the path its GPUs talked over pick the topology it is simulated on and the calibration profile of
// that GPU type (`occult validate`, docs/validation.md).
#include <string>
#include <vector>

namespace occult {

struct MachineEntry {
  std::string gpu;       // as the run's provenance names it, e.g. "NVIDIA H200"
  int gpus = 0;          // GPUs in the run
  std::string path;      // "local" (one GPU), "nvlink", "pcie", "network"
  std::string topology;  // file, resolved against the registry's folder
  std::string profile;   // file, resolved against the registry's folder
  long line = 0;         // where the entry starts, for messages
};

std::vector<MachineEntry> read_machines(const std::string& path);  // InputError on bad files
// The entry for a run, nullptr when none matches.
const MachineEntry* find_machine(const std::vector<MachineEntry>& machines, const std::string& gpu, int gpus,
                                 const std::string& path);

}  // namespace occult
