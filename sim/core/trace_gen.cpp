#include "sim/core/trace_gen.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <span>
#include <sstream>
#include <vector>

#include "sim/core/error.hpp"

namespace occult {
namespace {

constexpr int kMaxTopK = 1024;

// splitmix64: tiny, fast and fully specified, so traces are identical on every platform and standard
// library (std::*_distribution output is implementation-defined).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  std::size_t below(std::size_t n) { return std::min(n - 1, std::size_t(uniform() * double(n))); }

 private:
  std::uint64_t s_;
};

template <class T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

// Draws from a fixed discrete distribution (cumulative weights + binary search).
class Sampler {
 public:
  Sampler(std::vector<int> items, const std::vector<double>& weight) : items_(std::move(items)) {
    double acc = 0;
    for (int e : items_) cum_.push_back(acc += weight[std::size_t(e)]);
  }
  int draw(Rng& rng) const {
    const double u = rng.uniform() * cum_.back();
    // std::upper_bound without branches (the generator's hot loop: the comparisons are unpredictable):
    // find the last entry <= u, then step past it.
    const double* base = cum_.data();
    for (std::size_t n = cum_.size(); n > 1; n -= n / 2) base += base[n / 2] <= u ? n / 2 : 0;
    const auto i = std::size_t(base - cum_.data()) + (*base <= u ? 1 : 0);
    return items_[std::min(i, items_.size() - 1)];
  }
  // Exact draw among the items not in `taken`; used when rejection keeps hitting chosen experts
  // (k close to the group or expert count). Returns -1 when every item is taken.
  int draw_excluding(Rng& rng, std::span<const std::int32_t> taken) const {
    double total = 0;
    for (std::size_t i = 0; i < items_.size(); ++i)
      if (!contains(taken, items_[i])) total += mass(i);
    if (total <= 0) return -1;
    double u = rng.uniform() * total;
    int last = -1;
    for (std::size_t i = 0; i < items_.size(); ++i) {
      if (contains(taken, items_[i])) continue;
      last = items_[i];
      if ((u -= mass(i)) < 0) return last;
    }
    return last;  // rounding left u >= 0 after the last free item
  }
  int draw_distinct(Rng& rng, std::span<const std::int32_t> taken) const {
    for (int attempt = 0; attempt < 32; ++attempt) {
      int e = draw(rng);
      if (!contains(taken, e)) return e;
    }
    return draw_excluding(rng, taken);
  }
  static bool contains(std::span<const std::int32_t> s, int e) {
    return std::find(s.begin(), s.end(), e) != s.end();
  }

 private:
  double mass(std::size_t i) const { return cum_[i] - (i > 0 ? cum_[i - 1] : 0.0); }

  std::vector<int> items_;
  std::vector<double> cum_;
};

std::uint64_t layer_seed(std::uint64_t seed, int layer) {
  Rng mix(seed ^ (0xD1B54A32D192ED03ull * (std::uint64_t(std::uint32_t(layer)) + 1)));
  return mix.next();
}

}  // namespace

void validate_gen_params(const TraceGenParams& p) {
  auto need = [](bool ok, const char* field, const std::string& msg) {
    if (!ok) throw InputError("", 0, field, msg);
  };
  need(p.experts > 0 && p.experts <= (1 << 20), "experts", "must be in [1, 1048576]");
  need(p.top_k > 0 && p.top_k <= p.experts && p.top_k <= kMaxTopK, "top-k", "must be in [1, experts]");
  need(p.tokens > 0 && p.tokens <= (std::int64_t(1) << 40) / p.top_k, "tokens",
       "must be positive (and fit in memory)");
  need(p.layers > 0 && p.layers <= 100000, "layers", "must be in [1, 100000]");
  need(std::isfinite(p.skew) && p.skew >= 0 && p.skew <= 10, "skew", "Zipf exponent must be in [0, 10]");
  need(std::isfinite(p.affinity) && p.affinity >= 0 && p.affinity <= 1, "affinity",
       "probability must be in [0, 1]");
  need(p.groups >= 0 && p.groups <= p.experts, "groups", "must be in [0, experts] (0 = experts / top-k)");
  need(std::isfinite(p.gate_temperature) && p.gate_temperature > 0, "gate-temperature", "must be positive");
}

LayerRouting generate_layer(const TraceGenParams& p, int layer) {
  LayerRouting out;
  generate_layer_into(p, layer, out);
  return out;
}

void generate_layer_into(const TraceGenParams& p, int layer, LayerRouting& out) {
  validate_gen_params(p);
  const auto E = std::size_t(p.experts);
  const auto k = std::size_t(p.top_k);
  Rng rng(layer_seed(p.seed, layer));

  // Popularity: Zipf over ranks, ranks dealt to experts by a per-layer permutation (real models have
  // different hot experts in every layer).
  std::vector<int> by_rank(E);
  std::iota(by_rank.begin(), by_rank.end(), 0);
  shuffle(by_rank, rng);
  std::vector<double> weight(E);
  for (std::size_t r = 0; r < E; ++r) weight[std::size_t(by_rank[r])] = std::pow(double(r + 1), -p.skew);

  // Co-activation groups: a random partition, independent of popularity and of expert ids, so that
  // contiguous placement gains nothing by accident and placement algorithms must find the groups.
  const auto G = std::size_t(p.effective_groups());
  std::vector<int> members(E);
  std::iota(members.begin(), members.end(), 0);
  shuffle(members, rng);
  std::vector<Sampler> group_sampler;
  std::vector<std::size_t> group_of(E);
  group_sampler.reserve(G);
  for (std::size_t g = 0; g < G; ++g) {
    std::vector<int> items(members.begin() + std::ptrdiff_t(g * E / G),
                           members.begin() + std::ptrdiff_t((g + 1) * E / G));
    for (int e : items) group_of[std::size_t(e)] = g;
    group_sampler.emplace_back(std::move(items), weight);
  }
  std::vector<int> all(E);
  std::iota(all.begin(), all.end(), 0);
  const Sampler global(std::move(all), weight);

  out.layer = layer;
  out.top_k = p.top_k;
  out.experts.resize(std::size_t(p.tokens) * k);
  out.weights.resize(std::size_t(p.tokens) * k);
  std::array<double, kMaxTopK> logits{};
  for (std::int64_t t = 0; t < p.tokens; ++t) {
    std::int32_t* ids = out.experts.data() + std::size_t(t) * k;
    ids[0] = global.draw(rng);
    const Sampler& home = group_sampler[group_of[std::size_t(ids[0])]];
    for (std::size_t j = 1; j < k; ++j) {
      std::span<const std::int32_t> taken(ids, j);
      int e = -1;
      if (rng.uniform() < p.affinity) e = home.draw_distinct(rng, taken);
      if (e < 0) e = global.draw_distinct(rng, taken);
      ids[j] = e;
    }
    // Gate weights: softmax of sorted Gumbel logits, so the first-chosen expert weighs most.
    double top = -1e300, sum = 0;
    for (std::size_t j = 0; j < k; ++j) {
      logits[j] = -std::log(-std::log(std::max(rng.uniform(), 1e-300))) / p.gate_temperature;
      top = std::max(top, logits[j]);
    }
    std::sort(logits.begin(), logits.begin() + std::ptrdiff_t(k), std::greater<>());
    for (std::size_t j = 0; j < k; ++j) sum += (logits[j] = std::exp(logits[j] - top));
    float* w = out.weights.data() + std::size_t(t) * k;
    for (std::size_t j = 0; j < k; ++j) w[j] = float(logits[j] / sum);
  }
}

std::string describe_gen_params(const TraceGenParams& p) {
  std::ostringstream s;
  s << "gen experts=" << p.experts << " top_k=" << p.top_k << " tokens=" << p.tokens << " layers=" << p.layers
    << " skew=" << p.skew << " affinity=" << p.affinity << " groups=" << p.effective_groups()
    << " gate_temperature=" << p.gate_temperature << " seed=" << p.seed;
  return s.str();
}

Trace generate_trace(const TraceGenParams& p, const std::function<void(int)>& on_layer) {
  validate_gen_params(p);
  Trace t;
  t.num_experts = p.experts;
  t.top_k = p.top_k;
  t.model = p.model;
  t.source = describe_gen_params(p);
  t.layers.reserve(std::size_t(p.layers));
  for (int l = 0; l < p.layers; ++l) {
    t.layers.push_back(generate_layer(p, l));
    if (on_layer) on_layer(l);
  }
  return t;
}

}  // namespace occult
