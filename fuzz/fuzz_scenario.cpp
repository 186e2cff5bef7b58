// libFuzzer target: arbitrary bytes as a scenario file in scenarios/ (so that the shipped examples in the
// corpus reach their topologies and profile when run from the repository root), parsed and resolved. The only
// acceptable failure is InputError; anything else (crash, sanitizer report, other exception) is a bug.
#include <cstdint>
#include <string>

#include "sim/core/error.hpp"
#include "sim/core/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    occult::ScenarioDoc doc = occult::ScenarioDoc::parse(text, "scenarios/fuzz.toml");
    (void)doc.resolve();
  } catch (const occult::InputError&) {
  }
  return 0;
}
