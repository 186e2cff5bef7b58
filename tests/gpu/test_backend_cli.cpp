// Bad input to the GPU subcommands: a clear message and exit code 2, before any GPU is touched where
// the input alone is wrong.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <cstdio>
#include <string>

#include "test_backend_gpu.hpp"

namespace {

struct Result {
  int code;
  std::string err;
};

Result occult(const std::string& args) {
  const std::string cmd = std::string(OCCULT_BIN) + " " + args + " 2>&1 >/dev/null";
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
}

TEST(BackendCli, HelpTeaches) {
  for (const char* sub : {"gpu-run", "calibrate"}) {
    const std::string cmd = std::string(OCCULT_BIN) + " " + sub + " --help";
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
