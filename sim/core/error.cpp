#include "sim/core/error.hpp"

namespace occult {
namespace {
std::string format(const std::string& file, long line, const std::string& field, const std::string& msg) {
  std::string out;
  if (!file.empty()) {
    out += file;
    if (line > 0) out += ":" + std::to_string(line);
    out += ": ";
  }
  if (!field.empty()) out += field + ": ";
  return out + msg;
}
}  // namespace

InputError::InputError(std::string file, long line, std::string field, const std::string& message)
    : std::runtime_error(format(file, line, field, message)),
      file_(std::move(file)),
      line_(line),
      field_(std::move(field)),
      message_(message) {}

}  // namespace occult
