#pragma once
// A test fixture with a fresh temporary folder per test (named after the test), removed afterwards,
// and a helper that writes a file into it: for tests that feed files to the importers or the CLI.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace occult::testing {

class TempDirTest : public ::testing::Test {
 protected:
  explicit TempDirTest(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           (prefix_ + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes) {
    const auto p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  std::string prefix_;
  std::filesystem::path dir_;
};

}  // namespace occult::testing
