// Inputs that used to be accepted with a wrong meaning: an overflowing row size, truncated placement
// numbers, an unbalanced placement hidden behind empty replica lists, explicit zeros taken for "the
// default", k taken from a bad first record, missing weight files, an output that is also the input.
// Each is bad input now: exit 2, a message naming what is wrong, and no output written.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "tests/core/cli_shell.hpp"
#include "tests/core/npy_test_util.hpp"

namespace occult {
namespace {

using test::ShellDir;

struct Dir : ShellDir {
  Dir() : ShellDir("cli_strict_inputs") {
    EXPECT_EQ(run("$OCCULT trace gen --experts 8 --top-k 2 --tokens 64 -o t.trace").code, 0);
  }
  std::string placement(const std::string& name, const std::string& devices, const std::string& layer) const {
    return file(name, "{\"format\": \"occult-placement\", \"version\": 1, \"experts\": 8, \"devices\": " +
                          devices + ", \"gpus_per_node\": 1, \"layers\": [" + layer + "]}");
  }
};

TEST(CliStrictInputs, RowBytesThatOverflowByteCounts) {
  Dir d;
  d.refused("$OCCULT analyze --trace t.trace --devices 2 --row-bytes 9223372036854775807",
            {"row-bytes", "overflow"});
  // The largest row size that fits still prints non-negative byte counts.
  const auto r = d.run("$OCCULT analyze --trace t.trace --devices 2 --row-bytes 36028797018963967 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GE(nlohmann::json::parse(r.out)["overall"]["bytes"]["standard"]["total"].get<std::int64_t>(), 0);
}

TEST(CliStrictInputs, PlacementNumbersAreExact) {
  Dir d;
  const std::string layer = "{\"device_of\": [0, 0, 0, 0, 1, 1, 1, 1]}";
  d.placement("ok.json", "2", layer);
  EXPECT_EQ(d.run("$OCCULT analyze --trace t.trace --placement ok.json").code, 0);
  // 4294967300 used to become 4 (int truncation), 4.5 became 4.
  d.placement("wrap.json", "4294967300", layer);
  d.refused("$OCCULT analyze --trace t.trace --placement wrap.json",
            {"devices", "4294967300", "out of range"});
  d.placement("half.json", "4.5", layer);
  d.refused("$OCCULT analyze --trace t.trace --placement half.json", {"devices", "must be an integer"});
  d.placement("id.json", "2", "{\"device_of\": [0, 0, 0, 0, 1, 1, 1, 1.0]}");
  d.refused("$OCCULT analyze --trace t.trace --placement id.json", {"device_of[7]", "must be an integer"});
  // A file claiming two billion devices is refused before anything of that size is allocated.
  d.placement("huge.json", "2000000000", layer);
  d.refused("$OCCULT analyze --trace t.trace --placement huge.json", {"devices"});
}

TEST(CliStrictInputs, EmptyReplicaListsStillGetTheBalanceCheck) {
  Dir d;
  d.placement("skew.json", "2",
              "{\"device_of\": [0, 0, 0, 0, 0, 0, 0, 1], \"replicas\": [[], [], [], [], [], [], [], []]}");
  d.refused("$OCCULT analyze --trace t.trace --placement skew.json", {"holds 7 experts", "E/D=4"});
  d.placement("self.json", "2",
              "{\"device_of\": [0, 0, 0, 0, 1, 1, 1, 1], \"replicas\": [[0], [], [], [], [], [], [], []]}");
  d.refused("$OCCULT analyze --trace t.trace --placement self.json", {"replicas[0]", "already holds"});
}

TEST(CliStrictInputs, ExplicitZeroIsNotTheDefault) {
  Dir d;
  d.file("t.jsonl", "{\"layer\": 0, \"topk_ids\": [1, 2]}\n");
  d.refused("$OCCULT trace import t.jsonl --experts 0 -o x.trace", {"--experts"});
  d.refused("$OCCULT trace import t.jsonl --top-k 0 -o x.trace", {"--top-k"});
  d.refused("$OCCULT analyze --trace t.trace --devices 2 --gpus-per-node 0", {"--gpus-per-node"});
  d.refused("$OCCULT analyze --trace t.trace --devices 0", {"--devices"});
  d.refused("$OCCULT trace gen --experts 0 -o x.trace", {"experts"});
}

TEST(CliStrictInputs, SkipBadDoesNotTakeKFromABadFirstRecord) {
  Dir d;
  std::string text = "{\"layer\": 0, \"topk_ids\": [1, 2, 3]}\n";  // cut-and-pasted wrong: 3 ids
  for (int t = 0; t < 40; ++t)
    text += "{\"layer\": 0, \"topk_ids\": [" + std::to_string(t % 8) + ", " + std::to_string((t + 1) % 8) +
            "]}\n";
  d.file("first_bad.jsonl", text);
  d.refused("$OCCULT trace import first_bad.jsonl --skip-bad -o x.trace", {"--top-k", "line 1"});
  const auto r = d.run("$OCCULT trace import first_bad.jsonl --skip-bad --top-k 2 --json -o x.trace");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["records_kept"], 40);
}

TEST(CliStrictInputs, EveryNpyIdFileNeedsItsWeights) {
  Dir d;
  d.file("a_layer0.npy", test::npy_bytes("<i4", "(2, 2)", test::raw<std::int32_t>({0, 1, 2, 3})));
  d.file("a_layer1.npy", test::npy_bytes("<i4", "(2, 2)", test::raw<std::int32_t>({4, 5, 6, 7})));
  d.file("w0.npy", test::npy_bytes("<f4", "(2, 2)", test::raw<float>({.5f, .5f, .5f, .5f})));
  d.refused("$OCCULT trace import a_layer0.npy a_layer1.npy --weights w0.npy -o x.trace",
            {"1 --weights file(s) for 2 .npy id file(s)"});
}

TEST(CliStrictInputs, OutputThatIsAnInputIsRefusedAndTheInputKept) {
  Dir d;
  d.file("t.jsonl", "{\"layer\": 0, \"topk_ids\": [1, 2]}\n");
  ASSERT_EQ(d.run("cp t.jsonl keep.jsonl && ln -s t.jsonl link.jsonl").code, 0);
  d.refused("$OCCULT trace import t.jsonl -o t.jsonl", {"is also an input"});
  d.refused("$OCCULT trace import t.jsonl -o link.jsonl", {"is also an input"});
  EXPECT_EQ(d.run("cmp t.jsonl keep.jsonl").code, 0);
}

TEST(CliStrictInputs, ParseErrorsSpeakLikeEveryOtherError) {
  Dir d;
  // CLI11's own words ("A subcommand is required") came without the prefix, for a typo of a command.
  d.refused("$OCCULT simulat x.toml", {"unknown command 'simulat'", "commands: trace, analyze"});
  d.refused("$OCCULT trace stat t.trace", {"unknown command 'stat'", "import, gen, stats"});
  d.refused("$OCCULT trace", {"'occult trace' needs a command"});
  d.refused("$OCCULT analyze --trace t.trace --devices 2 --frobnicate",
            {"--frobnicate", "occult analyze --help"});
  d.refused("$OCCULT --max-memory lots trace stats t.trace", {"--max-memory", "not a size"});
}

}  // namespace
}  // namespace occult
