// OutputFile (sim/core/output_file.hpp): a target appears whole or not at all, and the temporary file
// of a writer that was killed before its rename is removed by the next write of the same target.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sim/core/output_file.hpp"

namespace occult {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const fs::path d =
      fs::temp_directory_path() / ("occult-output-file-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int files_in(const fs::path& d) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(d)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

// A process id that no process has now: a child that has exited and been reaped.
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

TEST(OutputFile, WithoutCommitTheTargetKeepsItsOldBytesAndNoTemporaryStays) {
  const auto d = fresh_dir("abandon");
  const auto target = d / "r.csv";
  std::ofstream(target) << "old";
  {
    OutputFile out(target.string());
    out.stream() << "new, half written";
  }
  EXPECT_EQ(read(target), "old");
  EXPECT_EQ(files_in(d), 1);
  {
    OutputFile out(target.string());
    out.stream() << "new";
    out.commit();
  }
  EXPECT_EQ(read(target), "new");
  EXPECT_EQ(files_in(d), 1);
  fs::remove_all(d);
}

TEST(OutputFile, TheNextWriteRemovesTheTemporaryOfAKilledWriterOnly) {
  const auto d = fresh_dir("stale");
  const auto target = d / "r.csv";
  const auto stale = d / (".r.csv.occult-" + std::to_string(dead_pid()) + ".AbC123");
  const auto live = d / (".r.csv.occult-" + std::to_string(::getpid()) + ".XyZ789");       // this process
  const auto other = d / (".other.csv.occult-" + std::to_string(dead_pid()) + ".AbC123");  // another target
  for (const auto& p : {stale, live, other}) std::ofstream(p) << "partial";
  OutputFile out(target.string());
  out.stream() << "whole";
  out.commit();
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(other));
  EXPECT_EQ(read(target), "whole");
  fs::remove_all(d);
}

}  // namespace
}  // namespace occult
