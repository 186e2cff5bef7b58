#pragma once
// Internal to scenario_doc.cpp and scenario_resolve.cpp: the state behind ScenarioDoc.
#include <map>
#include <string>
#include <utility>

#include <toml++/toml.h>

#include "sim/core/scenario.hpp"

namespace occult {

struct ScenarioDoc::Impl {
  toml::table root;
  std::string file;  // the scenario file
  std::string dir;   // its folder: relative paths in the file are relative to it
  // Keys set by --set or by a sweep point: where the value came from (file or "--set ...", line).
  std::map<std::string, std::pair<std::string, long>> origins;

  long line_of(const std::string& key) const;
  std::string file_of(const std::string& key) const;
  void check_schema() const;  // unknown keys and wrong types are InputErrors
};

}  // namespace occult
