#include "kernels/ref/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "sim/core/error.hpp"

namespace occult::ref {

Routing synthetic_routing(std::int64_t tokens, int experts, int top_k, int idle_experts, std::uint64_t seed) {
  if (top_k < 1 || top_k > experts - idle_experts)
    throw InputError("", 0, "top_k", "needs 1 <= top_k <= experts - idle_experts");
  std::mt19937_64 rng(seed);
  std::vector<int> order(static_cast<std::size_t>(experts));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<double> popularity(std::size_t(experts), 0.0);
  for (int i = 0; i < experts - idle_experts; ++i)
    popularity[std::size_t(order[std::size_t(i)])] = 1.0 / (1.0 + i);
  Routing r;
  r.tokens = tokens;
  r.top_k = top_k;
  r.experts.resize(std::size_t(tokens) * std::size_t(top_k));
  r.weights.resize(r.experts.size());
  std::uniform_real_distribution<float> u(0.05f, 1.0f);
  for (std::int64_t t = 0; t < tokens; ++t) {
    std::vector<double> p = popularity;
    float sum = 0;
    for (int j = 0; j < top_k; ++j) {
      std::discrete_distribution<int> pick(p.begin(), p.end());
      const int e = pick(rng);
      p[std::size_t(e)] = 0.0;  // distinct experts per token
      const std::size_t idx = std::size_t(t) * std::size_t(top_k) + std::size_t(j);
      r.experts[idx] = e;
      r.weights[idx] = u(rng);
      sum += r.weights[idx];
    }
    for (int j = 0; j < top_k; ++j) r.weights[std::size_t(t) * std::size_t(top_k) + std::size_t(j)] /= sum;
  }
  return r;
}

std::vector<float> random_bf16(std::size_t n, float scale, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return round_bf16(std::move(v));
}

std::vector<std::int32_t> contiguous_devices(int experts, int devices) {
  if (devices < 1 || experts % devices != 0)
    throw InputError("", 0, "devices", "must divide the expert count");
  std::vector<std::int32_t> d(static_cast<std::size_t>(experts));
  for (int e = 0; e < experts; ++e) d[std::size_t(e)] = e / (experts / devices);
  return d;
}

Experts slice_experts(const Experts& all, int first, int count) {
  const std::size_t fh = std::size_t(all.ffn) * std::size_t(all.hidden);
  const auto cut = [&](const std::vector<float>& v) {
    return std::vector<float>(v.begin() + std::ptrdiff_t(std::size_t(first) * fh),
                              v.begin() + std::ptrdiff_t(std::size_t(first + count) * fh));
  };
  return Experts{cut(all.gate), cut(all.up), cut(all.down), count, all.hidden, all.ffn};
}

}  // namespace occult::ref
