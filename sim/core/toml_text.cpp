#include "sim/core/toml_text.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "sim/core/error.hpp"
#include "sim/core/input_file.hpp"

namespace occult {

namespace {

bool ascii(char c) { return static_cast<unsigned char>(c) < 0x80; }
bool bare_key(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

// Whether a line with non-ASCII bytes has one of the two shapes toml++ reads without classifying them:
//   [spaces] # comment                      (anything after the '#')
//   [spaces] key = "string" or 'string' [spaces] [# comment]
// with a bare (dotted) key and a one-line string, no backslash right before a non-ASCII byte. Anything
// else (arrays, inline tables, quoted keys, multi-line strings, junk) must be ASCII.
bool plain_line(std::string_view l) {
  std::size_t i = 0;
  auto spaces = [&] {
    while (i < l.size() && (l[i] == ' ' || l[i] == '\t' || l[i] == '\r')) ++i;
  };
  spaces();
  if (i < l.size() && l[i] == '#') return true;
  const std::size_t key = i;
  while (i < l.size() && bare_key(l[i])) ++i;
  if (i == key) return false;
  spaces();
  if (i == l.size() || l[i] != '=') return false;
  ++i;
  spaces();
  if (i < l.size() && (l[i] == '"' || l[i] == '\'')) {
    const char q = l[i++];
    if (i + 1 < l.size() && l[i] == q && l[i + 1] == q) return false;  // a multi-line string
    for (; i < l.size() && l[i] != q; ++i)
      if (q == '"' && l[i] == '\\' && (++i == l.size() || !ascii(l[i]))) return false;
    if (i == l.size()) return false;
    ++i;
    spaces();
    return i == l.size() || l[i] == '#';
  }
  // A value without quotes: the non-ASCII bytes must all lie in a trailing comment.
  for (; i < l.size() && l[i] != '#'; ++i)
    if (!ascii(l[i]) || l[i] == '"' || l[i] == '\'') return false;
  return true;
}

}  // namespace

std::optional<TomlTextProblem> unsafe_toml_text(const std::string& text) {
  std::string_view all(text);
  if (all.substr(0, 3) == "\xEF\xBB\xBF") all.remove_prefix(3);  // a UTF-8 byte order mark
  const bool multi_line_strings =
      all.find("\"\"\"") != std::string_view::npos || all.find("'''") != std::string_view::npos;
  long line = 1;
  for (std::size_t begin = 0; begin <= all.size(); ++line) {
    const std::size_t end = std::min(all.find('\n', begin), all.size());
    const std::string_view l = all.substr(begin, end - begin);
    if (!std::all_of(l.begin(), l.end(), ascii)) {
      if (multi_line_strings)
        return TomlTextProblem{line,
                               "non-ASCII character in a file with multi-line strings (keep those ASCII)"};
      if (!plain_line(l))
        return TomlTextProblem{line,
                               "non-ASCII character outside a comment or a one-line key = \"string\" value"};
    }
    begin = end + 1;
  }
  return std::nullopt;
}

toml::table parse_toml(const std::string& text, const std::string& path) {
  if (const auto p = unsafe_toml_text(text)) throw InputError(path, p->line, "", p->message);
  try {
    return toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    throw InputError(path, long(e.source().begin.line), "", std::string(e.description()));
  }
}

toml::table parse_toml_file(const std::string& path, const std::string& what) {
  InputFile in(path);
  // toml++'s nodes take tens of bytes per byte of a dense file.
  return parse_toml(in.read_all(what, 32), in.name());
}

}  // namespace occult
