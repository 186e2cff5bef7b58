// PLACEHOLDER: replaced by the real GPU commands.
#include "sim/cli/commands.hpp"
namespace occult::cli {
void add_gpu_commands(CLI::App& app) { app.add_subcommand("calibrate", "(not yet built)"); }
}  // namespace occult::cli
