#pragma once
// Running `occult` the way users do, through bash: pipes, FIFOs, process substitution (<(...)),
// standard input, ulimit. Every script runs under `timeout`, so a command that would hang (reading a
// FIFO twice) fails the test instead of blocking it.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace occult::test {

struct ShellResult {
  int code = -1;  // 124: killed by the timeout
  std::string out, err;
};

// The binary under test: this build's, or OCCULT_TEST_BIN's (to check that a regression test fails
// on an older build).
inline std::string occult_bin() {
  const char* other = std::getenv("OCCULT_TEST_BIN");
  return other && *other ? other : OCCULT_BIN;
}

// Runs `script` with bash in `dir`; $OCCULT is the binary under test.
inline ShellResult run_shell(const std::string& script, const std::filesystem::path& dir,
                             int timeout_s = 120) {
  const auto file = dir / "script.sh", err = dir / "script.err";
  std::ofstream(file) << "set -o pipefail\ncd '" << dir.string() << "'\n" << script << "\n";
  const std::string cmd = "OCCULT='" + occult_bin() + "' timeout -k 5 " + std::to_string(timeout_s) +
                          " bash '" + file.string() + "' 2>'" + err.string() + "'";
  ShellResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(err);
  r.err.assign(std::istreambuf_iterator<char>(e), {});
  return r;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A fresh folder under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() /
              ("occult_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& root() const { return path_; }
  std::string path(const std::string& name) const { return (path_ / name).string(); }
  std::string file(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
    return path(name);
  }

 private:
  std::filesystem::path path_;
};

// A TempDir that scripts run in.
class ShellDir : public TempDir {
 public:
  using TempDir::TempDir;
  ShellResult run(const std::string& script, int timeout_s = 120) const {
    return run_shell(script, root(), timeout_s);
  }
  // Runs `script`, expecting bad input: exit 2, "occult: error: " and every one of `words` on stderr.
  void refused(const std::string& script, std::initializer_list<const char*> words,
               int timeout_s = 120) const {
    const ShellResult r = run(script, timeout_s);
    EXPECT_EQ(r.code, 2) << script << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find("occult: error: "), std::string::npos) << script << "\n" << r.err;
    for (const char* w : words)
      EXPECT_NE(r.err.find(w), std::string::npos) << script << ": no '" << w << "' in\n" << r.err;
  }
};

}  // namespace occult::test
