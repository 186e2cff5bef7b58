#include "sim/core/placement.hpp"

#include <string>

#include "sim/core/error.hpp"
#include "sim/core/input_file.hpp"
#include "sim/core/output_file.hpp"

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
    throw InputError(
        where, 0, "layers",
        "placement has " + std::to_string(p.layers.size()) + " layers, trace has " + std::to_string(layers));
  const int D = p.shape.devices;
  for (std::size_t l = 0; l < p.layers.size(); ++l) {
    const auto& lp = p.layers[l];
    const std::string field = "layers[" + std::to_string(l) + "]";
    if (int(lp.device_of.size()) != experts)
      throw InputError(where, 0, field + ".device_of", "needs " + std::to_string(experts) + " entries");
    if (!lp.replicas.empty() && int(lp.replicas.size()) != experts)
      throw InputError(where, 0, field + ".replicas", "needs one list per expert");
    std::int64_t slots = experts;  // expert copies, replicas included
    for (const auto& r : lp.replicas) slots += std::int64_t(r.size());
    // Every device holds at least one copy; checked before anything of size D is allocated (a file that
    // claims 2,000,000,000 devices must not cost 8 GB).
    if (D > slots)
      throw InputError(where, 0, "devices",
                       std::to_string(D) + " devices for " + std::to_string(slots) +
                           " expert copies: some device would hold no expert");
    std::vector<int> per_device(std::size_t(D), 0);
    for (int e = 0; e < experts; ++e) {
      int d = lp.device_of[std::size_t(e)];
      if (d < 0 || d >= D)
        throw InputError(where, 0, field + ".device_of[" + std::to_string(e) + "]",
                         "device " + std::to_string(d) + " out of range [0, " + std::to_string(D) + ")");
      ++per_device[std::size_t(d)];
    }
    for (std::size_t e = 0; e < lp.replicas.size(); ++e) {
      const std::string rfield = field + ".replicas[" + std::to_string(e) + "]";
      for (std::size_t i = 0; i < lp.replicas[e].size(); ++i) {
        const int d = lp.replicas[e][i];
        if (d < 0 || d >= D)
          throw InputError(where, 0, rfield, "device " + std::to_string(d) + " out of range");
        if (d == lp.device_of[e])
          throw InputError(where, 0, rfield, "device " + std::to_string(d) + " already holds the expert");
        for (std::size_t j = 0; j < i; ++j)
          if (lp.replicas[e][j] == d)
            throw InputError(where, 0, rfield, "device " + std::to_string(d) + " listed twice");
        ++per_device[std::size_t(d)];
      }
    }
    // Balance (DESIGN.md 2): without copies every device holds exactly E/D experts (empty replica lists
    // are no copies); with copies, no device holds more than its share of the copies, rounded up.
    if (slots == experts && experts % D != 0)
      throw InputError(where, 0, "devices",
                       std::to_string(D) + " devices do not divide " + std::to_string(experts) +
                           " experts, and the placement has no replicas");
    const std::int64_t most = (slots + D - 1) / D;
    for (int d = 0; d < D; ++d) {
      const int n = per_device[std::size_t(d)];
      if (slots == experts ? n != experts / D : n > most)
        throw InputError(where, 0, field,
                         "device " + std::to_string(d) + " holds " + std::to_string(n) +
                             " experts, expected " +
                             (slots == experts ? "E/D=" + std::to_string(experts / D)
                                               : "at most " + std::to_string(most) + " (copies included)"));
    }
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
  OutputFile out(path);
  out.stream() << placement_to_json(p).dump(1) << "\n";
  out.commit();
}

namespace {

// An integer field, exactly: 4.5 or 4294967300 for an int is an error, never a truncated value.
int json_int(const nlohmann::json& v, std::int64_t lo, std::int64_t hi, const std::string& path,
             const std::string& field) {
  if (!v.is_number_integer())
    throw InputError(path, 0, field, "must be an integer, got " + v.dump().substr(0, 40));
  const bool too_big = v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(hi);
  const std::int64_t x = too_big ? hi : v.get<std::int64_t>();
  if (too_big || x < lo || x > hi)
    throw InputError(path, 0, field,
                     v.dump() + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return int(x);
}

std::vector<int> json_ints(const nlohmann::json& v, std::int64_t hi, const std::string& path,
                           const std::string& field) {
  if (!v.is_array()) throw InputError(path, 0, field, "must be a list of integers");
  std::vector<int> out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    out.push_back(json_int(v[i], 0, hi, path, field + "[" + std::to_string(i) + "]"));
  return out;
}

}  // namespace

Placement read_placement(const std::string& path) {
  InputFile in(path);
  const std::string& name = in.name();
  // nlohmann's document takes up to ~16 bytes per byte of text (a 16-byte value per short number).
  const std::string text = in.read_all("placement file", 16);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for numbers like 1E999
    throw InputError(name, 0, "", std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw InputError(name, 0, "", "not a placement: expected a JSON object");
  auto field = [&](const char* key) -> const nlohmann::json& {
    if (!j.contains(key)) throw InputError(name, 0, key, "missing");
    return j.at(key);
  };
  constexpr std::int64_t kMaxExperts = 1 << 20, kMaxDevices = 1 << 24;
  Placement p;
  const auto format = j.find("format");
  if (format == j.end() || *format != "occult-placement")
    throw InputError(name, 0, "format", "expected \"occult-placement\"");
  p.num_experts = json_int(field("experts"), 1, kMaxExperts, name, "experts");
  p.shape.devices = json_int(field("devices"), 1, kMaxDevices, name, "devices");
  p.shape.gpus_per_node =
      j.contains("gpus_per_node") ? json_int(j["gpus_per_node"], 1, kMaxDevices, name, "gpus_per_node") : 1;
  try {
    p.algo = j.value("algo", std::string());
    p.params = j.value("params", nlohmann::json::object());
    p.metrics = j.value("metrics", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    throw InputError(name, 0, "", std::string("malformed placement: ") + e.what());
  }
  const nlohmann::json& layers = field("layers");
  if (!layers.is_array()) throw InputError(name, 0, "layers", "must be a list");
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const std::string at = "layers[" + std::to_string(l) + "]";
    if (!layers[l].is_object() || !layers[l].contains("device_of"))
      throw InputError(name, 0, at + ".device_of", "missing");
    LayerPlacement lp;
    lp.device_of = json_ints(layers[l]["device_of"], kMaxDevices, name, at + ".device_of");
    if (layers[l].contains("replicas")) {
      const auto& r = layers[l]["replicas"];
      if (!r.is_array()) throw InputError(name, 0, at + ".replicas", "must be a list of lists");
      for (std::size_t e = 0; e < r.size(); ++e)
        lp.replicas.push_back(
            json_ints(r[e], kMaxDevices, name, at + ".replicas[" + std::to_string(e) + "]"));
    }
    p.layers.push_back(std::move(lp));
  }
  validate_placement(p, p.num_experts, int(p.layers.size()), name);
  return p;
}

}  // namespace occult
