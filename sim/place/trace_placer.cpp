#include "sim/place/trace_placer.hpp"

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

  // Layers are independent: workers take the next unplaced layer; results land in their own slot.
  std::vector<LayerOutcome> outcomes(trace.layers.size());
  std::atomic<std::size_t> next{0};
  std::size_t done = 0;
  std::mutex mu;
  std::exception_ptr failure;
  auto worker = [&] {
    for (std::size_t l; (l = next++) < trace.layers.size();) {
      try {
        const auto& r = trace.layers[l];
        const auto ts =
            make_token_sets(r, trace.num_experts, 0, profile_tokens(r.tokens(), profile_fraction));
        outcomes[l] = place_layer(ts, options, options.seed * 1000003ull + l);
      } catch (...) {
        std::lock_guard lock(mu);
        if (!failure) failure = std::current_exception();
        next = trace.layers.size();
        return;
      }
      std::lock_guard lock(mu);
      if (progress) progress(++done);
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < std::min<int>(jobs, int(trace.layers.size())); ++j) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);

  nlohmann::json bounds = nlohmann::json::array();
  for (auto& out : outcomes) {
    p.layers.push_back(std::move(out.placement));
    if (options.algo == Algo::LoadAware)
      bounds.push_back({{"max_pairs_per_device", out.load_bound}, {"met", out.load_bound_met}});
  }
  if (options.algo == Algo::LoadAware) p.params["load_bound_per_layer"] = std::move(bounds);
  return p;
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
