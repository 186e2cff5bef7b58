// CPU references of the MoE kernels: layout against the core model's plan, the dispatched
// pipeline against the direct layer, and the backward against finite differences.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "kernels/ref/moe_ref.hpp"
#include "kernels/ref/synthetic.hpp"
#include "sim/core/error.hpp"
#include "sim/core/plan.hpp"

namespace occult::ref {
namespace {

Experts random_experts(int count, int hidden, int ffn, std::uint64_t seed) {
  const std::size_t n = std::size_t(count) * std::size_t(hidden) * std::size_t(ffn);
  return Experts{random_bf16(n, 0.1f, seed),
                 random_bf16(n, 0.1f, seed + 1),
                 random_bf16(n, 0.1f, seed + 2),
                 count,
                 hidden,
                 ffn};
}

// The tokens of source device `src` (contiguous block) as a routing of their own.
Routing source_slice(const Routing& all, int src, int devices) {
  Routing r;
  r.top_k = all.top_k;
  for (std::int64_t t = 0; t < all.tokens; ++t) {
    if (source_device(t, all.tokens, devices) != src) continue;
    for (int j = 0; j < all.top_k; ++j) {
      r.experts.push_back(all.experts[std::size_t(t * all.top_k + j)]);
      r.weights.push_back(all.weights[std::size_t(t * all.top_k + j)]);
    }
    ++r.tokens;
  }
  return r;
}

TEST(RefBf16, RoundsToNearestEven) {
  EXPECT_EQ(to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(from_bf16(0x3f80), 1.0f);
  EXPECT_EQ(to_bf16(-2.5f), 0xc020);
  EXPECT_EQ(from_bf16(to_bf16(1.0f + 1.0f / 256.0f)), 1.0f);  // halfway rounds to even
  EXPECT_TRUE(std::isnan(from_bf16(to_bf16(NAN))));
}

TEST(RefLayout, CountsMatchBuildPlan) {
  for (Strategy mode : {Strategy::Standard, Strategy::Occult}) {
    for (auto [E, k, D] : {std::tuple{8, 2, 2}, {60, 4, 4}, {64, 8, 8}, {256, 8, 4}, {64, 6, 2}}) {
      const Routing all = synthetic_routing(301, E, k, E / 8, std::uint64_t(E * 100 + k));
      const auto device_of = contiguous_devices(E, D);
      LayerRouting lr;
      lr.top_k = k;
      lr.experts = all.experts;
      lr.weights = all.weights;
      LayerPlacement lp;
      lp.device_of = std::vector<int>(device_of.begin(), device_of.end());
      const CommPlan plan = build_plan(lr, E, lp, ClusterShape{D, D}, mode, 2);
      for (int src = 0; src < D; ++src) {
        const Layout l = layout(mode, source_slice(all, src, D), device_of, D);
        for (int dst = 0; dst < D; ++dst)
          EXPECT_EQ(l.send_counts[std::size_t(dst)], plan.stages[0].rows.at(src, dst))
              << "E=" << E << " k=" << k << " D=" << D << " src=" << src << " dst=" << dst;
      }
    }
  }
}

TEST(RefLayout, RowsAreDestinationOrderedAndDeduplicated) {
  const int E = 16, k = 4, D = 4;
  const Routing r = synthetic_routing(97, E, k, 3, 7);
  const auto device_of = contiguous_devices(E, D);
  for (Strategy mode : {Strategy::Standard, Strategy::Occult}) {
    const Layout l = layout(mode, r, device_of, D);
    std::int64_t expected_rows = 0;
    for (std::int64_t t = 0; t < r.tokens; ++t) {
      std::set<int> rows, devs;
      for (int j = 0; j < k; ++j) {
        const std::size_t p = std::size_t(t * k + j);
        const int row = l.pair_row[p], d = device_of[std::size_t(r.experts[p])];
        ASSERT_GE(row, l.send_offsets[std::size_t(d)]);
        ASSERT_LT(row, l.send_offsets[std::size_t(d) + 1]);
        EXPECT_EQ(l.row_token[std::size_t(row)], t);
        rows.insert(row);
        devs.insert(d);
      }
      EXPECT_EQ(rows.size(), mode == Strategy::Standard ? std::size_t(k) : devs.size());
      expected_rows += std::int64_t(rows.size());
    }
    EXPECT_EQ(l.total_rows(), expected_rows);
    for (int d = 0; d < D; ++d)  // token order inside each destination
      for (int i = l.send_offsets[std::size_t(d)] + 1; i < l.send_offsets[std::size_t(d) + 1]; ++i)
        EXPECT_LE(l.row_token[std::size_t(i) - 1], l.row_token[std::size_t(i)]) << i;
  }
}

TEST(RefLayout, DroppedChoicesGetNoRow) {
  Routing r{{0, -1, 3, 2}, {0.5f, 0.5f, 0.25f, 0.75f}, 2, 2};
  const Layout l = layout(Strategy::Occult, r, {0, 0, 1, 1}, 2);
  EXPECT_EQ(l.pair_row[1], -1);
  EXPECT_EQ(l.total_rows(), 2);  // token 0 -> device 0, token 1 -> device 1 once
  EXPECT_EQ(l.pair_row[2], l.pair_row[3]);
  EXPECT_EQ(l.pair_slot[3], 1);
}

TEST(RefLayout, RejectsBadIds) {
  Routing r{{0, 9}, {0.5f, 0.5f}, 1, 2};
  EXPECT_THROW(layout(Strategy::Standard, r, {0, 1}, 2), InputError);
  EXPECT_THROW(local_index_of({0, 3}, 2), InputError);
  EXPECT_THROW(layout(Strategy::Hierarchical, r, {0, 1}, 2), InputError);
}

// dispatch -> per-device expert FFN -> combine equals the layer computed directly, in both modes.
TEST(RefPipeline, DispatchedLayerEqualsDirectLayer) {
  const int E = 8, k = 3, D = 2, h = 16, f = 8;
  const Routing r = synthetic_routing(40, E, k, 2, 11);
  const auto device_of = contiguous_devices(E, D);
  const auto local = local_index_of(device_of, D);
  const Experts all = random_experts(E, h, f, 5);
  const auto x = random_bf16(std::size_t(r.tokens) * h, 1.0f, 3);
  const auto direct = moe_layer(x, h, r, all);
  for (Strategy mode : {Strategy::Standard, Strategy::Occult}) {
    const Layout l = layout(mode, r, device_of, D);
    const Packed p = pack(mode, x, h, r, local, l);
    std::vector<float> back(p.rows.size(), 0.0f);
    for (int d = 0; d < D; ++d) {  // each destination computes its block of rows
      const int lo = l.send_offsets[std::size_t(d)], n = l.send_counts[std::size_t(d)];
      Packed recv{
          std::vector<float>(p.rows.begin() + lo * h, p.rows.begin() + (lo + n) * h),
          std::vector<std::int32_t>(p.expert.begin() + lo * p.slots, p.expert.begin() + (lo + n) * p.slots),
          std::vector<float>(p.weight.begin() + lo * p.slots, p.weight.begin() + (lo + n) * p.slots),
          p.slots};
      const auto y = expert_ffn_forward(recv, n, slice_experts(all, d * E / D, E / D));
      std::copy(y.begin(), y.end(), back.begin() + lo * h);
    }
    EXPECT_LT(rel_frobenius(unpack_reduce(back, h, r, l), direct), 1e-6);
  }
}

// Gradients of L = sum(d_out * forward) against central finite differences (double-checked in fp32).
TEST(RefBackward, MatchesFiniteDifferences) {
  const int h = 6, f = 4, L = 2;
  Packed recv{random_bf16(3 * h, 1.0f, 21), {0, 1, -1, 1, 1, -1}, {0.6f, 0.4f, 0.0f, 1.0f, 0.3f, 0.0f}, 2};
  recv.expert = {0, 1, -1, -1, 1, 0};
  recv.weight = {0.6f, 0.4f, 1.0f, 0.0f, 0.3f, 0.7f};
  Experts w = random_experts(L, h, f, 31);
  for (float& v : w.gate) v *= 10.0f;  // pre-activations of order 1 exercise silu's curvature
  for (float& v : w.up) v *= 10.0f;
  const auto d_out = random_bf16(3 * h, 1.0f, 41);
  const auto loss = [&](const Packed& in, const Experts& ex) {
    const auto y = expert_ffn_forward(in, 3, ex);
    double s = 0;
    for (std::size_t i = 0; i < y.size(); ++i) s += double(y[i]) * double(d_out[i]);
    return s;
  };
  const ExpertGrads g = expert_ffn_backward(recv, 3, w, d_out);
  const float eps = 1e-2f;
  const auto check = [&](auto&& param, float analytic, const char* what) {
    float& v = param();
    const float keep = v;
    v = keep + eps;
    const double up = loss(recv, w);
    v = keep - eps;
    const double down = loss(recv, w);
    v = keep;
    EXPECT_NEAR(analytic, (up - down) / (2 * eps), 2e-3 + 2e-2 * std::fabs(analytic)) << what;
  };
  for (std::size_t i : {0u, 7u, 17u}) check([&]() -> float& { return recv.rows[i]; }, g.d_rows[i], "d_rows");
  for (std::size_t i : {0u, 1u, 4u, 5u})
    check([&]() -> float& { return recv.weight[i]; }, g.d_weight[i], "d_weight");
  for (std::size_t i : {0u, 13u, 30u}) {
    check([&]() -> float& { return w.gate[i]; }, g.d_gate[i], "d_gate");
    check([&]() -> float& { return w.up[i]; }, g.d_up[i], "d_up");
    check([&]() -> float& { return w.down[i]; }, g.d_down[i], "d_down");
  }
  EXPECT_EQ(g.d_weight[2], 0.0f);  // unused slot
}

}  // namespace
}  // namespace occult::ref
