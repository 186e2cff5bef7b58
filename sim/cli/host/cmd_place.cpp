// PLACEHOLDER: replaced by the real command.
#include "sim/cli/commands.hpp"
namespace occult::cli {
void add_place_command(CLI::App& app) { app.add_subcommand("place", "(not yet built)"); }
}  // namespace occult::cli
