#pragma once
// Helpers for the scenario and simulate/sweep tests: scenario and topology files written by the test
// itself (into a TempDir, tests/core/cli_shell.hpp), and running the `occult` binary.
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include "tests/core/cli_shell.hpp"

namespace occult::test {

// An 8-GPU NVSwitch node and a 2-node cluster of them, small enough to simulate in well under a second.
inline const char* kNodeTopology = R"(name = "test-node"
gpus_per_node = 8
nodes = 1
intra = "nvswitch"
[nvlink]
bandwidth_GBps = 100
latency_us = 1.0
)";

// A small scenario on the node above: 16-expert model, 256 tokens per GPU.
inline std::string small_scenario(const std::string& extra = "") {
  return std::string(R"(name = "small"
[model]
preset = "olmoe-1b-7b"
experts = 16
top_k = 4
hidden = 256
ffn = 512
[workload]
mode = "prefill"
tokens_per_device = 256
skew = 0.5
affinity = 0.5
[cluster]
topology = "topo.toml"
[compare]
strategies = ["standard", "occult"]
placements = ["contiguous"]
)") + extra;
}

struct RunResult {
  int code = -1;
  std::string out;  // stdout only; stderr goes to `err`
  std::string err;
};

// Runs `occult ARGS` through the shell; stdout and stderr are captured separately.
inline RunResult run_occult(const std::string& args) {
  const auto errfile =
      std::filesystem::temp_directory_path() / ("occult_stderr_" + std::to_string(::getpid()));
  const std::string cmd = occult_bin() + " " + args + " 2>" + errfile.string();
  RunResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(errfile);
  r.err.assign(std::istreambuf_iterator<char>(e), {});
  std::filesystem::remove(errfile);
  return r;
}

}  // namespace occult::test
