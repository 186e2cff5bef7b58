// libFuzzer target: arbitrary bytes as a model file (load_model_file: `--model my-moe.toml`, or a scenario's
// [model] file). The only acceptable failure is InputError; anything else (crash, sanitizer report, other
// exception) is a bug.
#include <cstdint>

#include "fuzz/fuzz_file.hpp"
#include "sim/core/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return occult::fuzz::only_input_errors("model", data, size,
                                         [](const std::string& p) { return occult::load_model_file(p); });
}
