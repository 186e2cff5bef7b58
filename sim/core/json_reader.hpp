#pragma once
// Typed access to untrusted JSON (calibration profiles, measured run files) that names the JSON path
// of whatever is wrong in an InputError, so `occult` can say which file and field to fix.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace occult {

class JsonReader {
 public:
  explicit JsonReader(std::string where) : where_(std::move(where)) {}

  // `path` is the prefix of `key` in messages ("links[2]."), empty at the top level.
  const nlohmann::json& object(const nlohmann::json& j, const std::string& key, const std::string& path) const;
  const nlohmann::json& array(const nlohmann::json& j, const std::string& key, const std::string& path) const;
  double number(const nlohmann::json& j, const std::string& key, const std::string& path, bool positive) const;
  // An integer in [lo, hi]; a number with a fraction, or out of range, is an error (never truncated).
  std::int64_t integer(const nlohmann::json& j, const std::string& key, const std::string& path,
                       std::int64_t lo, std::int64_t hi) const;
  bool boolean(const nlohmann::json& j, const std::string& key, const std::string& path) const;
  // Required string.
  std::string text(const nlohmann::json& j, const std::string& key, const std::string& path) const;
  // Optional string: `fallback` when the key is absent.
  std::string text_or(const nlohmann::json& j, const std::string& key, const std::string& path,
                      const std::string& fallback) const;
  bool has(const nlohmann::json& j, const std::string& key) const { return j.is_object() && j.contains(key); }

  [[noreturn]] void fail(const std::string& field, const std::string& msg) const;
  const std::string& where() const { return where_; }

 private:
  const nlohmann::json& at(const nlohmann::json& j, const std::string& key, const std::string& path) const;
  std::string where_;
};

// Parses a whole JSON file (InputError naming the file on open or parse failures).
nlohmann::json read_json_file(const std::string& path, const std::string& what);

}  // namespace occult
