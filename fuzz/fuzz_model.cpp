// libFuzzer target: arbitrary bytes as a model file (load_model_file: `--model my-moe.toml`, or a
// scenario's [model] file). The only acceptable failure is InputError; anything else (crash, sanitizer
// report, other exception) is a bug.
#include <cstdint>
#include <string>

#include "fuzz/fuzz_file.hpp"
#include "sim/core/error.hpp"
#include "sim/core/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in = occult::fuzz::fresh_file("model", data, size);
  if (in.empty()) return 0;
  try {
    (void)occult::load_model_file(in);
  } catch (const occult::InputError&) {
  }
  return 0;
}
