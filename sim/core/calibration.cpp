#include "sim/core/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <tuple>

#include "sim/core/error.hpp"

namespace occult {
namespace {

// Linear interpolation of y over log(x), clamped to the end points.
double interp_log(const std::vector<std::pair<double, double>>& xy, double x) {
  if (xy.empty()) return std::numeric_limits<double>::quiet_NaN();
  if (x <= xy.front().first) return xy.front().second;
  if (x >= xy.back().first) return xy.back().second;
  auto hi = std::upper_bound(xy.begin(), xy.end(), x, [](double v, const auto& p) { return v < p.first; });
  auto lo = hi - 1;
  const double t = (std::log(x) - std::log(lo->first)) / (std::log(hi->first) - std::log(lo->first));
  return lo->second + t * (hi->second - lo->second);
}

double log_ratio(double a, double b) { return std::abs(std::log(std::max(a, 1.0) / std::max(b, 1.0))); }

}  // namespace

// Efficiency at each sample size makes the model reproduce every sample exactly; between samples it is
// interpolated over log(size), beyond them held at the nearest sample's value.
double LinkCalibration::seconds(double bytes) const {
  if (bytes <= 0) return 0;
  if (bandwidth_Bps <= 0) return std::numeric_limits<double>::infinity();
  std::vector<std::pair<double, double>> eff;
  for (const auto& s : samples) {
    if (s.bytes <= 0) continue;
    const double transfer = s.seconds - latency_s;
    // A sample at or below the latency floor says nothing about bandwidth; skip it.
    if (transfer <= 0) continue;
    eff.emplace_back(s.bytes, s.bytes / (transfer * bandwidth_Bps));
  }
  const double e = eff.empty() ? 1.0 : interp_log(eff, bytes);
  return latency_s + bytes / (bandwidth_Bps * e);
}

double GemmSample::tflops() const {
  if (seconds <= 0) return 0;
  return 2.0 * 3.0 * double(hidden) * double(ffn) * double(rows_per_expert) * double(local_experts) /
         seconds / 1e12;
}

// Samples are grouped by shape (h, f, local experts); the group nearest in log distance supplies the
// achieved TFLOP/s, interpolated over log(rows per expert). Achieved throughput, not time, is what
// transfers between shapes: time scales with FLOPs, efficiency with the tile occupancy per expert.
double GemmCalibration::seconds(std::int64_t rows, int local_experts, int hidden, int ffn) const {
  if (rows <= 0 || local_experts <= 0) return 0;
  const double flops = 2.0 * 3.0 * double(hidden) * double(ffn) * double(rows);
  if (samples.empty()) {
    if (peak_tflops <= 0) return std::numeric_limits<double>::infinity();
    return flops / (peak_tflops * 1e12);
  }
  using Shape = std::tuple<int, int, int>;
  std::map<Shape, std::vector<std::pair<double, double>>> groups;
  for (const auto& s : samples)
    if (s.seconds > 0 && s.rows_per_expert > 0)
      groups[{s.hidden, s.ffn, s.local_experts}].emplace_back(double(s.rows_per_expert), s.tflops());
  if (groups.empty()) return std::numeric_limits<double>::infinity();
  const std::vector<std::pair<double, double>>* best = nullptr;
  double best_d = std::numeric_limits<double>::infinity();
  for (auto& [shape, xy] : groups) {
    auto [h, f, le] = shape;
    // Local-expert count matters less than the GEMM shape: it changes launch/tile counts only.
    const double d = log_ratio(hidden, h) + log_ratio(ffn, f) + 0.25 * log_ratio(local_experts, le);
    if (d < best_d) best_d = d, best = &xy;
  }
  auto xy = *best;
  std::sort(xy.begin(), xy.end());
  const double rows_per_expert = double(rows) / double(local_experts);
  const double tf = interp_log(xy, rows_per_expert);
  if (!(tf > 0)) return std::numeric_limits<double>::infinity();
  return flops / (tf * 1e12);
}

const LinkCalibration* CalibrationProfile::link(const std::string& link_class) const {
  for (const auto& l : links)
    if (l.link_class == link_class) return &l;
  return nullptr;
}

nlohmann::json calibration_to_json(const CalibrationProfile& p) {
  nlohmann::json j;
  j["format"] = "occult-calibration";
  j["version"] = 1;
  j["measured"] = p.measured;
  const auto& v = p.provenance;
  j["provenance"] = {
      {"gpu_name", v.gpu_name}, {"gpu_count", v.gpu_count}, {"driver", v.driver},   {"cuda", v.cuda},
      {"nccl", v.nccl},         {"date", v.date},           {"command", v.command}, {"host", v.host}};
  j["links"] = nlohmann::json::array();
  for (const auto& l : p.links) {
    nlohmann::json s = nlohmann::json::array();
    for (const auto& x : l.samples) s.push_back({{"bytes", x.bytes}, {"seconds", x.seconds}});
    j["links"].push_back({{"class", l.link_class},
                          {"how", l.how},
                          {"latency_s", l.latency_s},
                          {"bandwidth_Bps", l.bandwidth_Bps},
                          {"samples", s}});
  }
  nlohmann::json gs = nlohmann::json::array();
  for (const auto& x : p.gemm.samples)
    gs.push_back({{"rows_per_expert", x.rows_per_expert},
                  {"hidden", x.hidden},
                  {"ffn", x.ffn},
                  {"local_experts", x.local_experts},
                  {"seconds", x.seconds}});
  j["gemm"] = {{"kernel", p.gemm.kernel}, {"peak_tflops", p.gemm.peak_tflops}, {"samples", gs}};
  auto k = [](const KernelOverhead& o) {
    return nlohmann::json{{"launch_s", o.launch_s}, {"bandwidth_Bps", o.bandwidth_Bps}};
  };
  j["kernels"] = {{"layout", k(p.layout)}, {"pack", k(p.pack)}, {"unpack", k(p.unpack)}};
  return j;
}

namespace {

// Typed field access that reports the JSON path of whatever is wrong.
class Reader {
 public:
  explicit Reader(std::string where) : where_(std::move(where)) {}

  const nlohmann::json& child(const nlohmann::json& j, const std::string& key, const std::string& path,
                              nlohmann::json::value_t type) const {
    if (!j.is_object() || !j.contains(key)) fail(path + key, "missing");
    const auto& c = j.at(key);
    if (c.type() != type) fail(path + key, "has the wrong type (expected " + type_name(type) + ")");
    return c;
  }
  double number(const nlohmann::json& j, const std::string& key, const std::string& path,
                bool positive) const {
    if (!j.is_object() || !j.contains(key)) fail(path + key, "missing");
    const auto& c = j.at(key);
    if (!c.is_number()) fail(path + key, "must be a number");
    const double v = c.get<double>();
    if (!std::isfinite(v) || v < 0 || (positive && v == 0))
      fail(path + key, positive ? "must be a positive number" : "must be >= 0");
    return v;
  }
  int integer(const nlohmann::json& j, const std::string& key, const std::string& path) const {
    if (!j.is_object() || !j.contains(key)) fail(path + key, "missing");
    const auto& c = j.at(key);
    if (!c.is_number_integer() || c.get<long long>() < 1 || c.get<long long>() > (1LL << 30))
      fail(path + key, "must be a positive integer");
    return c.get<int>();
  }
  std::string text(const nlohmann::json& j, const std::string& key, const std::string& path) const {
    if (!j.is_object() || !j.contains(key)) return "";
    if (!j.at(key).is_string()) fail(path + key, "must be a string");
    return j.at(key).get<std::string>();
  }
  [[noreturn]] void fail(const std::string& field, const std::string& msg) const {
    throw InputError(where_, 0, field, msg);
  }

 private:
  static std::string type_name(nlohmann::json::value_t t) {
    switch (t) {
      case nlohmann::json::value_t::object:
        return "object";
      case nlohmann::json::value_t::array:
        return "array";
      default:
        return "value";
    }
  }
  std::string where_;
};

KernelOverhead read_overhead(const Reader& r, const nlohmann::json& kernels, const std::string& name) {
  const auto& o = r.child(kernels, name, "kernels.", nlohmann::json::value_t::object);
  const std::string path = "kernels." + name + ".";
  return {r.number(o, "launch_s", path, false), r.number(o, "bandwidth_Bps", path, false)};
}

}  // namespace

CalibrationProfile calibration_from_json(const nlohmann::json& j, const std::string& where) {
  Reader r(where);
  using T = nlohmann::json::value_t;
  if (!j.is_object()) r.fail("", "a calibration profile is a JSON object");
  if (r.text(j, "format", "") != "occult-calibration")
    r.fail("format", "must be \"occult-calibration\" (is this a calibration profile?)");
  if (!j.contains("version") || !j.at("version").is_number_integer() || j.at("version").get<int>() != 1)
    r.fail("version", "unsupported version (this build reads version 1)");

  CalibrationProfile p;
  if (j.contains("measured")) {
    if (!j.at("measured").is_boolean()) r.fail("measured", "must be true or false");
    p.measured = j.at("measured").get<bool>();
  }
  const auto& v = r.child(j, "provenance", "", T::object);
  p.provenance.gpu_name = r.text(v, "gpu_name", "provenance.");
  if (v.contains("gpu_count")) {
    if (!v.at("gpu_count").is_number_integer() || v.at("gpu_count").get<long long>() < 0)
      r.fail("provenance.gpu_count", "must be an integer >= 0");
    p.provenance.gpu_count = v.at("gpu_count").get<int>();
  }
  p.provenance.driver = r.text(v, "driver", "provenance.");
  p.provenance.cuda = r.text(v, "cuda", "provenance.");
  p.provenance.nccl = r.text(v, "nccl", "provenance.");
  p.provenance.date = r.text(v, "date", "provenance.");
  p.provenance.command = r.text(v, "command", "provenance.");
  p.provenance.host = r.text(v, "host", "provenance.");

  const auto& links = r.child(j, "links", "", T::array);
  for (std::size_t i = 0; i < links.size(); ++i) {
    const std::string path = "links[" + std::to_string(i) + "].";
    const auto& l = links[i];
    LinkCalibration lc;
    lc.link_class = r.text(l, "class", path);
    if (lc.link_class.empty()) r.fail(path + "class", "missing (e.g. \"nvlink\", \"pcie\", \"network\")");
    if (p.link(lc.link_class)) r.fail(path + "class", "link class '" + lc.link_class + "' appears twice");
    lc.how = r.text(l, "how", path);
    lc.latency_s = r.number(l, "latency_s", path, false);
    lc.bandwidth_Bps = r.number(l, "bandwidth_Bps", path, true);
    if (l.contains("samples")) {
      const auto& s = r.child(l, "samples", path, T::array);
      for (std::size_t k = 0; k < s.size(); ++k) {
        const std::string sp = path + "samples[" + std::to_string(k) + "].";
        lc.samples.push_back({r.number(s[k], "bytes", sp, true), r.number(s[k], "seconds", sp, true)});
      }
      std::sort(lc.samples.begin(), lc.samples.end(),
                [](const CommSample& a, const CommSample& b) { return a.bytes < b.bytes; });
    }
    p.links.push_back(std::move(lc));
  }

  const auto& g = r.child(j, "gemm", "", T::object);
  p.gemm.kernel = r.text(g, "kernel", "gemm.");
  p.gemm.peak_tflops = r.number(g, "peak_tflops", "gemm.", false);
  if (g.contains("samples")) {
    const auto& s = r.child(g, "samples", "gemm.", T::array);
    for (std::size_t k = 0; k < s.size(); ++k) {
      const std::string sp = "gemm.samples[" + std::to_string(k) + "].";
      GemmSample gs;
      gs.rows_per_expert = r.integer(s[k], "rows_per_expert", sp);
      gs.hidden = r.integer(s[k], "hidden", sp);
      gs.ffn = r.integer(s[k], "ffn", sp);
      gs.local_experts = r.integer(s[k], "local_experts", sp);
      gs.seconds = r.number(s[k], "seconds", sp, true);
      p.gemm.samples.push_back(gs);
    }
  }
  if (p.gemm.samples.empty() && p.gemm.peak_tflops <= 0)
    r.fail("gemm", "needs samples or a positive peak_tflops");

  const auto& k = r.child(j, "kernels", "", T::object);
  p.layout = read_overhead(r, k, "layout");
  p.pack = read_overhead(r, k, "pack");
  p.unpack = read_overhead(r, k, "unpack");
  return p;
}

CalibrationProfile read_calibration(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path, 0, "", "cannot open calibration profile");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path, 0, "", std::string("not valid JSON: ") + e.what());
  }
  return calibration_from_json(j, path);
}

void write_calibration(const CalibrationProfile& p, const std::string& path) {
  std::ofstream out(path);
  if (!out) throw InputError(path, 0, "", "cannot write calibration profile");
  out << calibration_to_json(p).dump(2) << "\n";
  if (!out) throw InputError(path, 0, "", "write failed");
}

}  // namespace occult
