#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "sim/core/error.hpp"
#include "sim/core/trace.hpp"
#include "sim/core/trace_gen.hpp"

namespace occult {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("occult_test_io_" + name)).string();
}

Trace small_trace() {
  TraceGenParams p;
  p.experts = 16;
  p.top_k = 4;
  p.tokens = 100;
  p.layers = 3;
  p.skew = 1.0;
  p.affinity = 0.5;
  p.seed = 7;
  p.model = "custom";
  return generate_trace(p);
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  // Unlink first: truncating a file in place makes ext4 flush it on close (auto_da_alloc), ~5 ms each.
  std::remove(path.c_str());
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(TraceIo, RoundTripKeepsEverything) {
  Trace t = small_trace();
  t.layers[1].weights.clear();  // a layer without weights (uniform 1/k) must survive too
  const auto path = temp_path("roundtrip.trace");
  write_trace(t, path);
  Trace r = read_trace(path);
  EXPECT_EQ(r.num_experts, t.num_experts);
  EXPECT_EQ(r.top_k, t.top_k);
  EXPECT_EQ(r.model, t.model);
  EXPECT_EQ(r.source, t.source);
  ASSERT_EQ(r.layers.size(), t.layers.size());
  for (std::size_t i = 0; i < t.layers.size(); ++i) {
    EXPECT_EQ(r.layers[i].layer, t.layers[i].layer);
    EXPECT_EQ(r.layers[i].experts, t.layers[i].experts);
    EXPECT_EQ(r.layers[i].weights, t.layers[i].weights);
  }
  EXPECT_FLOAT_EQ(r.layers[1].weight(0, 0), 0.25f);
  std::remove(path.c_str());
}

TEST(TraceIo, EveryTruncationIsAnInputError) {
  const auto path = temp_path("trunc.trace");
  write_trace(small_trace(), path);
  const std::string full = file_bytes(path);
  // Every prefix (sampled densely at the header, sparsely in the arrays) must be rejected cleanly.
  for (std::size_t n = 0; n < full.size(); n += (n < 80 ? 1 : 211)) {
    write_bytes(path, full.substr(0, n));
    EXPECT_THROW(read_trace(path), InputError) << "prefix of " << n << " bytes";
  }
  write_bytes(path, full + "x");
  EXPECT_THROW(read_trace(path), InputError);
  std::remove(path.c_str());
}

TEST(TraceIo, CorruptHeaderFieldsAreRejected) {
  const auto path = temp_path("corrupt.trace");
  write_trace(small_trace(), path);
  const std::string full = file_bytes(path);
  // Header layout (docs/formats/trace.md): magic[8], version u32 @8, E i32 @12, k i32 @16, layers i32 @20.
  auto with_int = [&](std::size_t offset, std::int32_t v) {
    std::string bad = full;
    std::memcpy(bad.data() + offset, &v, sizeof v);
    return bad;
  };
  std::string bad_magic = full;
  bad_magic[3] = 'X';
  for (const auto& [what, bytes] : std::vector<std::pair<const char*, std::string>>{
           {"magic", bad_magic},
           {"version 2", with_int(8, 2)},
           {"E = 0", with_int(12, 0)},
           {"E < 0", with_int(12, -5)},
           {"E smaller than the ids", with_int(12, 4)},
           {"k = 0", with_int(16, 0)},
           {"k > E", with_int(16, 17)},
           {"k = 5 misaligns the arrays", with_int(16, 5)},
           {"0 layers", with_int(20, 0)},
           {"huge layer count", with_int(20, 0x7FFFFFFF)},
           {"huge model string", with_int(24, 0x7FFFFFFF)},
       }) {
    write_bytes(path, bytes);
    EXPECT_THROW(read_trace(path), InputError) << what;
  }
  std::remove(path.c_str());
}

TEST(TraceIo, MissingFileIsAnInputError) {
  EXPECT_THROW(read_trace(temp_path("does_not_exist.trace")), InputError);
}

TEST(TraceValidate, RejectsBadContents) {
  auto expect_bad = [](Trace t, const char* what) {
    EXPECT_THROW(validate_trace(t, "mem"), InputError) << what;
  };
  Trace good = small_trace();
  EXPECT_NO_THROW(validate_trace(good, "mem"));
  Trace t = good;
  t.layers[0].experts[5] = 16;
  expect_bad(t, "id == E");
  t = good;
  t.layers[0].experts[5] = -1;
  expect_bad(t, "negative id");
  t = good;
  t.layers[0].experts[1] = t.layers[0].experts[0];
  expect_bad(t, "duplicate expert in a token");
  t = good;
  t.layers[2].top_k = 3;
  expect_bad(t, "k differs between layers");
  t = good;
  t.layers[0].weights.pop_back();
  expect_bad(t, "weights shorter than ids");
  t = good;
  t.layers[0].weights[0] = std::nanf("");
  expect_bad(t, "NaN weight");
  t = good;
  t.layers[1].layer = 0;
  expect_bad(t, "duplicate layer index");
  t = good;
  t.layers.clear();
  expect_bad(t, "no layers");
  t = good;
  t.top_k = 17;
  expect_bad(t, "k > E");
}

}  // namespace
}  // namespace occult
