#include "sim/core/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>

#include "sim/core/error.hpp"
#include "sim/core/json_reader.hpp"

namespace occult {
namespace {

const std::set<std::string>& link_classes() {
  static const std::set<std::string> k = {"nvlink", "pcie", "network"};
  return k;
}
const std::set<std::string>& kernel_names() {
  static const std::set<std::string> k = {"layout.standard", "layout.occult", "pack.standard", "pack.occult",
                                          "unpack",          "grad_pack",     "weight_grad",   "copy"};
  return k;
}

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
  return out;
}

MeasuredCurve link_curve(const LinkCalibration& l) {
  std::vector<CurveSample> pts;
  for (const auto& s : l.samples) pts.push_back({s.bytes, s.seconds});
  return MeasuredCurve(std::move(pts));
}

}  // namespace

nlohmann::json provenance_to_json(const Provenance& v) {
  return {{"gpu_name", v.gpu_name}, {"gpu_count", v.gpu_count}, {"gpu_uuid", v.gpu_uuid}, {"driver", v.driver},
          {"cuda", v.cuda},         {"nccl", v.nccl},           {"date", v.date},         {"command", v.command},
          {"host", v.host},         {"commit", v.commit}};
}

double LinkCalibration::latency_s() const {
  double t = std::numeric_limits<double>::infinity();
  for (const auto& s : samples) t = std::min(t, s.seconds);
  return samples.empty() ? 0.0 : t;
}

double LinkCalibration::seconds(double bytes) const { return link_curve(*this).seconds(bytes); }

double LinkCalibration::efficiency(double bytes) const {
  if (bytes <= 0 || nominal_Bps <= 0) return 1.0;
  const double transfer = seconds(bytes) - latency_s();
  // At and below the floor's size the exchange time says nothing about bandwidth: use the smallest
  // size above it whose time exceeds the floor.
  if (transfer <= 0) {
    for (const auto& s : samples)
      if (s.seconds > latency_s()) return s.bytes / ((s.seconds - latency_s()) * nominal_Bps);
    return 1.0;
  }
  return bytes / (transfer * nominal_Bps);
}

const LinkCalibration* CalibrationProfile::link(const std::string& link_class, const std::string& transport,
                                                const std::string& nccl_mode) const {
  for (const auto& l : links)
    if (l.link_class == link_class && l.transport == transport && l.nccl_mode == nccl_mode) return &l;
  return nullptr;
}

const MeasuredCurve* CalibrationProfile::kernel(const std::string& name) const {
  const auto it = kernels.find(name);
  return it == kernels.end() || it->second.empty() ? nullptr : &it->second;
}

nlohmann::json link_to_json(const LinkCalibration& l) {
  nlohmann::json s = nlohmann::json::array();
  for (const auto& x : l.samples) s.push_back({{"bytes", x.bytes}, {"seconds", x.seconds}});
  nlohmann::json j = {{"class", l.link_class},
                      {"transport", l.transport},
                      {"nccl_mode", l.nccl_mode},
                      {"how", l.how},
                      {"nominal_GBps", l.nominal_Bps / 1e9},
                      {"provenance", provenance_to_json(l.provenance)},
                      {"samples", s}};
  if (l.message_s >= 0) j["message_s"] = l.message_s;
  return j;
}

nlohmann::json calibration_to_json(const CalibrationProfile& p) {
  nlohmann::json j;
  j["format"] = "occult-calibration";
  j["version"] = kCalibrationVersion;
  j["provenance"] = provenance_to_json(p.provenance);
  j["peak_tflops"] = p.peak_tflops;
  j["event_s"] = p.event_s;
  j["host_roundtrip_s"] = p.host_roundtrip_s;
  auto expert = [](const ExpertCalibration& e) {
    nlohmann::json s = nlohmann::json::array();
    for (const auto& x : e.samples)
      s.push_back({{"hidden", x.hidden},
                   {"ffn", x.ffn},
                   {"local_experts", x.local_experts},
                   {"rows_per_expert", x.rows_per_expert},
                   {"slots", x.slots},
                   {"pairs_per_row", x.pairs_per_row},
                   {"seconds", x.seconds}});
    return nlohmann::json{{"kernel", e.kernel}, {"samples", s}};
  };
  j["expert_forward"] = expert(p.expert_forward);
  j["expert_backward"] = expert(p.expert_backward);
  j["kernels"] = nlohmann::json::object();
  for (const auto& [name, curve] : p.kernels) {
    nlohmann::json s = nlohmann::json::array();
    for (const auto& x : curve.samples()) s.push_back({{"x", x.x}, {"seconds", x.seconds}});
    j["kernels"][name] = {{"samples", s}};
  }
  j["links"] = nlohmann::json::array();
  for (const auto& l : p.links) j["links"].push_back(link_to_json(l));
  return j;
}

namespace {

Provenance read_provenance(const JsonReader& r, const nlohmann::json& v, const std::string& path) {
  Provenance p;
  p.gpu_name = r.text_or(v, "gpu_name", path, "");
  if (r.has(v, "gpu_count")) p.gpu_count = int(r.integer(v, "gpu_count", path, 0, 1 << 20));
  p.gpu_uuid = r.text_or(v, "gpu_uuid", path, "");
  p.driver = r.text_or(v, "driver", path, "");
  p.cuda = r.text_or(v, "cuda", path, "");
  p.nccl = r.text_or(v, "nccl", path, "");
  p.date = r.text_or(v, "date", path, "");
  p.command = r.text_or(v, "command", path, "");
  p.host = r.text_or(v, "host", path, "");
  p.commit = r.text_or(v, "commit", path, "");
  return p;
}

ExpertCalibration read_expert(const JsonReader& r, const nlohmann::json& j, const std::string& key) {
  ExpertCalibration e;
  if (!r.has(j, key)) return e;
  const auto& o = r.object(j, key, "");
  e.kernel = r.text_or(o, "kernel", key + ".", "");
  const auto& s = r.array(o, "samples", key + ".");
  for (std::size_t k = 0; k < s.size(); ++k) {
    const std::string sp = key + ".samples[" + std::to_string(k) + "].";
    ExpertSample x;
    x.hidden = int(r.integer(s[k], "hidden", sp, 1, 1 << 20));
    x.ffn = int(r.integer(s[k], "ffn", sp, 1, 1 << 20));
    x.local_experts = int(r.integer(s[k], "local_experts", sp, 1, 1 << 20));
    x.rows_per_expert = r.integer(s[k], "rows_per_expert", sp, 1, std::int64_t(1) << 40);
    x.slots = int(r.integer(s[k], "slots", sp, 1, 64));
    x.pairs_per_row = int(r.integer(s[k], "pairs_per_row", sp, 1, 64));
    if (x.pairs_per_row > x.slots) r.fail(sp + "pairs_per_row", "cannot exceed slots");
    x.seconds = r.number(s[k], "seconds", sp, true);
    e.samples.push_back(x);
  }
  return e;
}

}  // namespace

CalibrationProfile calibration_from_json(const nlohmann::json& j, const std::string& where) {
  JsonReader r(where);
  if (!j.is_object()) r.fail("", "a calibration profile is a JSON object");
  if (r.text_or(j, "format", "", "") != "occult-calibration")
    r.fail("format", "must be \"occult-calibration\" (is this a calibration profile?)");
  if (!r.has(j, "version") || !j.at("version").is_number_integer() ||
      j.at("version").get<long long>() != kCalibrationVersion)
    r.fail("version", "unsupported profile version (this occult reads version " +
                          std::to_string(kCalibrationVersion) +
                          "); measure a new one with `occult calibrate`, or convert a version 1 file with "
                          "results/gpu/migrate_profile.py (docs/calibration.md)");
  CalibrationProfile p;
  p.provenance = read_provenance(r, r.object(j, "provenance", ""), "provenance.");
  p.peak_tflops = r.has(j, "peak_tflops") ? r.number(j, "peak_tflops", "", false) : 0.0;
  p.event_s = r.has(j, "event_s") ? r.number(j, "event_s", "", false) : 0.0;
  p.host_roundtrip_s = r.has(j, "host_roundtrip_s") ? r.number(j, "host_roundtrip_s", "", false) : 0.0;
  p.expert_forward = read_expert(r, j, "expert_forward");
  p.expert_backward = read_expert(r, j, "expert_backward");

  if (r.has(j, "kernels")) {
    const auto& k = r.object(j, "kernels", "");
    for (const auto& [name, curve] : k.items()) {
      const std::string path = "kernels." + name + ".";
      if (!kernel_names().count(name))
        r.fail("kernels." + name, "unknown kernel (known: " + joined(kernel_names()) + ")");
      const auto& s = r.array(curve, "samples", path);
      std::vector<CurveSample> pts;
      for (std::size_t i = 0; i < s.size(); ++i) {
        const std::string sp = path + "samples[" + std::to_string(i) + "].";
        pts.push_back({r.number(s[i], "x", sp, true), r.number(s[i], "seconds", sp, true)});
      }
      p.kernels[name] = MeasuredCurve(std::move(pts));
    }
  }

  const auto& links = r.array(j, "links", "");
  for (std::size_t i = 0; i < links.size(); ++i) {
    const std::string path = "links[" + std::to_string(i) + "].";
    const auto& l = links[i];
    LinkCalibration lc;
    lc.link_class = r.text(l, "class", path);
    if (!link_classes().count(lc.link_class))
      r.fail(path + "class", "unknown link class '" + lc.link_class + "' (known: " + joined(link_classes()) + ")");
    lc.transport = r.text_or(l, "transport", path, "nccl");
    if (lc.transport != "nccl" && lc.transport != "p2p")
      r.fail(path + "transport", "'" + lc.transport + "' is not a transport (nccl, p2p)");
    lc.nccl_mode = r.text_or(l, "nccl_mode", path, "blocking");
    if (lc.nccl_mode != "blocking" && lc.nccl_mode != "nonblocking")
      r.fail(path + "nccl_mode", "'" + lc.nccl_mode + "' is not an NCCL mode (blocking, nonblocking)");
    if (p.link(lc.link_class, lc.transport, lc.nccl_mode))
      r.fail(path + "class", "link class '" + lc.link_class + "' (" + lc.transport + ", " + lc.nccl_mode +
                                 ") appears twice");
    lc.how = r.text_or(l, "how", path, "");
    lc.nominal_Bps = r.number(l, "nominal_GBps", path, true) * 1e9;
    if (r.has(l, "provenance")) lc.provenance = read_provenance(r, r.object(l, "provenance", path), path + "provenance.");
    const auto& s = r.array(l, "samples", path);
    for (std::size_t k = 0; k < s.size(); ++k) {
      const std::string sp = path + "samples[" + std::to_string(k) + "].";
      lc.samples.push_back({r.number(s[k], "bytes", sp, true), r.number(s[k], "seconds", sp, true)});
    }
    if (lc.samples.empty()) r.fail(path + "samples", "needs at least one sample");
    std::sort(lc.samples.begin(), lc.samples.end(),
              [](const CommSample& a, const CommSample& b) { return a.bytes < b.bytes; });
    if (r.has(l, "message_s")) lc.message_s = r.number(l, "message_s", path, false);
    p.links.push_back(std::move(lc));
  }
  return p;
}

CalibrationProfile read_calibration(const std::string& path) {
  return calibration_from_json(read_json_file(path, "calibration profile"), path);
}

void write_calibration(const CalibrationProfile& p, const std::string& path) {
  // Written beside and renamed, so an interrupted write never leaves half a profile.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(path, 0, "", "cannot write calibration profile");
    out << calibration_to_json(p).dump(2) << "\n";
    out.flush();
    if (!out) throw InputError(path, 0, "", "write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw InputError(path, 0, "", "cannot replace the profile");
}

}  // namespace occult
