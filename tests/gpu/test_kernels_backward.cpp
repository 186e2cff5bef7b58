// The expert FFN backward on the GPU against the fp32 CPU reference (ref::expert_ffn_backward), on
// every path (fused, tensor-core grouped, tensor-core per expert, SIMT), the fused path with each
// GEMM kernel forced, and through the plain API: random inputs (never zeros), outputs poisoned first,
// slots (top-k reaching a device) 1 to 8, 8 to 256 local experts with idle ones and dropped slots, 1
// to 16K rows, partial tiles, the OLMoE expert shape. The fused path's outputs must be bitwise the
// same on every run.
#include <gtest/gtest.h>

#include <cublas_v2.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>

#include "kernels/expert_ffn_backward.hpp"
#include "kernels/moe_kernels.hpp"
#include "kernels/ref/synthetic.hpp"
#include "sim/core/error.hpp"
#include "tests/gpu/kernel_test_support.hpp"

namespace occult::kernels::testing {
namespace {

constexpr double kTol = 1e-2;  // relative Frobenius error, bf16 operands and fp32 accumulation

constexpr BackwardPath kPaths[] = {BackwardPath::Fused, BackwardPath::TensorCoreGrouped,
                                   BackwardPath::TensorCorePerExpert, BackwardPath::TensorCoreAuto,
                                   BackwardPath::Simt};

// The fused path's GEMM kernels this device runs (Auto plus every one forced).
std::vector<GemmKernel> fused_kernels() {
  std::vector<GemmKernel> k{GemmKernel::Auto, GemmKernel::Mma128, GemmKernel::Mma256};
  if (wgmma_available()) k.insert(k.end(), {GemmKernel::Wgmma128, GemmKernel::Wgmma256});
  return k;
}

struct Case {
  std::int64_t rows = 0;
  int slots = 1, experts = 1, hidden = 64, ffn = 64;
  std::uint64_t seed = 1;
};

// Received rows of one device: each row reads `slots` distinct local experts, some slots dropped
// (-1) and the last quarter of the experts idle (plus expert 0 when there are at least 8).
struct Received {
  std::vector<std::int32_t> expert;
  std::vector<float> weight, x, dy;
  ref::Experts w;
};

Received make_received(const Case& c) {
  Received r;
  const std::size_t n = std::size_t(c.rows) * std::size_t(c.slots);
  r.expert.assign(n, -1);
  r.weight.assign(n, 0.0f);
  const auto u = ref::random_bf16(n + std::size_t(c.rows), 1.0f, c.seed);
  const int lo = c.experts >= 8 ? 1 : 0, busy = std::max(1, c.experts - c.experts / 4 - lo);
  for (std::int64_t row = 0; row < c.rows; ++row) {
    const int first = int(std::abs(u[std::size_t(c.rows) * std::size_t(c.slots) + std::size_t(row)]) * 1e4f);
    for (int s = 0; s < c.slots; ++s) {
      const std::size_t i = std::size_t(row) * std::size_t(c.slots) + std::size_t(s);
      if (s >= busy || (s > 0 && u[i] > 0.6f)) continue;  // dropped slot (distinct experts per row)
      r.expert[i] = lo + (first + s) % busy;
      r.weight[i] = 0.2f + 0.5f * std::abs(u[i]);
    }
  }
  const std::size_t fh = std::size_t(c.experts) * std::size_t(c.hidden) * std::size_t(c.ffn);
  const float s_in = 2.0f / std::sqrt(float(c.hidden)), s_out = 2.0f / std::sqrt(float(c.ffn));
  r.w = ref::Experts{ref::random_bf16(fh, s_in, c.seed + 1),
                     ref::random_bf16(fh, s_in, c.seed + 2),
                     ref::random_bf16(fh, s_out, c.seed + 3),
                     c.experts,
                     c.hidden,
                     c.ffn};
  r.x = ref::random_bf16(std::size_t(c.rows) * std::size_t(c.hidden), 1.0f, c.seed + 4);
  r.dy = ref::random_bf16(std::size_t(c.rows) * std::size_t(c.hidden), 1.0f, c.seed + 5);
  return r;
}

// A Received on the device: inputs, the views the backward takes, and outputs (poisoned).
struct OnDevice {
  OnDevice(const Case& c, const Received& r)
      : x(to_bf16(r.x)),
        dy(to_bf16(r.dy)),
        gate(to_bf16(r.w.gate)),
        up(to_bf16(r.w.up)),
        down(to_bf16(r.w.down)),
        expert(r.expert),
        weight(r.weight),
        d_rows(std::size_t(c.rows) * std::size_t(c.hidden)),
        d_w(r.expert.size()),
        d_gate(r.w.gate.size()),
        d_up(r.w.up.size()),
        d_down(r.w.down.size()),
        recv{x.get(), expert.get(), weight.get(), c.rows, c.slots},
        ew{gate.get(), up.get(), down.get(), c.experts, c.hidden, c.ffn},
        grads{d_rows.get(), d_w.get(), d_gate.get(), d_up.get(), d_down.get()} {}
  DeviceBuffer<std::uint16_t> x, dy, gate, up, down;
  DeviceBuffer<std::int32_t> expert;
  DeviceBuffer<float> weight;
  DeviceBuffer<std::uint16_t> d_rows;
  DeviceBuffer<float> d_w, d_gate, d_up, d_down;
  RecvView recv;
  ExpertWeights ew;
  ExpertGrads grads;
};

// NaN (0xFF bytes) in every output, so an element a run leaves unwritten shows.
void poison(OnDevice& d) {
  cuda_ok(cudaMemset(d.d_rows.get(), 0xFF, d.d_rows.size() * sizeof(std::uint16_t)), "poison");
  for (const DeviceBuffer<float>* b : {&d.d_w, &d.d_gate, &d.d_up, &d.d_down})
    cuda_ok(cudaMemset(b->get(), 0xFF, b->size() * sizeof(float)), "poison");
}

class Cublas {
 public:
  Cublas() {
    if (cublasCreate(&h_) != CUBLAS_STATUS_SUCCESS) throw std::runtime_error("cublasCreate failed");
  }
  ~Cublas() { cublasDestroy(h_); }
  Cublas(const Cublas&) = delete;
  Cublas& operator=(const Cublas&) = delete;
  cublasHandle_t get() const { return h_; }

 private:
  cublasHandle_t h_ = nullptr;
};

// Runs one path (or the plain API when `path` is null; the fused path with `kernel` forced when not
// null) and compares all five outputs.
void check_backward(const Case& c, const BackwardPath* path, cublasHandle_t handle,
                    const GemmKernel* kernel = nullptr) {
  const std::string label = kernel ? std::string("fused/") + to_string(*kernel)
                                   : std::string(path ? backward_path_name(*path) : "default");
  SCOPED_TRACE("path=" + label + " rows=" + std::to_string(c.rows) + " slots=" + std::to_string(c.slots) +
               " experts=" + std::to_string(c.experts) + " h=" + std::to_string(c.hidden) +
               " f=" + std::to_string(c.ffn));
  const Received r = make_received(c);
  OnDevice dev(c, r);
  const RecvView& recv = dev.recv;
  const ExpertWeights& ew = dev.ew;
  const ExpertGrads& grads = dev.grads;
  const Bf16* dyd = dev.dy.get();
  const DeviceBuffer<std::uint16_t>& d_rows = dev.d_rows;
  const DeviceBuffer<float>&d_w = dev.d_w, &d_gate = dev.d_gate, &d_up = dev.d_up, &d_down = dev.d_down;
  if (kernel) {
    DeviceBuffer<char> ws(expert_ffn_backward_workspace_bytes(recv, ew, BackwardPath::Fused));
    expert_ffn_backward_fused(recv, ew, dyd, grads, ws.get(), nullptr, *kernel);
    cuda_ok(cudaDeviceSynchronize(), "backward");
  } else if (path) {
    DeviceBuffer<char> ws(expert_ffn_backward_workspace_bytes(recv, ew, *path));
    expert_ffn_backward(handle, *path, recv, ew, dyd, grads, ws.get(), nullptr);
    cuda_ok(cudaDeviceSynchronize(), "backward");
  } else {
    DeviceBuffer<char> ws(expert_ffn_backward_workspace_bytes(recv, ew));
    expert_ffn_backward(recv, ew, dyd, grads, ws.get(), nullptr);
    cuda_ok(cudaDeviceSynchronize(), "backward");
  }
  const ref::ExpertGrads want =
      ref::expert_ffn_backward(ref::Packed{r.x, r.expert, r.weight, c.slots}, c.rows, r.w, r.dy);
  double worst = 0;
  const char* worst_name = "";
  for (auto [got, ref_v, name] : {std::tuple{from_bf16(d_rows.download()), want.d_rows, "d_rows"},
                                  {d_w.download(), want.d_weight, "d_weight"},
                                  {d_gate.download(), want.d_gate, "d_gate"},
                                  {d_up.download(), want.d_up, "d_up"},
                                  {d_down.download(), want.d_down, "d_down"}}) {
    ASSERT_TRUE(all_finite(got)) << name;  // every element written (buffers start as NaN)
    const double err = ref::rel_frobenius(got, ref_v);
    EXPECT_LT(err, kTol) << name;
    if (err > worst) worst = err, worst_name = name;
  }
  std::printf("  %s rows=%lld slots=%d experts=%d h=%d f=%d: worst rel. Frobenius error %.2e (%s)\n",
              label.c_str(), static_cast<long long>(c.rows), c.slots, c.experts, c.hidden, c.ffn, worst,
              worst_name);
  // Idle experts (no pair) must get exactly zero weight gradients, not merely small ones.
  const std::size_t fh = std::size_t(c.hidden) * std::size_t(c.ffn);
  const auto dg = d_gate.download();
  for (int e = 0; e < c.experts; ++e) {
    bool used = false;
    for (std::int32_t x : r.expert) used = used || x == e;
    if (used) continue;
    for (std::size_t i = 0; i < fh; ++i) ASSERT_EQ(dg[std::size_t(e) * fh + i], 0.0f) << "idle expert " << e;
  }
}

class GpuBackwardPath : public ::testing::TestWithParam<BackwardPath> {
 protected:
  void check(const Case& c) {
    const BackwardPath path = GetParam();
    check_backward(c, &path, handle());
  }
  // Created on first use, after the test checked for a GPU (cublasCreate fails without one).
  cublasHandle_t handle() {
    if (!cublas_) cublas_ = std::make_unique<Cublas>();
    return cublas_->get();
  }
  std::unique_ptr<Cublas> cublas_;
};

TEST_P(GpuBackwardPath, SlotsAndExpertCounts) {
  OCCULT_REQUIRE_GPU();
  for (int experts : {8, 64, 256})
    for (int slots : {1, 2, 4, 8})
      check(Case{300, slots, experts, 64, 128, std::uint64_t(experts * 100 + slots)});
}

TEST_P(GpuBackwardPath, RowCountsFromOneTo16K) {
  OCCULT_REQUIRE_GPU();
  for (std::int64_t rows : {1, 2, 129, 4096}) check(Case{rows, 4, 16, 64, 64, 7});
  check(Case{16384, 2, 64, 64, 64, 9});
}

TEST_P(GpuBackwardPath, ModelShapes) {
  OCCULT_REQUIRE_GPU();
  check(Case{700, 2, 8, 512, 256, 11});   // several tiles, partial ones
  check(Case{64, 2, 4, 2048, 1024, 13});  // OLMoE expert shape
}

TEST_P(GpuBackwardPath, NoRowsOrNoPairsGiveZeroGradients) {
  OCCULT_REQUIRE_GPU();
  const BackwardPath path = GetParam();
  const int L = 3, h = 64, f = 64;
  const std::size_t fh = std::size_t(L) * h * f;
  const auto wv = ref::random_bf16(fh, 0.1f, 3);
  DeviceBuffer<std::uint16_t> gate(to_bf16(wv)), up(to_bf16(wv)), down(to_bf16(wv));
  const ExpertWeights ew{gate.get(), up.get(), down.get(), L, h, f};
  for (std::int64_t rows : {0, 5}) {
    const std::vector<std::int32_t> ex(std::size_t(rows) * 2, -1);  // every slot dropped
    DeviceBuffer<std::int32_t> exd(ex);
    DeviceBuffer<float> wt(ex.size());
    DeviceBuffer<std::uint16_t> x(to_bf16(ref::random_bf16(std::size_t(rows) * h, 1.0f, 5))),
        dy(to_bf16(ref::random_bf16(std::size_t(rows) * h, 1.0f, 6))), d_rows(std::size_t(rows) * h);
    DeviceBuffer<float> d_w(ex.size()), dg(fh), du(fh), dd(fh);
    const RecvView recv{x.get(), exd.get(), wt.get(), rows, 2};
    DeviceBuffer<char> ws(expert_ffn_backward_workspace_bytes(recv, ew, path));
    expert_ffn_backward(handle(), path, recv, ew, dy.get(),
                        ExpertGrads{d_rows.get(), d_w.get(), dg.get(), du.get(), dd.get()}, ws.get(),
                        nullptr);
    cuda_ok(cudaDeviceSynchronize(), "backward");
    for (const auto& v :
         {from_bf16(d_rows.download()), d_w.download(), dg.download(), du.download(), dd.download()})
      for (float e : v) ASSERT_EQ(e, 0.0f) << "rows " << rows;
  }
}

INSTANTIATE_TEST_SUITE_P(Gpu, GpuBackwardPath, ::testing::ValuesIn(kPaths),
                         [](const ::testing::TestParamInfo<BackwardPath>& p) {
                           return std::string(backward_path_name(p.param));
                         });

// Every GEMM kernel of the fused path, on shapes with partial tiles in every dimension: m (pairs per
// expert not a multiple of 128), n (ffn 192 and 320: a 128- and a 256-wide tile cut short, hidden
// 192 likewise for the weight gradients) and idle experts. SmallCases is what compute-sanitizer runs.
TEST(GpuBackwardFused, SmallCases) {
  OCCULT_REQUIRE_GPU();
  for (const GemmKernel k : fused_kernels()) {
    check_backward(Case{129, 4, 16, 192, 320, 23}, nullptr, nullptr, &k);
    check_backward(Case{1, 1, 3, 64, 192, 25}, nullptr, nullptr, &k);
  }
}

TEST(GpuBackwardFused, LargerCases) {
  OCCULT_REQUIRE_GPU();
  for (const GemmKernel k : fused_kernels()) {
    check_backward(Case{700, 2, 8, 512, 256, 21}, nullptr, nullptr, &k);
    check_backward(Case{2048, 8, 64, 128, 64, 27}, nullptr, nullptr, &k);
    check_backward(Case{600, 1, 4, 128, 1408, 29}, nullptr, nullptr, &k);  // Qwen's ffn: 11 x 128
  }
}

// Deterministic: two runs (outputs poisoned in between, a different stream, another problem run
// between them so blocks land on other SMs in another order) give bitwise the same five outputs,
// for every GEMM kernel. Many rows per expert make the stable pair order matter: with atomic arrival
// order the weight-gradient sums would change between runs.
TEST(GpuBackwardFused, BitwiseTheSameOnEveryRun) {
  OCCULT_REQUIRE_GPU();
  const Case c{16384, 4, 16, 128, 192, 31};
  OnDevice dev(c, make_received(c));
  DeviceBuffer<char> ws(expert_ffn_backward_workspace_bytes(dev.recv, dev.ew, BackwardPath::Fused));
  cudaStream_t side = nullptr;
  cuda_ok(cudaStreamCreateWithFlags(&side, cudaStreamNonBlocking), "cudaStreamCreate");
  struct Outputs {
    std::vector<std::uint16_t> d_rows;
    std::vector<float> d_w, d_gate, d_up, d_down;
  };
  const auto run = [&](GemmKernel k, cudaStream_t stream) {
    poison(dev);
    expert_ffn_backward_fused(dev.recv, dev.ew, dev.dy.get(), dev.grads, ws.get(), stream, k);
    cuda_ok(cudaStreamSynchronize(stream), "backward");
    return Outputs{dev.d_rows.download(), dev.d_w.download(), dev.d_gate.download(), dev.d_up.download(),
                   dev.d_down.download()};
  };
  const auto same_bits = [](const auto& a, const auto& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])) == 0;
  };
  for (const GemmKernel k : fused_kernels()) {
    SCOPED_TRACE(to_string(k));
    const Outputs first = run(k, nullptr);
    check_backward(Case{300, 2, 8, 64, 64, 33}, nullptr, nullptr, &k);  // other work in between
    const Outputs second = run(k, side);
    EXPECT_TRUE(all_finite(first.d_w) && all_finite(first.d_gate) && all_finite(first.d_down));
    EXPECT_TRUE(same_bits(first.d_rows, second.d_rows)) << "d_rows";
    EXPECT_TRUE(same_bits(first.d_w, second.d_w)) << "d_weight";
    EXPECT_TRUE(same_bits(first.d_gate, second.d_gate)) << "d_gate";
    EXPECT_TRUE(same_bits(first.d_up, second.d_up)) << "d_up";
    EXPECT_TRUE(same_bits(first.d_down, second.d_down)) << "d_down";
  }
  cuda_ok(cudaStreamDestroy(side), "cudaStreamDestroy");
}

// Nothing in the fused path needs the host (no read-back, no synchronisation), so it captures into a
// CUDA graph; replays (outputs poisoned first) give bitwise the eager run's outputs.
TEST(GpuBackwardFused, CapturesInACudaGraph) {
  OCCULT_REQUIRE_GPU();
  const Case c{1000, 4, 16, 128, 192, 41};
  OnDevice dev(c, make_received(c));
  DeviceBuffer<char> ws(expert_ffn_backward_workspace_bytes(dev.recv, dev.ew, BackwardPath::Fused));
  const RecvView& recv = dev.recv;
  const ExpertWeights& ew = dev.ew;
  const ExpertGrads& grads = dev.grads;
  const DeviceBuffer<std::uint16_t>& dyd = dev.dy;
  DeviceBuffer<std::uint16_t>& d_rows = dev.d_rows;
  DeviceBuffer<float>&d_w = dev.d_w, &dg = dev.d_gate, &dd = dev.d_down;
  cudaStream_t s = nullptr;
  cuda_ok(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
  expert_ffn_backward(nullptr, BackwardPath::Fused, recv, ew, dyd.get(), grads, ws.get(), s);
  cuda_ok(cudaStreamSynchronize(s), "eager backward");
  const auto want_rows = d_rows.download();
  const auto want_gate = dg.download(), want_down = dd.download(), want_w = d_w.download();
  poison(dev);
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  cuda_ok(cudaStreamBeginCapture(s, cudaStreamCaptureModeRelaxed), "cudaStreamBeginCapture");
  try {
    expert_ffn_backward(nullptr, BackwardPath::Fused, recv, ew, dyd.get(), grads, ws.get(), s);
  } catch (const std::exception& e) {
    cudaStreamEndCapture(s, &graph);
    FAIL() << "capture: " << e.what();
  }
  cuda_ok(cudaStreamEndCapture(s, &graph), "cudaStreamEndCapture");
  cuda_ok(cudaGraphInstantiate(&exec, graph, 0), "cudaGraphInstantiate");
  for (int i = 0; i < 2; ++i) cuda_ok(cudaGraphLaunch(exec, s), "cudaGraphLaunch");
  cuda_ok(cudaStreamSynchronize(s), "graph backward");
  const auto got_rows = d_rows.download();
  const auto got_gate = dg.download(), got_down = dd.download(), got_w = d_w.download();
  EXPECT_EQ(std::memcmp(got_rows.data(), want_rows.data(), want_rows.size() * 2), 0) << "d_rows";
  EXPECT_EQ(std::memcmp(got_gate.data(), want_gate.data(), want_gate.size() * 4), 0) << "d_gate";
  EXPECT_EQ(std::memcmp(got_down.data(), want_down.data(), want_down.size() * 4), 0) << "d_down";
  EXPECT_EQ(std::memcmp(got_w.data(), want_w.data(), want_w.size() * 4), 0) << "d_weight";
  EXPECT_TRUE(all_finite(want_gate));
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cuda_ok(cudaStreamDestroy(s), "cudaStreamDestroy");
}

// OCCULT_BACKWARD_PATH picks the plain API's path (so the layer can run any), a bad name throws.
TEST(GpuBackward, EnvironmentPicksThePlainApiPath) {
  OCCULT_REQUIRE_GPU();
  const char* before = std::getenv("OCCULT_BACKWARD_PATH");
  const std::string saved = before ? before : "";
  setenv("OCCULT_BACKWARD_PATH", "fused", 1);
  EXPECT_EQ(default_backward_path(), BackwardPath::Fused);
  check_backward(Case{333, 4, 8, 128, 64, 35}, nullptr, nullptr);
  setenv("OCCULT_BACKWARD_PATH", "no_such_path", 1);
  EXPECT_THROW(default_backward_path(), InputError);
  if (before)
    setenv("OCCULT_BACKWARD_PATH", saved.c_str(), 1);
  else
    unsetenv("OCCULT_BACKWARD_PATH");
}

TEST(GpuBackward, PlainApiUsesTheDefaultPath) {
  OCCULT_REQUIRE_GPU();
  check_backward(Case{333, 4, 8, 128, 64, 17}, nullptr, nullptr);
  check_backward(Case{333, 1, 8, 128, 64, 19}, nullptr, nullptr);
}

TEST(GpuBackward, RejectsBadShapesAndMissingHandle) {
  OCCULT_REQUIRE_GPU();
  const RecvView recv{nullptr, nullptr, nullptr, 4, 1};
  EXPECT_THROW(expert_ffn_backward(recv, ExpertWeights{nullptr, nullptr, nullptr, 2, 100, 64}, nullptr,
                                   ExpertGrads{}, nullptr, nullptr),
               InputError);
  EXPECT_THROW(expert_ffn_backward(nullptr, BackwardPath::TensorCoreGrouped, recv,
                                   ExpertWeights{nullptr, nullptr, nullptr, 2, 64, 64}, nullptr,
                                   ExpertGrads{}, nullptr, nullptr),
               CudaError);
}

}  // namespace
}  // namespace occult::kernels::testing
