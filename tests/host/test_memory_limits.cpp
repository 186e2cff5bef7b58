// Inputs that ask for absurd amounts of memory, run under `ulimit -v`: each is refused before anything
// is allocated, with exit 2 and a message that names the estimate, the limit and --max-memory, instead
// of growing until the kernel kills the process or std::bad_alloc ends it with exit 1.
#include <gtest/gtest.h>

#include <string>

#include "test_scenario_util.hpp"

namespace occult {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;  // ASan reserves terabytes of address space: no ulimit -v there
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

struct Limited : test::ShellDir {
  Limited() : test::ShellDir("memory_limits") {
    file("topo.toml", test::kNodeTopology);
    file("s.toml", test::small_scenario());
  }
  // `cmd` under a 3 GiB address-space limit.
  test::ShellResult limited(const std::string& cmd) const { return run("ulimit -v 3145728\n" + cmd, 300); }
  void refused(const std::string& cmd, std::initializer_list<const char*> words) const {
    ShellDir::refused("ulimit -v 3145728\n" + cmd, words, 300);
  }
};

TEST(MemoryLimits, AbsurdSizesAreRefusedWithTheEstimateAndTheLimit) {
  if (kSanitized) GTEST_SKIP() << "ulimit -v does not work under AddressSanitizer";
  Limited d;
  const std::initializer_list<const char*> estimate = {"(estimate)", "ulimit -v", "--max-memory"};
  // A million nodes: grew to 21 GB before.
  const std::string fabric =
      "--set cluster.topology=" OCCULT_SOURCE_DIR "/topologies/railopt-pcie-h200.toml ";
  d.refused("$OCCULT simulate s.toml -q " + fabric + "--set cluster.nodes=1000000 --set cluster.ep_size=8",
            estimate);
  d.refused("$OCCULT sweep s.toml -o r.csv -q " + fabric +
                "--set 'sweep.cluster.nodes=[1,1000000]' --set cluster.ep_size=8",
            estimate);
  // Documented up to 2^40 tokens per GPU, so a bad_alloc (exit 1) before.
  d.refused("$OCCULT simulate s.toml -q --set workload.tokens_per_device=10000000000", estimate);
  d.refused("$OCCULT trace gen --tokens 10000000000 -o t.trace", estimate);
  // A placement of 8 experts can have at most 8 devices, checked before a vector of two billion.
  d.file("p.json",
         "{\"format\": \"occult-placement\", \"experts\": 8, \"devices\": 2000000000, \"layers\": "
         "[{\"device_of\": "
         "[0, 1, 2, 3, 4, 5, 6, 7]}]}");
  ASSERT_EQ(d.run("$OCCULT trace gen --experts 8 --top-k 2 --tokens 64 -o small.trace").code, 0);
  d.refused("$OCCULT analyze --trace small.trace --placement p.json", {"devices", "out of range"});
  d.file("p.json",
         "{\"format\": \"occult-placement\", \"experts\": 8, \"devices\": 16000000, \"layers\": "
         "[{\"device_of\": "
         "[0, 1, 2, 3, 4, 5, 6, 7]}]}");
  d.refused("$OCCULT analyze --trace small.trace --placement p.json", {"devices", "no expert"});
  // A JSONL "line" without end.
  d.refused("$OCCULT trace import /dev/zero -o z.trace", {"line longer than"});
  // Dense D x D plans: 2^20 experts on 2^20 devices would be 32 TiB.
  ASSERT_EQ(d.run("$OCCULT trace gen --experts 1048576 --top-k 1 --tokens 16 -o wide.trace").code, 0);
  d.refused("$OCCULT analyze --trace wide.trace --devices 1048576", estimate);
}

TEST(MemoryLimits, SimulateBuildsOnlyTheFirstPointOfAHugeSweep) {
  if (kSanitized) GTEST_SKIP() << "ulimit -v does not work under AddressSanitizer";
  Limited d;
  // 3,000 x 4,000 = 12 million points; expanding them all took gigabytes before running one.
  std::string seeds, skews;
  for (int i = 1; i <= 3000; ++i) seeds += (i > 1 ? ", " : "") + std::to_string(i);
  for (int i = 0; i < 4000; ++i) skews += (i ? ", " : "") + std::to_string(i / 1000.0);
  d.file("huge.toml",
         test::small_scenario("[sweep]\nseed = [" + seeds + "]\nworkload.skew = [" + skews + "]\n"));
  const auto r = d.limited("$OCCULT simulate huge.toml");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("sweep axis seed at its first value 1"), std::string::npos) << r.err;
}

TEST(MemoryLimits, MaxMemoryRaisesOrLowersTheLimit) {
  Limited d;
  auto r = d.run("$OCCULT --max-memory 1M simulate s.toml -q");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("limit of 1.0 MiB (--max-memory)"), std::string::npos) << r.err;
  r = d.run("$OCCULT simulate s.toml -q --max-memory 8G");
  EXPECT_EQ(r.code, 0) << r.err;
}

}  // namespace
}  // namespace occult
