#include "sim/cli/parse_errors.hpp"

namespace occult::cli {

std::string describe_parse_error(const CLI::App& app, const CLI::ParseError& e) {
  // The deepest command the parser entered: "occult trace import" for `occult trace import --bad`.
  const CLI::App* cur = &app;
  std::string path = app.get_name();
  while (!cur->get_subcommands().empty()) {
    cur = cur->get_subcommands().front();
    path += " " + cur->get_name();
  }
  const std::string help = "\n(run '" + path + " --help' for the " +
                           (cur->get_require_subcommand_min() > 0 ? "commands" : "options") + ")";
  if (cur->get_require_subcommand_min() == 0) return e.what() + help;
  std::string names;
  for (const CLI::App* sub : cur->get_subcommands([](const CLI::App*) { return true; }))
    names += (names.empty() ? "" : ", ") + sub->get_name();
  std::string options;  // unparsed options before the (missing) command
  // Unparsed arguments fall through to the top (--max-memory may follow a command): look at all of them.
  for (const std::string& arg : app.remaining(true)) {
    if (!arg.empty() && arg[0] != '-')
      return "unknown command '" + arg + "' after '" + path + "' (commands: " + names + ")" + help;
    options += (options.empty() ? "" : " ") + arg;
  }
  if (e.get_name() == "RequiredError" && cur->get_subcommands().empty())
    return "'" + path + "' needs a command: " + names +
           (options.empty() ? "" : " (not understood: " + options + ")") + help;
  return e.what() + help;
}

}  // namespace occult::cli
