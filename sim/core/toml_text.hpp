#pragma once
// TOML parsing behind one guard. toml++ 3.4 (the Debian package) reaches __builtin_unreachable when it
// classifies some non-ASCII code points where whitespace may stand (upstream marzer/tomlplusplus#295
// and #190, fixed after 3.4): undefined behaviour on a malformed file. TOML allows non-ASCII only inside
// strings and comments, and toml++ reads a comment or a one-line `key = "string"` without classifying
// its characters; so the text is checked first and non-ASCII anywhere else is refused as bad input
// (fuzz/fuzz_scenario.cpp and fuzz_topology.cpp found five shapes of it before this rule).
#include <optional>
#include <string>

#include <toml++/toml.h>

namespace occult {

struct TomlTextProblem {
  long line = 0;
  std::string message;
};

// The first line with a non-ASCII byte outside a comment or a one-line `key = "string"` value (any
// non-ASCII byte when the file has a multi-line string); nothing when toml++ can be given the text.
std::optional<TomlTextProblem> unsafe_toml_text(const std::string& text);

// toml::parse / toml::parse_file with that check first; every failure is an InputError naming `path`.
// The file is read through InputFile ("-", pipes); `what` names it in messages ("topology file").
toml::table parse_toml(const std::string& text, const std::string& path);
toml::table parse_toml_file(const std::string& path, const std::string& what);

}  // namespace occult
