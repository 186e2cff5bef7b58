#include "sim/cli/host/results_csv.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>

#include "sim/core/error.hpp"
#include "sim/core/input_file.hpp"

namespace occult::cli {
namespace {

std::string quote(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

std::string num(double x) {
  if (!std::isfinite(x)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

// Axis values as people read them: TOML strings without their quotes.
std::string axis_value(const std::string& literal) {
  if (literal.size() >= 2 && (literal.front() == '"' || literal.front() == '\'') &&
      literal.back() == literal.front())
    return literal.substr(1, literal.size() - 2);
  return literal;
}

// Appends piece by piece: `a + "," + b` chains trip GCC 12's -Wrestrict false positive at -O3.
std::string join_cells(const std::vector<std::string>& cells) {
  std::string line;
  for (const auto& c : cells) {
    if (!line.empty()) line += ',';
    line += c;
  }
  return line;
}

double phase(const StrategyRun& r, const std::string& name) {
  auto it = r.phases.find(name);
  return it == r.phases.end() ? 0.0 : it->second.max_s;
}

}  // namespace

std::string run_id(const Scenario& s, const std::string& strategy, const std::string& placement) {
  // FNV-1a 64 over the canonical JSON (keys sorted) of everything that determines the result. The
  // profile's contents count, not only its path: a re-measured profile must not resume old rows.
  // Read once per process: a sweep asks for every point's ids, and the file does not change meanwhile.
  static std::map<std::string, std::string> profiles;
  std::string profile;
  if (!s.profile_path.empty()) {
    auto it = profiles.find(s.profile_path);
    if (it == profiles.end())
      it = profiles.emplace(s.profile_path, InputFile(s.profile_path).read_all("calibration profile")).first;
    profile = it->second;
  }
  const std::string text = nlohmann::json{
      {"config", s.resolved},
      {"strategy", strategy},
      {"placement", placement},
      {"profile", profile}}.dump();
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string csv_header(const std::vector<std::string>& axis_keys) {
  std::vector<std::string> cells = results_csv_columns();
  for (const auto& k : axis_keys) cells.push_back(quote(k));
  return join_cells(cells);
}

std::string csv_rows(const ScenarioResult& res,
                     const std::vector<std::pair<std::string, std::string>>& axes) {
  const Scenario& s = res.scenario;
  std::string out;
  for (const auto& r : res.runs) {
    const double bwd = r.backward_s();
    const std::vector<std::string> cells = {
        run_id(s, r.strategy, r.placement),
        s.name,
        s.model.name,
        mode_name(s.mode),
        s.topology.name,
        std::to_string(s.devices),
        std::to_string(s.shape().gpus_per_node),
        std::to_string(s.shape().nodes()),
        std::to_string(s.tokens_per_device),
        r.strategy,
        r.placement,
        s.overlap == Overlap::Chunked ? "chunked:" + std::to_string(s.chunks) : "none",
        num(r.total_s),
        num(phase(r, "layout")),
        num(phase(r, "dispatch")),
        num(phase(r, "expert")),
        num(phase(r, "combine")),
        num(phase(r, "unpack")),
        num(bwd),
        num(r.comm_fraction()),
        num(r.bytes_remote),
        num(r.bytes_inter_node),
        num(r.bytes_intra_node),
        num(r.ct_standard),
        num(r.ct_occult),
        num(r.ct_node),
        num(r.intra_ratio),
        num(r.speedup_vs_standard),
        res.profile_tag,
        num(r.sim_wall_s)};
    std::vector<std::string> quoted;
    for (const auto& c : cells) quoted.push_back(quote(c));
    for (const auto& [key, value] : axes) quoted.push_back(quote(axis_value(value)));
    out += join_cells(quoted) + "\n";
  }
  return out;
}

}  // namespace occult::cli
