#pragma once
// Command-line parse errors in occult's own words: an unknown or missing command names the commands
// there are (CLI11 would say "A subcommand is required"), and every message says where --help is.
#include <string>

#include <CLI/CLI.hpp>

namespace occult::cli {

// The message printed after "occult: error: " for a CLI11 parse error.
std::string describe_parse_error(const CLI::App& app, const CLI::ParseError& e);

}  // namespace occult::cli
