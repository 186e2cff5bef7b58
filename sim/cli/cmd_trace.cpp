// PLACEHOLDER: replaced by the real command.
#include "sim/cli/commands.hpp"
namespace occult::cli {
void add_trace_command(CLI::App& app) { app.add_subcommand("trace", "(not yet built)"); }
}  // namespace occult::cli
