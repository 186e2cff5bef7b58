// libFuzzer target: arbitrary `--set` assignments applied to a small scenario, then its sweep's first
// point resolved. Each line is one assignment: KEY=VALUE as typed, or (no '=') its first byte picks one
// of the scenario keys and the rest is the value, so that every key gets values. The only acceptable
// failure is InputError; anything else (crash, sanitizer report, other exception) is a bug.
#include <cstdint>
#include <string>

#include "sim/core/error.hpp"
#include "sim/core/scenario.hpp"

namespace {

// In scenarios/ like the shipped ones (the fuzzer runs from the repository root), on a topology that
// has a fabric, so that cluster overrides reach the fabric's checks.
const char* kBase = R"(name = "fuzz"
[model]
preset = "olmoe-1b-7b"
[workload]
mode = "prefill"
tokens_per_device = 64
[cluster]
topology = "../topologies/railopt-pcie-h200.toml"
[compare]
strategies = ["standard", "occult"]
placements = ["contiguous"]
[sweep]
cluster.nodes = [1, 2]
)";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto& keys = occult::scenario_keys();
  try {
    occult::ScenarioDoc doc = occult::ScenarioDoc::parse(kBase, "scenarios/fuzz.toml");
    std::size_t start = 0;
    for (int n = 0; n < 8 && start < text.size(); ++n) {
      const std::size_t end = std::min(text.find('\n', start), text.size());
      const std::string line = text.substr(start, end - start);
      start = end + 1;
      if (line.find('=') != std::string::npos || line.empty()) {
        doc.set(line);
      } else {
        const auto& k = keys[static_cast<unsigned char>(line[0]) % keys.size()];
        doc.set(std::string(line[0] & 1 ? "sweep." : "") + k.key + "=" + line.substr(1));
      }
    }
    const occult::SweepPoints points = doc.sweep_points();
    (void)points[0].doc->resolve();
    if (points.size() > 1) (void)points[points.size() - 1].doc->resolve();
  } catch (const occult::InputError&) {
  }
  return 0;
}
