#pragma once
// Typed access to one table of a TOML file (topologies, the machines of `occult validate`) that names the
// file, line and field of whatever is wrong in an InputError, and refuses fields nobody read.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "sim/core/error.hpp"

namespace occult {

class TableReader {
 public:
  TableReader(const toml::table& t, std::string file, std::string prefix)
      : t_(t), file_(std::move(file)), prefix_(std::move(prefix)) {}

  long line_of(const std::string& key) const {
    const toml::node* n = t_.get(key);
    return n ? static_cast<long>(n->source().begin.line) : static_cast<long>(t_.source().begin.line);
  }
  std::string field(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }
  [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
    throw InputError(file_, line_of(key), field(key), msg);
  }
  bool has(const std::string& key) const { return t_.contains(key); }

  double number(const std::string& key, std::optional<double> fallback = std::nullopt) {
    used_.insert(key);
    const toml::node* n = t_.get(key);
    if (!n) {
      if (fallback) return *fallback;
      fail(key, "missing required field");
    }
    if (auto v = n->value<double>()) return *v;
    fail(key, "must be a number");
  }
  int integer(const std::string& key, std::optional<int> fallback = std::nullopt) {
    used_.insert(key);
    const toml::node* n = t_.get(key);
    if (!n) {
      if (fallback) return *fallback;
      fail(key, "missing required field");
    }
    auto v = n->value<std::int64_t>();
    if (!v || !n->is_integer()) fail(key, "must be an integer");
    if (*v < -1000000000 || *v > 1000000000) fail(key, "out of range");
    return static_cast<int>(*v);
  }
  std::string text(const std::string& key, std::optional<std::string> fallback = std::nullopt) {
    used_.insert(key);
    const toml::node* n = t_.get(key);
    if (!n) {
      if (fallback) return *fallback;
      fail(key, "missing required field");
    }
    if (auto v = n->value<std::string>()) return *v;
    fail(key, "must be a string");
  }
  std::vector<int> int_list(const std::string& key) {
    used_.insert(key);
    std::vector<int> out;
    const toml::node* n = t_.get(key);
    if (!n) return out;
    const toml::array* a = n->as_array();
    if (!a) fail(key, "must be an array of integers");
    for (const auto& e : *a) {
      auto v = e.value<std::int64_t>();
      if (!v || !e.is_integer()) fail(key, "must be an array of integers");
      out.push_back(static_cast<int>(*v));
    }
    return out;
  }
  const toml::table* sub(const std::string& key) {
    used_.insert(key);
    const toml::node* n = t_.get(key);
    if (!n) return nullptr;
    if (!n->is_table()) fail(key, "must be a table");
    return n->as_table();
  }
  void reject_unknown() const {
    for (const auto& [k, v] : t_)
      if (!used_.count(std::string(k.str()))) fail(std::string(k.str()), "unknown field");
  }
  const std::string& file() const { return file_; }

 private:
  const toml::table& t_;
  std::string file_, prefix_;
  std::set<std::string> used_;
};

}  // namespace occult
