#include "sim/place/algorithms.hpp"

#include <array>

#include "sim/core/error.hpp"

namespace occult::place {
namespace {
constexpr std::array kAlgos = {Algo::Contiguous, Algo::RoundRobin,   Algo::Greedy,
                               Algo::Metis,      Algo::Hierarchical, Algo::LoadAware};
}

const std::vector<std::string>& algo_names() {
  static const std::vector<std::string> names = {"contiguous", "round-robin",  "greedy",
                                                 "metis",      "hierarchical", "load-aware"};
  return names;
}

std::string algo_name(Algo a) {
  for (std::size_t i = 0; i < kAlgos.size(); ++i)
    if (kAlgos[i] == a) return algo_names()[i];
  return "?";
}

Algo parse_algo(const std::string& name) {
  std::string valid;
  for (std::size_t i = 0; i < kAlgos.size(); ++i) {
    if (algo_names()[i] == name) return kAlgos[i];
    valid += (i ? ", " : "") + algo_names()[i];
  }
  throw InputError("", 0, "algo", "unknown algorithm \"" + name + "\"; valid: " + valid);
}

void validate_options(const PlaceOptions& o, int experts) {
  validate_shape(o.shape);
  const int D = o.shape.devices;
  if (experts < 1) throw InputError("", 0, "experts", "must be >= 1");
  if (o.replicate < 0 || o.replicate > experts)
    throw InputError("", 0, "replicate",
                     "must be in [0, E=" + std::to_string(experts) +
                         "] (one extra copy per expert at most), got " + std::to_string(o.replicate));
  if ((experts + o.replicate) % D != 0)
    throw InputError("", 0, "devices",
                     std::to_string(D) + " devices do not divide E + replicas = " + std::to_string(experts) +
                         " + " + std::to_string(o.replicate) +
                         "; every device must hold the same number of experts" +
                         (o.replicate == 0 ? " (--replicate adds copies to fill the gap)" : ""));
  if (o.replicate > 0 && D < 2) throw InputError("", 0, "replicate", "replicas need at least 2 devices");
  if (!(o.max_load_ratio >= 1.0) || o.max_load_ratio > 1e6)
    throw InputError("", 0, "max-load-ratio", "must be >= 1 (max / mean load per device)");
  if (o.restarts < 1 || o.restarts > 1000) throw InputError("", 0, "restarts", "must be in [1, 1000]");
  if (o.recent_weight < 0 || o.recent_weight > 64)
    throw InputError("", 0, "recent-weight", "must be auto (0) or an integer in [1, 64]");
}

}  // namespace occult::place
