#include "sim/core/placement.hpp"

#include <fstream>
#include <string>

#include "sim/core/error.hpp"

namespace occult {
namespace {
Placement make(int experts, const ClusterShape& shape, int layers, const char* algo, auto&& device_of) {
  validate_shape(shape);
  if (experts < 1) throw InputError("", 0, "experts", "must be >= 1");
  if (experts % shape.devices != 0)
    throw InputError("", 0, "devices",
                     std::to_string(shape.devices) + " does not divide experts=" + std::to_string(experts) +
                         " (use replication, or a device count that divides E)");
  Placement p;
  p.num_experts = experts;
  p.shape = shape;
  p.algo = algo;
  p.params = nlohmann::json::object();
  LayerPlacement lp;
  lp.device_of.resize(std::size_t(experts));
  for (int e = 0; e < experts; ++e) lp.device_of[std::size_t(e)] = device_of(e, experts / shape.devices);
  p.layers.assign(std::size_t(std::max(layers, 1)), lp);
  return p;
}
}  // namespace

Placement contiguous_placement(int experts, const ClusterShape& shape, int layers) {
  return make(experts, shape, layers, "contiguous", [](int e, int per) { return e / per; });
}

Placement round_robin_placement(int experts, const ClusterShape& shape, int layers) {
  return make(experts, shape, layers, "round-robin", [&](int e, int) { return e % shape.devices; });
}

void validate_placement(const Placement& p, int experts, int layers, const std::string& where) {
  if (p.num_experts != experts)
    throw InputError(where, 0, "experts",
                     "placement is for " + std::to_string(p.num_experts) + " experts, trace has " +
                         std::to_string(experts));
  validate_shape(p.shape);
  if (p.layers.empty()) throw InputError(where, 0, "layers", "placement has no layers");
  if (p.layers.size() != 1 && int(p.layers.size()) != layers)
    throw InputError(where, 0, "layers",
                     "placement has " + std::to_string(p.layers.size()) + " layers, trace has " +
                         std::to_string(layers));
  const int D = p.shape.devices;
  for (std::size_t l = 0; l < p.layers.size(); ++l) {
    const auto& lp = p.layers[l];
    const std::string field = "layers[" + std::to_string(l) + "]";
    if (int(lp.device_of.size()) != experts)
      throw InputError(where, 0, field + ".device_of", "needs " + std::to_string(experts) + " entries");
    std::vector<int> per_device(std::size_t(D), 0);
    for (int e = 0; e < experts; ++e) {
      int d = lp.device_of[std::size_t(e)];
      if (d < 0 || d >= D)
        throw InputError(where, 0, field + ".device_of[" + std::to_string(e) + "]",
                         "device " + std::to_string(d) + " out of range [0, " + std::to_string(D) + ")");
      ++per_device[std::size_t(d)];
    }
    if (!lp.replicas.empty() && int(lp.replicas.size()) != experts)
      throw InputError(where, 0, field + ".replicas", "needs one list per expert");
    for (std::size_t e = 0; e < lp.replicas.size(); ++e)
      for (int d : lp.replicas[e])
        if (d < 0 || d >= D)
          throw InputError(where, 0, field + ".replicas[" + std::to_string(e) + "]",
                           "device " + std::to_string(d) + " out of range");
    // Without replication every device holds exactly E/D experts (DESIGN.md 2).
    if (lp.replicas.empty() && experts % D == 0)
      for (int d = 0; d < D; ++d)
        if (per_device[std::size_t(d)] != experts / D)
          throw InputError(where, 0, field,
                           "device " + std::to_string(d) + " holds " + std::to_string(per_device[std::size_t(d)]) +
                               " experts, expected E/D=" + std::to_string(experts / D));
  }
}

nlohmann::json placement_to_json(const Placement& p) {
  nlohmann::json j;
  j["format"] = "occult-placement";
  j["version"] = 1;
  j["experts"] = p.num_experts;
  j["devices"] = p.shape.devices;
  j["gpus_per_node"] = p.shape.gpus_per_node;
  j["algo"] = p.algo;
  j["params"] = p.params.is_null() ? nlohmann::json::object() : p.params;
  j["metrics"] = p.metrics.is_null() ? nlohmann::json::object() : p.metrics;
  auto& layers = j["layers"] = nlohmann::json::array();
  for (const auto& lp : p.layers) {
    nlohmann::json l;
    l["device_of"] = lp.device_of;
    if (!lp.replicas.empty()) l["replicas"] = lp.replicas;
    layers.push_back(std::move(l));
  }
  return j;
}

void write_placement(const Placement& p, const std::string& path) {
  std::ofstream out(path);
  if (!out) throw InputError(path, 0, "", "cannot open for writing");
  out << placement_to_json(p).dump(1) << "\n";
  if (!out) throw InputError(path, 0, "", "write failed");
}

Placement read_placement(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path, 0, "", "cannot open placement file");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path, 0, "", std::string("not valid JSON: ") + e.what());
  }
  auto field = [&](const char* name) -> const nlohmann::json& {
    if (!j.is_object() || !j.contains(name)) throw InputError(path, 0, name, "missing");
    return j.at(name);
  };
  Placement p;
  try {
    if (j.value("format", std::string()) != "occult-placement")
      throw InputError(path, 0, "format", "expected \"occult-placement\"");
    p.num_experts = field("experts").get<int>();
    p.shape.devices = field("devices").get<int>();
    p.shape.gpus_per_node = j.value("gpus_per_node", 1);
    p.algo = j.value("algo", std::string());
    p.params = j.value("params", nlohmann::json::object());
    p.metrics = j.value("metrics", nlohmann::json::object());
    for (const auto& l : field("layers")) {
      LayerPlacement lp;
      lp.device_of = l.at("device_of").get<std::vector<int>>();
      if (l.contains("replicas")) lp.replicas = l.at("replicas").get<std::vector<std::vector<int>>>();
      p.layers.push_back(std::move(lp));
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, 0, "", std::string("malformed placement: ") + e.what());
  }
  validate_placement(p, p.num_experts, int(p.layers.size()), path);
  return p;
}

}  // namespace occult
