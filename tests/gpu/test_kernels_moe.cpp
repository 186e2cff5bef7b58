// GPU kernels against the fp32 CPU references: layout and pack exactly, the whole layer (standard
// and occult, every destination simulated on one GPU) within bf16 tolerance, the cuBLAS path (the
// backward: test_kernels_backward.cpp). Inputs are random (never zeros), outputs are poisoned first.
#include <gtest/gtest.h>

#include <cublas_v2.h>

#include <algorithm>
#include <cmath>

#include "kernels/expert_ffn_cublas.hpp"
#include "kernels/expert_gemm_choice.hpp"
#include "kernels/moe_kernels.hpp"
#include "kernels/ref/synthetic.hpp"
#include "sim/core/error.hpp"
#include "tests/gpu/kernel_test_support.hpp"

namespace occult::kernels::testing {
namespace {

constexpr double kTol = 1e-2;  // relative Frobenius error, bf16 data and fp32 accumulation

ref::Experts random_experts(int count, int hidden, int ffn, std::uint64_t seed) {
  const std::size_t n = std::size_t(count) * std::size_t(hidden) * std::size_t(ffn);
  // Scales keep activations O(1) whatever the sizes, so bf16 rounding stays relative.
  const float s_in = 2.0f / std::sqrt(float(hidden)), s_out = 2.0f / std::sqrt(float(ffn));
  return ref::Experts{ref::random_bf16(n, s_in, seed),
                      ref::random_bf16(n, s_in, seed + 1),
                      ref::random_bf16(n, s_out, seed + 2),
                      count,
                      hidden,
                      ffn};
}

// Device copies of one routing + placement, with the layout buffers (poisoned).
struct DeviceLayer {
  DeviceBuffer<std::int32_t> experts, device_of, local_index;
  DeviceBuffer<float> weights;
  DeviceBuffer<std::int32_t> counts, offsets, pair_row, pair_slot, row_token;
  DeviceBuffer<char> ws;
  RoutingView routing;
  PlacementView placement;
  Layout layout;

  DeviceLayer(const ref::Routing& r, const std::vector<std::int32_t>& dev, int devices)
      : experts(r.experts),
        device_of(dev),
        local_index(ref::local_index_of(dev, devices)),
        weights(r.weights),
        counts(std::size_t(devices)),
        offsets(std::size_t(devices) + 1),
        pair_row(r.experts.size()),
        pair_slot(r.experts.size()),
        row_token(r.experts.size()),
        ws(layout_workspace_bytes(r.tokens, devices)) {
    routing = RoutingView{experts.get(), weights.get(), r.tokens, r.top_k};
    placement = PlacementView{device_of.get(), local_index.get(), int(dev.size()), devices};
    layout = Layout{counts.get(), offsets.get(), pair_row.get(), pair_slot.get(), row_token.get()};
  }
};

DispatchMode to_mode(Strategy s) {
  return s == Strategy::Standard ? DispatchMode::Standard : DispatchMode::Occult;
}

// Runs layout -> pack -> per-destination expert FFN -> unpack on one GPU and checks every stage.
// Returns the layer output.
std::vector<float> run_layer(Strategy mode, const ref::Routing& r, int E, int D, int h, int f,
                             const ref::Experts& all, const std::vector<float>& x) {
  const auto dev = ref::contiguous_devices(E, D);
  DeviceLayer d(r, dev, D);
  compute_layout(to_mode(mode), d.routing, d.placement, d.layout, d.ws.get(), nullptr);
  const ref::Layout want = ref::layout(mode, r, dev, D);
  const int total = want.total_rows();
  EXPECT_EQ(d.counts.download(), want.send_counts);
  EXPECT_EQ(d.offsets.download(), want.send_offsets);
  EXPECT_EQ(d.pair_row.download(), want.pair_row);
  EXPECT_EQ(d.pair_slot.download(), want.pair_slot);
  EXPECT_EQ(d.row_token.download(std::size_t(total)), want.row_token);

  const int slots = meta_slots(to_mode(mode), r.top_k);
  DeviceBuffer<std::uint16_t> xd(to_bf16(x)), rows(std::size_t(total) * std::size_t(h));
  DeviceBuffer<std::int32_t> meta_e(std::size_t(total) * std::size_t(slots));
  DeviceBuffer<float> meta_w(std::size_t(total) * std::size_t(slots));
  pack_rows(to_mode(mode), xd.get(), h, d.routing, d.placement, d.layout,
            SendBuffers{rows.get(), meta_e.get(), meta_w.get()}, nullptr);
  const ref::Packed packed = ref::pack(mode, x, h, r, ref::local_index_of(dev, D), want);
  EXPECT_EQ(from_bf16(rows.download()), packed.rows);
  EXPECT_EQ(meta_e.download(), packed.expert);
  EXPECT_EQ(meta_w.download(), packed.weight);

  // Each destination computes its slice of the send buffer (on one GPU the exchange is the identity).
  const ref::Experts bf = all;
  DeviceBuffer<std::uint16_t> gate(to_bf16(bf.gate)), up(to_bf16(bf.up)), down(to_bf16(bf.down));
  DeviceBuffer<std::uint16_t> back(std::size_t(total) * std::size_t(h));
  const int L = E / D;
  const std::size_t fh = std::size_t(f) * std::size_t(h);
  for (int dst = 0; dst < D; ++dst) {
    const int lo = want.send_offsets[std::size_t(dst)], n = want.send_counts[std::size_t(dst)];
    const RecvView recv{rows.get() + std::size_t(lo) * h, meta_e.get() + std::size_t(lo) * slots,
                        meta_w.get() + std::size_t(lo) * slots, n, slots};
    const ExpertWeights w{gate.get() + std::size_t(dst) * L * fh,
                          up.get() + std::size_t(dst) * L * fh,
                          down.get() + std::size_t(dst) * L * fh,
                          L,
                          h,
                          f};
    DeviceBuffer<char> ws(expert_ffn_workspace_bytes(recv, w));
    expert_ffn_forward(recv, w, back.get() + std::size_t(lo) * h, ws.get(), nullptr);
  }
  DeviceBuffer<std::uint16_t> out(std::size_t(r.tokens) * std::size_t(h));
  unpack_reduce(back.get(), h, r.tokens, r.top_k, d.layout, out.get(), nullptr);
  cuda_ok(cudaDeviceSynchronize(), "layer");
  return from_bf16(out.download());
}

void check_layer(int E, int k, int D, std::int64_t tokens, int h, int f) {
  SCOPED_TRACE("E=" + std::to_string(E) + " k=" + std::to_string(k) + " D=" + std::to_string(D) +
               " tokens=" + std::to_string(tokens) + " h=" + std::to_string(h) + " f=" + std::to_string(f));
  const int idle = std::min(E / 8, E - k);  // experts that receive no token
  const ref::Routing r = ref::synthetic_routing(tokens, E, k, idle, std::uint64_t(E * 1000 + k * 10 + D));
  const ref::Experts all = random_experts(E, h, f, 17);
  const auto x = ref::random_bf16(std::size_t(tokens) * std::size_t(h), 1.0f, 5);
  const auto want = ref::moe_layer(x, h, r, all);
  const auto standard = run_layer(Strategy::Standard, r, E, D, h, f, all, x);
  const auto occult = run_layer(Strategy::Occult, r, E, D, h, f, all, x);
  ASSERT_TRUE(all_finite(standard));
  ASSERT_TRUE(all_finite(occult));
  EXPECT_LT(ref::rel_frobenius(standard, want), kTol);
  EXPECT_LT(ref::rel_frobenius(occult, want), kTol);
  EXPECT_LT(ref::rel_frobenius(occult, standard), kTol);
}

TEST(GpuLayer, TopKAndExpertCountSweep) {
  OCCULT_REQUIRE_GPU();
  for (int E : {8, 60, 64, 256})
    for (int k : {1, 2, 4, 6, 8}) check_layer(E, k, E == 60 ? 4 : (E == 8 ? 2 : 8), 300, 64, 64);
}

TEST(GpuLayer, TokenCountsFromOneTo16K) {
  OCCULT_REQUIRE_GPU();
  for (std::int64_t tokens : {1, 2, 129, 4096}) check_layer(64, 8, 8, tokens, 64, 64);
  check_layer(256, 8, 4, 16384, 64, 64);
  check_layer(8, 2, 1, 16384, 64, 64);  // one device: every row local, all experts busy
}

TEST(GpuLayer, ModelShapes) {
  OCCULT_REQUIRE_GPU();
  check_layer(8, 2, 2, 700, 512, 256);   // several n- and k-tiles, partial m-tiles
  check_layer(8, 4, 2, 96, 2048, 1024);  // OLMoE expert shape (few experts keep the CPU reference fast)
  check_layer(8, 2, 2, 64, 2048, 1408);  // Qwen1.5-MoE expert shape
}

// Every GEMM kernel (forced) and the automatic choice against the reference, beside the cuBLAS path.
TEST(GpuExpertFfn, MatchesCublasPath) {
  OCCULT_REQUIRE_GPU();
  const int L = 6;
  std::vector<GemmKernel> kernels{GemmKernel::Auto, GemmKernel::Mma128, GemmKernel::Mma256};
  if (wgmma_available()) kernels.insert(kernels.end(), {GemmKernel::Wgmma128, GemmKernel::Wgmma256});
  struct Case {
    int slots;
    std::int64_t rows;
    int h, f;
  };
  std::vector<GemmKernel> auto_picks;  // what Auto ran, so the sanitizer runs are known to cover wgmma
  // Partial m-tiles, partial 256-wide n-tiles (2 f = 384, 640), one k-tile (h = 64), K ring wrap-around.
  for (const Case c : {Case{1, 333, 256, 192}, Case{4, 333, 256, 192}, Case{1, 7000, 256, 192},
                       Case{4, 3000, 256, 192}, Case{2, 600, 64, 320}}) {
    const int slots = c.slots, h = c.h, f = c.f;
    const std::int64_t rows = c.rows;
    std::vector<std::int32_t> ex(std::size_t(rows * slots), -1);
    std::vector<float> wt(ex.size(), 0.0f);
    const auto u = ref::random_bf16(ex.size(), 1.0f, 9);
    for (std::size_t i = 0; i < ex.size(); ++i) {
      if (i % std::size_t(slots) == 0 || u[i] > 0.2f)
        ex[i] = std::int32_t((i * 7 + std::size_t(u[i] * 100 + 100)) % 5);  // expert 5 idle
      wt[i] = ex[i] >= 0 ? 0.5f + 0.25f * u[i] : 0.0f;
    }
    const ref::Experts w = random_experts(L, h, f, 23);
    const auto x = ref::random_bf16(std::size_t(rows) * h, 1.0f, 29);
    DeviceBuffer<std::uint16_t> xd(to_bf16(x)), gate(to_bf16(w.gate)), up(to_bf16(w.up)),
        down(to_bf16(w.down));
    DeviceBuffer<std::int32_t> exd(ex);
    DeviceBuffer<float> wtd(wt);
    const RecvView recv{xd.get(), exd.get(), wtd.get(), rows, slots};
    const ExpertWeights ew{gate.get(), up.get(), down.get(), L, h, f};
    DeviceBuffer<char> ws(
        std::max(expert_ffn_workspace_bytes(recv, ew), expert_ffn_cublas_workspace_bytes(recv, ew)));
    auto_picks.push_back(choose_gemm_kernel(recv, ew));
    const ref::Packed p{x, ex, wt, slots};
    const auto want = ref::expert_ffn_forward(p, rows, w);
    for (const GemmKernel k : kernels) {
      DeviceBuffer<std::uint16_t> ours(std::size_t(rows) * h);  // poisoned (NaN)
      expert_ffn_forward(recv, ew, ours.get(), ws.get(), nullptr, k);
      cuda_ok(cudaDeviceSynchronize(), "ffn");
      const auto a = from_bf16(ours.download());
      ASSERT_TRUE(all_finite(a)) << to_string(k) << " slots " << slots << " rows " << rows;
      EXPECT_LT(ref::rel_frobenius(a, want), kTol) << to_string(k) << " slots " << slots << " rows " << rows;
    }
    DeviceBuffer<std::uint16_t> lib(std::size_t(rows) * h);
    cublasHandle_t handle = nullptr;
    ASSERT_EQ(cublasCreate(&handle), CUBLAS_STATUS_SUCCESS);
    expert_ffn_forward_cublas(handle, recv, ew, lib.get(), ws.get(), nullptr);
    cublasDestroy(handle);
    cuda_ok(cudaDeviceSynchronize(), "ffn cublas");
    const auto b = from_bf16(lib.download());
    ASSERT_TRUE(all_finite(b));
    EXPECT_LT(ref::rel_frobenius(b, want), kTol) << "cublas slots " << slots << " rows " << rows;
  }
  // On sm_90 the automatic choice must be wgmma, both tile widths across these cases (the layer tests
  // run Auto too, so they exercise wgmma there); elsewhere mma.sync.
  const auto picked = [&](GemmKernel k) { return std::count(auto_picks.begin(), auto_picks.end(), k) > 0; };
  if (wgmma_available()) {
    EXPECT_TRUE(picked(GemmKernel::Wgmma128) && picked(GemmKernel::Wgmma256));
    EXPECT_FALSE(picked(GemmKernel::Mma128) || picked(GemmKernel::Mma256));
  } else {
    EXPECT_FALSE(picked(GemmKernel::Wgmma128) || picked(GemmKernel::Wgmma256));
  }
}

TEST(GpuUnpack, WeightGradientsReturnToSourceOrder) {
  OCCULT_REQUIRE_GPU();
  const ref::Routing r = ref::synthetic_routing(50, 16, 4, 2, 3);
  const auto dev = ref::contiguous_devices(16, 4);
  for (Strategy mode : {Strategy::Standard, Strategy::Occult}) {
    DeviceLayer d(r, dev, 4);
    compute_layout(to_mode(mode), d.routing, d.placement, d.layout, d.ws.get(), nullptr);
    const ref::Layout l = ref::layout(mode, r, dev, 4);
    const int slots = meta_slots(to_mode(mode), r.top_k);
    const auto back = ref::random_bf16(std::size_t(l.total_rows()) * std::size_t(slots), 1.0f, 13);
    DeviceBuffer<float> backd(back), out(r.experts.size());
    unpack_weight_grad(backd.get(), slots, r.tokens, r.top_k, d.layout, out.get(), nullptr);
    const auto got = out.download();
    for (std::size_t p = 0; p < got.size(); ++p)
      EXPECT_EQ(got[p], back[std::size_t(l.pair_row[p]) * std::size_t(slots) + std::size_t(l.pair_slot[p])]);
  }
}

TEST(GpuKernels, RejectBadShapes) {
  OCCULT_REQUIRE_GPU();
  const RecvView recv{nullptr, nullptr, nullptr, 4, 1};
  EXPECT_THROW(expert_ffn_forward(recv, ExpertWeights{nullptr, nullptr, nullptr, 2, 100, 64}, nullptr,
                                  nullptr, nullptr),
               InputError);
  EXPECT_THROW(
      expert_ffn_forward(RecvView{nullptr, nullptr, nullptr, 4, 0},
                         ExpertWeights{nullptr, nullptr, nullptr, 2, 64, 64}, nullptr, nullptr, nullptr),
      InputError);
  EXPECT_THROW(compute_layout(DispatchMode::Occult, RoutingView{nullptr, nullptr, 4, 0},
                              PlacementView{nullptr, nullptr, 8, 2}, Layout{}, nullptr, nullptr),
               InputError);
  EXPECT_THROW(pack_rows_only(nullptr, 12, RoutingView{nullptr, nullptr, 4, 2}, Layout{}, nullptr, nullptr),
               InputError);
}

}  // namespace
}  // namespace occult::kernels::testing
