#include "sim/core/trace_stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace occult {
namespace {

void load_skew(LayerStats& s) {
  const auto E = s.load.size();
  const double mean = double(std::accumulate(s.load.begin(), s.load.end(), std::int64_t(0))) / double(E);
  double var = 0;
  for (auto v : s.load) var += (double(v) - mean) * (double(v) - mean);
  s.load_cv = mean > 0 ? std::sqrt(var / double(E)) / mean : 0;
  s.load_max_over_mean = mean > 0 ? double(*std::max_element(s.load.begin(), s.load.end())) / mean : 0;
  s.unused_experts = int(std::count(s.load.begin(), s.load.end(), 0));
  // Least-squares slope of log(load) on log(rank) over the used experts.
  std::vector<std::int64_t> sorted(s.load);
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
  for (std::size_t r = 0; r < sorted.size() && sorted[r] > 0; ++r, ++n) {
    const double x = std::log(double(r + 1)), y = std::log(double(sorted[r]));
    sx += x, sy += y, sxx += x * x, sxy += x * y;
  }
  const double den = n * sxx - sx * sx;
  s.zipf_exponent = n >= 2 && den > 0 ? -(n * sxy - sx * sy) / den : 0;
}

void coactivation(const LayerRouting& r, int experts, int top_pairs, LayerStats& s) {
  const auto E = std::size_t(experts);
  std::vector<std::int64_t> count(E * E, 0);  // upper triangle used: [min * E + max]
  for (std::int64_t t = 0; t < r.tokens(); ++t) {
    auto ids = r.token_experts(t);
    for (std::size_t i = 0; i < ids.size(); ++i)
      for (std::size_t j = i + 1; j < ids.size(); ++j) {
        auto a = std::size_t(std::min(ids[i], ids[j])), b = std::size_t(std::max(ids[i], ids[j]));
        ++count[a * E + b];
      }
  }
  // Expected counts under independence are proportional to load_a * load_b; the scale is set so that
  // expected and observed totals agree, which removes the without-replacement bias of top-k.
  double observed = 0, load_products = 0;
  std::vector<ExpertPair> pairs;
  pairs.reserve(E * (E - 1) / 2);
  for (std::size_t a = 0; a < E; ++a)
    for (std::size_t b = a + 1; b < E; ++b) {
      observed += double(count[a * E + b]);
      load_products += double(s.load[a]) * double(s.load[b]);
      pairs.push_back({int(a), int(b), count[a * E + b], 0.0});
    }
  if (observed <= 0 || load_products <= 0) return;
  const double scale = observed / load_products;
  double weighted_lift = 0;
  for (auto& p : pairs) {
    const double expected = scale * double(s.load[std::size_t(p.a)]) * double(s.load[std::size_t(p.b)]);
    p.lift = expected > 0 ? double(p.count) / expected : 0;
    weighted_lift += double(p.count) * p.lift;
  }
  s.mean_lift = weighted_lift / observed;
  auto by_count = [](const ExpertPair& x, const ExpertPair& y) {
    return x.count != y.count ? x.count > y.count : (x.a != y.a ? x.a < y.a : x.b < y.b);
  };
  const std::size_t top10 = std::max<std::size_t>(1, (pairs.size() + 9) / 10);
  const std::size_t keep = std::max(top10, std::min(pairs.size(), std::size_t(std::max(0, top_pairs))));
  std::partial_sort(pairs.begin(), pairs.begin() + std::ptrdiff_t(std::min(keep, pairs.size())), pairs.end(),
                    by_count);
  double top = 0;
  for (std::size_t i = 0; i < top10 && i < pairs.size(); ++i) top += double(pairs[i].count);
  s.top10_pair_share = top / observed;
  pairs.resize(std::min(pairs.size(), std::size_t(std::max(0, top_pairs))));
  s.top_pairs = std::move(pairs);
  s.has_pairs = true;
}

}  // namespace

LayerStats layer_stats(const LayerRouting& routing, int experts, int top_pairs) {
  LayerStats s;
  s.layer = routing.layer;
  s.tokens = routing.tokens();
  s.load.assign(std::size_t(experts), 0);
  for (auto e : routing.experts) ++s.load[std::size_t(e)];
  load_skew(s);
  if (experts <= kMaxPairExperts && routing.top_k >= 2) coactivation(routing, experts, top_pairs, s);
  return s;
}

TraceStats trace_stats(const Trace& trace, int top_pairs) {
  TraceStats st;
  st.experts = trace.num_experts;
  st.top_k = trace.top_k;
  for (const auto& l : trace.layers) {
    st.layers.push_back(layer_stats(l, trace.num_experts, top_pairs));
    const auto& s = st.layers.back();
    st.tokens += s.tokens;
    st.load_max_over_mean += s.load_max_over_mean;
    st.load_max_over_mean_max = std::max(st.load_max_over_mean_max, s.load_max_over_mean);
    st.load_cv += s.load_cv;
    st.zipf_exponent += s.zipf_exponent;
    st.top10_pair_share += s.top10_pair_share;
    st.mean_lift += s.mean_lift;
    st.has_pairs = s.has_pairs;
  }
  if (const auto n = double(st.layers.size()); n > 0) {
    for (double* v :
         {&st.load_max_over_mean, &st.load_cv, &st.zipf_exponent, &st.top10_pair_share, &st.mean_lift})
      *v /= n;
  }
  return st;
}

std::vector<int> load_histogram(const std::vector<std::int64_t>& load, double width, int bins) {
  std::vector<int> h(std::size_t(std::max(bins, 1)), 0);
  if (load.empty()) return h;
  const double mean =
      double(std::accumulate(load.begin(), load.end(), std::int64_t(0))) / double(load.size());
  for (auto v : load) {
    const double rel = mean > 0 ? double(v) / mean : 0;
    const auto bin = std::min<std::size_t>(h.size() - 1, std::size_t(rel / width));
    ++h[bin];
  }
  return h;
}

}  // namespace occult
