// PLACEHOLDER: replaced by the real command.
#include "sim/cli/commands.hpp"
namespace occult::cli {
void add_report_command(CLI::App& app) { app.add_subcommand("report", "(not yet built)"); }
}  // namespace occult::cli
