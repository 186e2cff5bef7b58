// PLACEHOLDER: replaced by the real command.
#include "sim/cli/commands.hpp"
namespace occult::cli {
void add_simulate_command(CLI::App& app) { app.add_subcommand("simulate", "(not yet built)"); }
}  // namespace occult::cli
