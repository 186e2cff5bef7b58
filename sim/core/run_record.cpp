#include "sim/core/run_record.hpp"

#include <filesystem>

#include "sim/core/error.hpp"
#include "sim/core/json_reader.hpp"
#include "sim/core/phases.hpp"

namespace occult {
namespace {

const char* kFormat = "occult-gpu-run";
const char* kFormatMany = "occult-gpu-runs";

Provenance read_provenance(const JsonReader& r, const nlohmann::json& v) {
  const std::string p = "provenance.";
  Provenance o;
  o.gpu_name = r.text(v, "gpu_name", p);
  o.gpu_count = int(r.integer(v, "gpu_count", p, 0, 1 << 20));
  o.gpu_uuid = r.text_or(v, "gpu_uuid", p, "");
  o.driver = r.text_or(v, "driver", p, "");
  o.cuda = r.text_or(v, "cuda", p, "");
  o.nccl = r.text_or(v, "nccl", p, "");
  o.date = r.text(v, "date", p);
  o.command = r.text(v, "command", p);
  o.host = r.text_or(v, "host", p, "");
  o.commit = r.text_or(v, "commit", p, "");
  return o;
}

void one_of(const JsonReader& r, const std::string& field, const std::string& v,
            std::initializer_list<const char*> valid) {
  std::string list;
  for (const char* x : valid) {
    if (v == x) return;
    list += (list.empty() ? "" : ", ") + std::string(x);
  }
  r.fail(field, "'" + v + "' is not one of: " + list);
}

}  // namespace

nlohmann::json run_record_to_json(const RunRecord& rec) {
  const RunExecution& e = rec.execution;
  nlohmann::json ex = {{"path", e.path},           {"transport", e.transport}, {"nccl_mode", e.nccl_mode},
                       {"counts", e.counts},       {"comm_only", e.comm_only}, {"bootstrap", e.bootstrap},
                       {"ranks", e.ranks},         {"iters", e.iters},         {"warmup", e.warmup},
                       {"backward_kernel", e.backward_kernel}};
  if (e.transport == "p2p") ex["p2p"] = {{"copy", e.p2p_copy}, {"blocks", e.p2p_blocks}};
  nlohmann::json strategies = nlohmann::json::array();
  for (const auto& s : rec.strategies) {
    nlohmann::json j = {{"strategy", s.strategy}, {"forward_us", s.forward_s * 1e6}, {"pass", s.pass}};
    if (s.backward_s >= 0) j["backward_us"] = s.backward_s * 1e6;
    j["phases_us"] = nlohmann::json::object();
    for (const auto& [name, t] : s.phase_s) j["phases_us"][name] = t * 1e6;
    for (const auto& [name, b] : s.wire_rows) {
      const auto m = s.wire_meta.find(name);
      j["wire_bytes"][name] = {{"rows", b}, {"meta", m == s.wire_meta.end() ? 0.0 : m->second}};
    }
    j["check"] = s.check;
    strategies.push_back(j);
  }
  nlohmann::json j = {{"format", kFormat},
                      {"version", kRunRecordVersion},
                      {"provenance", provenance_to_json(rec.provenance)},
                      {"workload", workload_to_json(rec.workload)},
                      {"execution", ex},
                      {"strategies", strategies},
                      {"pass", rec.pass},
                      {"notes", rec.notes}};
  for (const auto& [k, v] : rec.extra.items()) j[k] = v;
  return j;
}

RunRecord run_record_from_json(const nlohmann::json& j, const std::string& where) {
  JsonReader r(where);
  if (!j.is_object()) r.fail("", "a measured run is a JSON object (occult gpu-run --json)");
  if (r.text_or(j, "format", "", "") != kFormat)
    r.fail("format", "must be \"" + std::string(kFormat) +
                         "\" (a file written by `occult gpu-run --json`; files from before version 2 "
                         "are converted by results/gpu/migrate_runs.py)");
  if (!r.has(j, "version") || !j.at("version").is_number_integer() ||
      j.at("version").get<long long>() != kRunRecordVersion)
    r.fail("version", "written by another version of occult (this one reads version " +
                          std::to_string(kRunRecordVersion) + ")");
  RunRecord rec;
  rec.provenance = read_provenance(r, r.object(j, "provenance", ""));
  rec.workload = workload_from_json(r.object(j, "workload", ""), where);
  const auto& x = r.object(j, "execution", "");
  const std::string xp = "execution.";
  RunExecution& e = rec.execution;
  e.path = r.text(x, "path", xp);
  one_of(r, xp + "path", e.path, {"nvlink", "pcie", "network", "local"});
  e.transport = r.text(x, "transport", xp);
  one_of(r, xp + "transport", e.transport, {"nccl", "p2p"});
  if (e.transport == "p2p") {
    const auto& p = r.object(x, "p2p", xp);
    e.p2p_copy = r.text(p, "copy", xp + "p2p.");
    one_of(r, xp + "p2p.copy", e.p2p_copy, {"sm", "ce"});
    e.p2p_blocks = int(r.integer(p, "blocks", xp + "p2p.", 0, 1 << 20));
  }
  e.nccl_mode = r.text(x, "nccl_mode", xp);
  one_of(r, xp + "nccl_mode", e.nccl_mode, {"blocking", "nonblocking"});
  e.counts = r.text(x, "counts", xp);
  one_of(r, xp + "counts", e.counts, {"fused", "sync"});
  e.comm_only = r.boolean(x, "comm_only", xp);
  e.bootstrap = r.text(x, "bootstrap", xp);
  one_of(r, xp + "bootstrap", e.bootstrap, {"threads", "mpi"});
  e.ranks = int(r.integer(x, "ranks", xp, 1, 1 << 20));
  e.iters = int(r.integer(x, "iters", xp, 1, 1 << 30));
  e.warmup = int(r.integer(x, "warmup", xp, 0, 1 << 30));
  e.backward_kernel = r.text_or(x, "backward_kernel", xp, "");
  if (e.ranks != rec.workload.devices)
    r.fail(xp + "ranks", "differs from workload.devices (" + std::to_string(rec.workload.devices) + ")");
  const bool training = rec.workload.mode == Mode::Train;
  const auto& ss = r.array(j, "strategies", "");
  if (ss.empty()) r.fail("strategies", "no strategy was measured");
  for (std::size_t i = 0; i < ss.size(); ++i) {
    const std::string sp = "strategies[" + std::to_string(i) + "].";
    MeasuredStrategy m;
    m.strategy = r.text(ss[i], "strategy", sp);
    one_of(r, sp + "strategy", m.strategy, {"standard", "occult"});
    m.forward_s = r.number(ss[i], "forward_us", sp, true) * 1e-6;
    if (training) m.backward_s = r.number(ss[i], "backward_us", sp, true) * 1e-6;
    m.pass = r.boolean(ss[i], "pass", sp);
    for (const auto& [name, t] : r.object(ss[i], "phases_us", sp).items()) {
      const PhaseInfo* info = phase_info(name);
      if (!info) r.fail(sp + "phases_us." + name, "unknown phase");
      if (info->backward && !training) r.fail(sp + "phases_us." + name, "a backward phase in a forward run");
      m.phase_s[name] = r.number(r.object(ss[i], "phases_us", sp), name, sp + "phases_us.", false) * 1e-6;
    }
    if (r.has(ss[i], "wire_bytes"))
      for (const auto& [name, w] : r.object(ss[i], "wire_bytes", sp).items()) {
        m.wire_rows[name] = r.number(w, "rows", sp + "wire_bytes." + name + ".", false);
        m.wire_meta[name] = r.number(w, "meta", sp + "wire_bytes." + name + ".", false);
      }
    if (r.has(ss[i], "check")) m.check = ss[i].at("check");
    rec.strategies.push_back(std::move(m));
  }
  rec.pass = r.boolean(j, "pass", "");
  if (r.has(j, "notes"))
    for (const auto& n : r.array(j, "notes", ""))
      if (n.is_string()) rec.notes.push_back(n.get<std::string>());
  for (const char* k : {"plain_nccl", "occult_vs_standard"})
    if (r.has(j, k)) rec.extra[k] = j.at(k);
  return rec;
}

std::vector<NamedRecord> read_run_records(const std::string& path) {
  const nlohmann::json j = read_json_file(path, "measured run file (occult gpu-run --json)");
  const std::string base = std::filesystem::path(path).filename().string();
  std::vector<NamedRecord> out;
  if (j.is_object() && j.contains("format") && j.at("format") == kFormatMany) {
    JsonReader r(path);
    for (const auto& [name, rec] : r.object(j, "runs", "").items())
      out.push_back({base + ":" + name, run_record_from_json(rec, path + ":" + name)});
    if (out.empty()) r.fail("runs", "holds no run");
    return out;
  }
  out.push_back({base, run_record_from_json(j, path)});
  return out;
}

}  // namespace occult
