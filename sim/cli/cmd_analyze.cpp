// PLACEHOLDER: replaced by the real command.
#include "sim/cli/commands.hpp"
namespace occult::cli {
void add_analyze_command(CLI::App& app) { app.add_subcommand("analyze", "(not yet built)"); }
}  // namespace occult::cli
