#include "sim/core/json_reader.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "sim/core/error.hpp"

namespace occult {

void JsonReader::fail(const std::string& field, const std::string& msg) const {
  throw InputError(where_, 0, field, msg);
}

const nlohmann::json& JsonReader::at(const nlohmann::json& j, const std::string& key,
                                     const std::string& path) const {
  if (!j.is_object() || !j.contains(key)) fail(path + key, "missing");
  return j.at(key);
}

const nlohmann::json& JsonReader::object(const nlohmann::json& j, const std::string& key,
                                         const std::string& path) const {
  const auto& c = at(j, key, path);
  if (!c.is_object()) fail(path + key, "must be an object");
  return c;
}

const nlohmann::json& JsonReader::array(const nlohmann::json& j, const std::string& key,
                                        const std::string& path) const {
  const auto& c = at(j, key, path);
  if (!c.is_array()) fail(path + key, "must be an array");
  return c;
}

double JsonReader::number(const nlohmann::json& j, const std::string& key, const std::string& path,
                          bool positive) const {
  const auto& c = at(j, key, path);
  if (!c.is_number()) fail(path + key, "must be a number");
  const double v = c.get<double>();
  if (!std::isfinite(v) || v < 0 || (positive && v == 0))
    fail(path + key, positive ? "must be a positive number" : "must be a number >= 0");
  return v;
}

std::int64_t JsonReader::integer(const nlohmann::json& j, const std::string& key, const std::string& path,
                                 std::int64_t lo, std::int64_t hi) const {
  const auto& c = at(j, key, path);
  const std::string range = "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  if (c.is_number_unsigned()) {
    const auto v = c.get<std::uint64_t>();
    if (v > std::uint64_t(hi) || std::int64_t(v) < lo) fail(path + key, range);
    return std::int64_t(v);
  }
  if (!c.is_number_integer()) fail(path + key, range);
  const auto v = c.get<std::int64_t>();
  if (v < lo || v > hi) fail(path + key, range);
  return v;
}

bool JsonReader::boolean(const nlohmann::json& j, const std::string& key, const std::string& path) const {
  const auto& c = at(j, key, path);
  if (!c.is_boolean()) fail(path + key, "must be true or false");
  return c.get<bool>();
}

std::string JsonReader::text(const nlohmann::json& j, const std::string& key, const std::string& path) const {
  const auto& c = at(j, key, path);
  if (!c.is_string()) fail(path + key, "must be a string");
  return c.get<std::string>();
}

std::string JsonReader::text_or(const nlohmann::json& j, const std::string& key, const std::string& path,
                                const std::string& fallback) const {
  if (!has(j, key)) return fallback;
  return text(j, key, path);
}

nlohmann::json read_json_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(path, 0, "", "is a directory, not a " + what);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "", "cannot open " + what);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path, 0, "", "not valid JSON (" + what + "; truncated or not JSON?): " + e.what());
  } catch (const nlohmann::json::out_of_range& e) {  // e.g. a number beyond double, 1E999
    throw InputError(path, 0, "", "a value out of range in this " + what + ": " + e.what());
  }
}

}  // namespace occult
