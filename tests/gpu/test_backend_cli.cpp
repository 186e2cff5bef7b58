// Bad input to the GPU subcommands: a clear message and exit code 2, before any GPU is touched where
// the input alone is wrong.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "test_backend_gpu.hpp"

namespace {

// The binary under test: the build's, or OCCULT_BIN from the environment where the tests run on
// another machine than the one that built them (binaries copied to a GPU machine).
std::string occult_bin() {
  const char* env = std::getenv("OCCULT_BIN");
  return env && *env ? env : OCCULT_BIN;
}

struct Result {
  int code;
  std::string err;
};

// stdout and stderr of `occult ARGS`, or (keep_stdout false) stderr alone.
Result occult(const std::string& args, bool keep_stdout = false) {
  const std::string cmd = occult_bin() + " " + args + (keep_stdout ? " 2>&1" : " 2>&1 >/dev/null");
  std::FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[512];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

void expect_bad_input(const std::string& args, const std::string& says) {
  const Result r = occult(args);
  EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
  EXPECT_NE(r.err.find(says), std::string::npos) << args << "\n" << r.err;
}

TEST(BackendCli, BadInputExitsWith2) {
  expect_bad_input("gpu-run --gpus 2 --tokens 128 --max-tokens 64", "--max-tokens");
  expect_bad_input("gpu-run --gpus 2 --strategies hierarchical", "standard");
  expect_bad_input("gpu-run --gpus 2 --strategies pruned:1", "standard");
  expect_bad_input("gpu-run --gpus 3", "do not divide");
  expect_bad_input("gpu-run --gpus 2 --model nope", "unknown preset");
  expect_bad_input("gpu-run --gpus 2 --placement greedy", "placement");
  expect_bad_input("gpu-run --gpus 2 --tokens 0", "tokens");
  expect_bad_input("gpu-run --gpus 2 --iters 0", "iters");
  expect_bad_input("calibrate --paths nvlink,bogus -o /tmp/occult-never.json", "unknown link class");
  expect_bad_input("calibrate", "-o FILE");
  expect_bad_input("gpu-run --gpus 2 --nccl-mode fast", "nccl-mode");
  expect_bad_input("calibrate --nccl-mode fast -o /tmp/occult-never.json", "nccl-mode");
  expect_bad_input("gpu-run --gpus 2 --counts later", "counts");
  expect_bad_input("gpu-run --gpus 2 --transport nvshmem", "transport");
  expect_bad_input("gpu-run --gpus 2 --transport p2p --p2p-copy dma", "p2p-copy");
  expect_bad_input("gpu-run --gpus 2 --transport p2p --p2p-blocks -1", "p2p-blocks");
}

// A scenario for the two-GPU NVLink machine with the given strategies (and two placements, one the
// GPU path cannot build here).
std::string write_scenario(const std::string& name, const std::string& strategies) {
  const auto dir = std::filesystem::temp_directory_path() / "occult-backend-cli";
  std::filesystem::create_directories(dir);
  const auto path = dir / (name + ".toml");
  std::ofstream(path) << "name = \"" << name << "\"\nseed = 3\n[model]\npreset = \"olmoe-1b-7b\"\n"
                      << "[workload]\nmode = \"train\"\ntokens_per_device = 64\nskew = 0.5\n"
                      << "[cluster]\ntopology = \"" << OCCULT_SOURCE_DIR
                      << "/topologies/h200x2-nvlink.toml\"\n"
                      << "[compare]\nstrategies = [" << strategies << "]\n"
                      << "placements = [\"metis\", \"contiguous\"]\n";
  return path.string();
}

TEST(BackendCli, ScenarioWithoutGpuStrategiesIsInputError) {
  expect_bad_input("gpu-run " + write_scenario("sim-only", "\"hierarchical\", \"pruned:2\""),
                   "none of the scenario's strategies");
}

TEST(BackendCli, ScenarioForMoreGpusThanVisibleSaysHowToRunIt) {
  OCCULT_REQUIRE_GPUS(1);
  if (::occult::gpu::visible_gpus() >= 8) GTEST_SKIP() << "the default scenario fits this machine";
  expect_bad_input(std::string("gpu-run ") + OCCULT_SOURCE_DIR + "/scenarios/default.toml", "--gpus");
}

TEST(BackendCli, ScenarioRunsItsLayerOnTheGpus) {
  OCCULT_REQUIRE_GPUS(2);
  const std::string file = write_scenario("two-gpus", "\"standard\", \"occult\", \"hierarchical\"");
  const Result r = occult("gpu-run " + file + " --iters 2 --warmup 0 --json", true);
  EXPECT_EQ(r.code, 0) << r.err;
  for (const char* says : {"hierarchical of the scenario is simulator-only", "runs placement contiguous",
                           "\"tokens_per_gpu\": 64", "\"training\": true", "\"seed\": 3", "\"pass\": true"})
    EXPECT_NE(r.err.find(says), std::string::npos) << says << "\n" << r.err;
}

TEST(BackendCli, HelpTeaches) {
  for (const char* sub : {"gpu-run", "calibrate"}) {
    const std::string cmd = occult_bin() + " " + sub + " --help";
    std::FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[512];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    EXPECT_EQ(pclose(p), 0);
    EXPECT_NE(out.find("Example"), std::string::npos) << sub;
  }
}

TEST(BackendCli, MoreGpusThanVisibleIsInputError) {
  OCCULT_REQUIRE_GPUS(1);
  expect_bad_input("gpu-run --gpus 64 --tokens 16", "visible");
}

}  // namespace
