// PLACEHOLDER: replaced by the real command.
#include "sim/cli/commands.hpp"
namespace occult::cli {
void add_sweep_command(CLI::App& app) { app.add_subcommand("sweep", "(not yet built)"); }
}  // namespace occult::cli
