// Every file `occult` reads works from a pipe, a FIFO, process substitution (<(...)) and standard input
// ("-"), or is refused clearly; a directory is bad input (exit 2), never a crash or a hang.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "sim/core/placement.hpp"
#include "tests/core/cli_shell.hpp"
#include "tests/core/npy_test_util.hpp"

namespace occult {
namespace {

using test::ShellDir;

// 300 route records of k = 2 over 8 experts, after a meta line.
std::string jsonl() {
  std::string text = "{\"type\": \"meta\", \"model\": \"x\"}\n";
  for (int t = 0; t < 300; ++t)
    text += "{\"layer\": " + std::to_string(t % 2) + ", \"topk_ids\": [" + std::to_string(t % 8) + ", " +
            std::to_string((t + 3) % 8) + "]}\n";
  return text;
}

struct Inputs : ShellDir {
  Inputs() : ShellDir("cli_input_paths") {
    file("t.jsonl", jsonl());
    EXPECT_EQ(run("$OCCULT trace gen --experts 8 --top-k 2 --tokens 64 --layers 2 -o t.trace").code, 0);
    write_placement(contiguous_placement(8, {4, 2}, 1), path("p.json"));
  }
  // Records the import read, from its --json report; -1 when it failed.
  long imported(const std::string& command) const {
    const auto r = run(command + " --json", 60);
    if (r.code != 0) {
      ADD_FAILURE() << command << ": exit " << r.code << "\n" << r.err;
      return -1;
    }
    return nlohmann::json::parse(r.out)["records_read"].get<long>();
  }
};

TEST(CliInputPaths, TraceImportReadsFifosProcessSubstitutionAndStdinWhole) {
  Inputs in;
  EXPECT_EQ(in.imported("$OCCULT trace import t.jsonl -o a.trace"), 300);
  // Format detection used to open the input a second time: a FIFO then waited forever for a writer,
  // and process substitution lost what the first read had taken.
  EXPECT_EQ(in.imported("mkfifo f && (cat t.jsonl > f &) && $OCCULT trace import f -o b.trace"), 300);
  EXPECT_EQ(in.imported("$OCCULT trace import <(cat t.jsonl) -o c.trace"), 300);
  EXPECT_EQ(in.imported("cat t.jsonl | $OCCULT trace import - -o d.trace"), 300);
  // The same routing whichever way it came in (the traces differ only in the source they record).
  const auto r = in.run(
      "s() { $OCCULT trace stats --json \"$1\" | grep -v '\"trace\"\\|\"source\"'; }\n"
      "cmp <(s a.trace) <(s b.trace) && cmp <(s a.trace) <(s c.trace) && cmp <(s a.trace) <(s d.trace)");
  EXPECT_EQ(r.code, 0) << r.out << r.err;
}

TEST(CliInputPaths, NpyIdsAndWeightsFromPipes) {
  Inputs in;
  in.file("ids.npy", test::npy_bytes("<i4", "(3, 2)", test::raw<std::int32_t>({0, 1, 2, 3, 4, 5})));
  in.file("w.npy", test::npy_bytes("<f4", "(3, 2)", test::raw<float>({.7f, .3f, .6f, .4f, .9f, .1f})));
  EXPECT_EQ(in.imported("$OCCULT trace import <(cat ids.npy) --weights <(cat w.npy) --experts 8 -o n.trace"),
            3);
  EXPECT_EQ(in.imported("$OCCULT trace import - --experts 8 -o m.trace < ids.npy"), 3);
}

TEST(CliInputPaths, TracesPlacementsAndModelsFromPipes) {
  Inputs in;
  // The binary trace reader knew the file's size by seeking to its end, which a pipe cannot do.
  auto r = in.run("cat t.trace | $OCCULT trace stats - --json");
  EXPECT_EQ(r.code, 0) << r.err;
  r = in.run("$OCCULT analyze --trace <(cat t.trace) --placement <(cat p.json) --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["devices"], 4);
  in.file("m.toml", "name = \"m\"\nexperts = 8\ntop_k = 2\nhidden = 64\nffn = 128\nlayers = 2\n");
  r = in.run("$OCCULT trace gen --model <(cat m.toml) --tokens 16 -o g.trace");
  EXPECT_EQ(r.code, 0) << r.err;
  // Traces flow between commands; the report of the writing command goes to stderr then.
  r = in.run("$OCCULT trace gen --experts 8 --top-k 2 --tokens 64 -o - | $OCCULT trace stats - --json");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["tokens"], 64);
  r = in.run("$OCCULT trace import t.jsonl -o - | $OCCULT analyze --trace - --devices 4 --json");
  EXPECT_EQ(r.code, 0) << r.err;
  // A trace cut short in a pipe is reported as such, not read past its end.
  r = in.run("head -c 100 t.trace | $OCCULT trace stats -");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
}

TEST(CliInputPaths, DirectoriesAreBadInput) {
  Inputs in;
  ASSERT_EQ(in.run("mkdir d").code, 0);
  for (const char* cmd :
       {"$OCCULT analyze --trace t.trace --placement d", "$OCCULT analyze --trace d --devices 4",
        "$OCCULT trace import d -o x.trace", "$OCCULT trace stats d", "$OCCULT trace gen --tokens 8 -o d",
        "$OCCULT trace import t.jsonl -o d"}) {
    const auto r = in.run(cmd);
    EXPECT_EQ(r.code, 2) << cmd << "\n" << r.err;
    EXPECT_NE(r.err.find("is a directory"), std::string::npos) << cmd << "\n" << r.err;
  }
}

TEST(CliInputPaths, OutputsAreWholeOrAbsent) {
  Inputs in;
  // A write that fails midway (here: past a file size limit, as on a full disk) leaves the previous
  // file as it was; it used to be truncated first and left cut off.
  ASSERT_EQ(in.run("cp t.trace keep.trace").code, 0);
  const auto r = in.run("trap '' XFSZ; ulimit -f 64; $OCCULT trace gen --tokens 100000 -o keep.trace");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("write failed"), std::string::npos) << r.err;
  EXPECT_EQ(in.run("cmp t.trace keep.trace").code, 0);
  EXPECT_EQ(in.run("ls -A | grep -c '^\\.keep'").out, "0\n");  // no temporary file left behind
  // Writing to a device or a pipe writes to it, never replaces it.
  EXPECT_EQ(in.run("$OCCULT trace gen --tokens 8 -o /dev/null && test -c /dev/null").code, 0);
}

}  // namespace
}  // namespace occult
