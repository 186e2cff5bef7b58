// .npy import: dtypes, [tokens, k] and [layers, tokens, k], Fortran order, weights, and broken files.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sim/core/error.hpp"
#include "sim/core/trace_import.hpp"
#include "tests/core/npy_test_util.hpp"

namespace occult {
namespace {

namespace fs = std::filesystem;

using test::npy_bytes;
using test::raw;

class TraceNpy : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("occult_npy_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes) {
    const auto p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  fs::path dir_;
};

TEST_F(TraceNpy, Int32IdsWithFloatWeightsLayerFromFileName) {
  auto ids = write("moe_layer7.npy", npy_bytes("<i4", "(3, 2)", raw<std::int32_t>({0, 1, 2, 3, 4, 5})));
  auto w = write("w7.npy", npy_bytes("<f4", "(3, 2)", raw<float>({.7f, .3f, .6f, .4f, .9f, .1f})));
  ImportOptions o;
  o.weight_files = {w};
  Trace t = import_trace({ids}, o, nullptr);
  ASSERT_EQ(t.layers.size(), 1u);
  EXPECT_EQ(t.layers[0].layer, 7);
  EXPECT_EQ(t.top_k, 2);
  EXPECT_EQ(t.num_experts, 6);
  EXPECT_EQ(t.layers[0].experts, (std::vector<std::int32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_FLOAT_EQ(t.layers[0].weight(2, 1), 0.1f);
}

TEST_F(TraceNpy, StackedLayersInt64AndFortranOrder) {
  // [2 layers, 2 tokens, 2] in C order.
  auto c = write("stack.npy", npy_bytes("<i8", "(2, 2, 2)", raw<std::int64_t>({0, 1, 2, 3, 4, 5, 6, 7})));
  Trace t = import_trace({c}, {}, nullptr);
  ASSERT_EQ(t.layers.size(), 2u);
  EXPECT_EQ(t.layers[1].experts, (std::vector<std::int32_t>{4, 5, 6, 7}));
  // The same [3, 2] matrix stored column-major must import identically.
  auto f = write("fort.npy", npy_bytes("<u2", "(3, 2)", raw<std::uint16_t>({0, 2, 4, 1, 3, 5}), true));
  EXPECT_EQ(import_trace({f}, {}, nullptr).layers[0].experts, (std::vector<std::int32_t>{0, 1, 2, 3, 4, 5}));
}

TEST_F(TraceNpy, BrokenFilesAreInputErrors) {
  const std::string good = npy_bytes("<i4", "(3, 2)", raw<std::int32_t>({0, 1, 2, 3, 4, 5}));
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"truncated_data", good.substr(0, good.size() - 3)},
      {"truncated_header", good.substr(0, 40)},
      {"only_magic", good.substr(0, 8)},
      {"trailing_bytes", good + "xx"},
      {"float_ids", npy_bytes("<f4", "(1, 2)", raw<float>({0, 1}))},
      {"one_dimension", npy_bytes("<i4", "(2,)", raw<std::int32_t>({0, 1}))},
      {"empty_array", npy_bytes("<i4", "(0, 2)", "")},
      {"big_endian", npy_bytes(">i4", "(1, 2)", raw<std::int32_t>({0, 1}))},
      {"object_dtype", npy_bytes("|O", "(1, 2)", "xxxxxxxxxxxxxxxx")},
      {"no_shape", npy_bytes("<i4", "", raw<std::int32_t>({0, 1}))},
      {"huge_shape", npy_bytes("<i4", "(99999999999, 99999999999)", "")},
      {"negative_id", npy_bytes("<i4", "(1, 2)", raw<std::int32_t>({-1, 1}))},
      {"duplicate_id", npy_bytes("<i4", "(1, 2)", raw<std::int32_t>({1, 1}))},
      {"huge_unsigned_id", npy_bytes("<u8", "(1, 2)", raw<std::uint64_t>({0, ~0ull}))},
      {"bad_version", "\x93NUMPY\x09\x00" + good.substr(8)},
  };
  for (const auto& [name, bytes] : cases) {
    ImportOptions o;
    o.format = LogFormat::Npy;
    EXPECT_THROW(import_trace({write(std::string(name) + ".npy", bytes)}, o, nullptr), InputError) << name;
  }
}

TEST_F(TraceNpy, IdsAtLeastEAndMismatchedWeightsAreErrors) {
  auto ids = write("ids.npy", npy_bytes("<i4", "(1, 2)", raw<std::int32_t>({0, 8})));
  ImportOptions o;
  o.experts = 8;
  EXPECT_THROW(import_trace({ids}, o, nullptr), InputError);
  auto w = write("w.npy", npy_bytes("<f4", "(2, 1)", raw<float>({.5f, .5f})));
  ImportOptions ow;
  ow.weight_files = {w};
  EXPECT_THROW(import_trace({ids}, ow, nullptr), InputError);
  ow.weight_files = {w, w};  // more weight files than id files
  EXPECT_THROW(import_trace({ids}, ow, nullptr), InputError);
}

TEST_F(TraceNpy, TruncatedNpyExitsWithCode2ThroughTheCli) {
  const std::string good = npy_bytes("<i4", "(3, 2)", raw<std::int32_t>({0, 1, 2, 3, 4, 5}));
  const auto in = write("cut.npy", good.substr(0, good.size() - 5));
  const std::string cmd = std::string(OCCULT_BIN) + " trace import " + in + " -o " +
                          (dir_ / "o.trace").string() + " >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

}  // namespace
}  // namespace occult
