#include "sim/place/trace_placer.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>

#include "sim/core/error.hpp"
#include "sim/core/metrics.hpp"
#include "sim/place/layer_placer.hpp"
#include "sim/place/token_sets.hpp"

namespace occult::place {
namespace {

void check_fraction(double f) {
  if (!(f > 0.0 && f <= 1.0)) throw InputError("", 0, "profile-fraction", "must be in (0, 1]");
}

LayerRouting slice(const LayerRouting& r, std::int64_t begin, std::int64_t end) {
  LayerRouting s;
  s.layer = r.layer;
  s.top_k = r.top_k;
  const auto k = std::ptrdiff_t(r.top_k);
  s.experts.assign(r.experts.begin() + begin * k, r.experts.begin() + end * k);
  if (!r.weights.empty()) s.weights.assign(r.weights.begin() + begin * k, r.weights.begin() + end * k);
  return s;
}

nlohmann::json summary(const std::vector<LayerMetrics>& layers) {
  const auto all = aggregate_layers(layers);
  double imbalance_sum = 0;
  for (const auto& m : layers) imbalance_sum += m.load_imbalance;
  return {{"tokens", all.tokens},
          {"ct_standard", all.ct_standard},
          {"ct_occult", all.ct_occult},
          {"ct_node", all.ct_node},
          {"remote_ct_occult", all.remote_ct_occult},
          {"remote_ct_node", all.remote_ct_node},
          {"intra_ratio", all.intra_ratio},
          {"load_imbalance_max", all.load_imbalance},
          {"load_imbalance_mean", layers.empty() ? 0.0 : imbalance_sum / double(layers.size())}};
}

}  // namespace

std::int64_t profile_tokens(std::int64_t tokens, double profile_fraction) {
  check_fraction(profile_fraction);
  return std::clamp<std::int64_t>(std::llround(profile_fraction * double(tokens)),
                                  std::min<std::int64_t>(1, tokens), tokens);
}

namespace {

// Runs fn(l) for every layer, `jobs` layers at a time on threads, each result in its own slot; the first
// exception is rethrown after the workers stop. progress(done) is serialised.
void for_each_layer(std::size_t layers, int jobs, const std::function<void(std::size_t)>& fn,
                    const std::function<void(std::size_t)>& progress = {}) {
  std::atomic<std::size_t> next{0};
  std::size_t done = 0;
  std::mutex mu;
  std::exception_ptr failure;
  auto worker = [&] {
    for (std::size_t l; (l = next++) < layers;) {
      try {
        fn(l);
      } catch (...) {
        std::lock_guard lock(mu);
        if (!failure) failure = std::current_exception();
        next = layers;
        return;
      }
      std::lock_guard lock(mu);
      if (progress) progress(++done);
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < std::min<int>(jobs, int(layers)); ++j) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
}

std::uint64_t layer_seed(const PlaceOptions& o, std::size_t l) { return o.seed * 1000003ull + l; }

// Profiles shorter than this are not split for validating the recent weight (too few tokens to score).
constexpr std::int64_t kMinValidationProfile = 8;

// Sum over layers of the tokens' destination-device counts on the second half of each layer's profile,
// with each layer placed from the first half only (options.recent_weight fixed): the profile/holdout
// split itself, one level down.
std::int64_t validation_cost(const Trace& trace, const PlaceOptions& o, double profile_fraction, int jobs) {
  std::vector<std::int64_t> cost(trace.layers.size(), 0);
  for_each_layer(trace.layers.size(), jobs, [&](std::size_t l) {
    const auto& r = trace.layers[l];
    const auto cut = profile_tokens(r.tokens(), profile_fraction);
    if (cut < kMinValidationProfile) return;
    const auto fit_end = cut / 2;
    const auto ts = make_token_sets(r, trace.num_experts, 0, fit_end, o.recent_weight);
    const auto lp = place_layer(ts, o, layer_seed(o, l)).placement;
    const auto m = analyze_layer(slice(r, fit_end, cut), lp, o.shape, 1);
    cost[l] = std::llround(m.ct_occult * double(m.tokens));
  });
  std::int64_t sum = 0;
  for (auto c : cost) sum += c;
  return sum;
}

}  // namespace

const std::vector<int>& recent_weight_candidates() {
  static const std::vector<int> w = {1, 2, 3, 4, 6, 8};
  return w;
}

Placement place_trace(const Trace& trace, const PlaceOptions& options, double profile_fraction,
                      const std::function<void(std::size_t)>& progress, int jobs) {
  check_fraction(profile_fraction);
  validate_options(options, trace.num_experts);
  if (trace.layers.empty()) throw InputError("", 0, "trace", "has no layers");
  if (jobs < 1) throw InputError("", 0, "jobs", "must be >= 1");
  for (std::size_t l = 0; l < trace.layers.size(); ++l)
    if (trace.layers[l].tokens() < 1)
      throw InputError("", 0, "layers[" + std::to_string(l) + "]", "has no tokens to profile");
  Placement p;
  p.num_experts = trace.num_experts;
  p.shape = options.shape;
  p.algo = algo_name(options.algo);
  p.params = {{"seed", options.seed},         {"replicate", options.replicate},
              {"restarts", options.restarts}, {"profile_fraction", profile_fraction},
              {"trace_model", trace.model},   {"trace_source", trace.source}};
  if (options.algo == Algo::LoadAware) p.params["max_load_ratio"] = options.max_load_ratio;

  PlaceOptions o = options;
  if (o.recent_weight == 0) {
    // Chosen on the profile alone: every candidate places each layer from the first half of its profile
    // and is scored on the second half (the most recent profile tokens, the closest to what follows),
    // summed over layers so that the choice rests on many tokens; ties go to the smaller weight.
    nlohmann::json scores = nlohmann::json::object();
    std::int64_t best = -1;
    for (int w : recent_weight_candidates()) {
      o.recent_weight = w;
      const auto c = validation_cost(trace, o, profile_fraction, jobs);
      scores[std::to_string(w)] = c;
      if (best < 0 || c < best) {
        best = c;
        p.params["recent_weight"] = w;
      }
    }
    o.recent_weight = p.params["recent_weight"].get<int>();
    p.params["recent_weight_validation"] = std::move(scores);
  }
  p.params["recent_weight"] = o.recent_weight;
  p.params["recent_weight_auto"] = options.recent_weight == 0;

  std::vector<LayerOutcome> outcomes(trace.layers.size());
  for_each_layer(
      trace.layers.size(), jobs,
      [&](std::size_t l) {
        const auto& r = trace.layers[l];
        const auto ts = make_token_sets(r, trace.num_experts, 0, profile_tokens(r.tokens(), profile_fraction),
                                        o.recent_weight);
        outcomes[l] = place_layer(ts, o, layer_seed(o, l));
      },
      progress);

  nlohmann::json bounds = nlohmann::json::array();
  for (auto& out : outcomes) {
    p.layers.push_back(std::move(out.placement));
    if (options.algo == Algo::LoadAware)
      bounds.push_back({{"max_pairs_per_device", out.load_bound}, {"met", out.load_bound_met}});
  }
  if (options.algo == Algo::LoadAware) p.params["load_bound_per_layer"] = std::move(bounds);
  return p;
}

nlohmann::json holdout_optimum(const Trace& trace, const PlaceOptions& options, double profile_fraction,
                               int jobs) {
  Trace rest;
  rest.num_experts = trace.num_experts;
  rest.top_k = trace.top_k;
  for (const auto& r : trace.layers) {
    const auto cut = profile_tokens(r.tokens(), profile_fraction);
    if (cut < r.tokens()) rest.layers.push_back(slice(r, cut, r.tokens()));
  }
  if (rest.layers.empty()) return nullptr;
  PlaceOptions o = options;
  o.recent_weight = 1;  // in-sample: every token of the set counts alike
  std::vector<LayerMetrics> m(rest.layers.size());
  for_each_layer(rest.layers.size(), jobs, [&](std::size_t l) {
    const auto& r = rest.layers[l];
    const auto lp =
        place_layer(make_token_sets(r, rest.num_experts, 0, r.tokens()), o, layer_seed(o, l)).placement;
    m[l] = analyze_layer(r, lp, o.shape, 1);
  });
  return summary(m);
}

nlohmann::json evaluate_split(const Trace& trace, const Placement& placement, double profile_fraction) {
  std::vector<LayerMetrics> profile, holdout;
  for (std::size_t l = 0; l < trace.layers.size(); ++l) {
    const auto& r = trace.layers[l];
    const auto cut = profile_tokens(r.tokens(), profile_fraction);
    const auto& lp = placement.layer(l);
    profile.push_back(analyze_layer(cut == r.tokens() ? r : slice(r, 0, cut), lp, placement.shape, 1));
    if (cut < r.tokens()) holdout.push_back(analyze_layer(slice(r, cut, r.tokens()), lp, placement.shape, 1));
  }
  nlohmann::json j = {{"profile", summary(profile)}};
  if (!holdout.empty()) j["holdout"] = summary(holdout);
  return j;
}

}  // namespace occult::place
