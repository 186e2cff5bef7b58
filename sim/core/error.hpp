#pragma once
// Input errors: every user-facing failure caused by bad input carries the file, line and field at
// fault so the CLI can print "file:line: field: message" and exit with code 2.
#include <stdexcept>
#include <string>

namespace occult {

class InputError : public std::runtime_error {
 public:
  InputError(std::string file, long line, std::string field, const std::string& message);
  explicit InputError(const std::string& message) : InputError("", 0, "", message) {}

  const std::string& file() const { return file_; }
  long line() const { return line_; }
  const std::string& field() const { return field_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  long line_;
  std::string field_;
  std::string message_;
};

// Exit code the CLI uses for InputError (docs/design.md 4).
inline constexpr int kExitBadInput = 2;

}  // namespace occult
