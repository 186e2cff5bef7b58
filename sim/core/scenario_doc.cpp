// ScenarioDoc: the TOML document, its schema check, `--set` overrides and sweep expansion.
#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include <toml++/toml.h>

#include "sim/core/error.hpp"
#include "sim/core/input_file.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/scenario_impl.hpp"
#include "sim/core/toml_text.hpp"

namespace occult {
namespace {

const ScenarioKey* find_key(const std::string& key) {
  for (const auto& k : scenario_keys())
    if (key == k.key) return &k;
  return nullptr;
}

[[noreturn]] void unknown_key(const std::string& file, long line, const std::string& key) {
  // Suggest keys of the same section so a typo is easy to fix.
  std::string section = key.substr(0, key.find('.') + 1), near;
  for (const auto& k : scenario_keys())
    if (!section.empty() && std::string(k.key).rfind(section, 0) == 0)
      near += (near.empty() ? "" : ", ") + std::string(k.key);
  throw InputError(file, line, key,
                   "unknown key" + (near.empty() ? std::string(" (docs/scenarios.md lists every key)")
                                                 : " (known here: " + near + ")"));
}

bool type_ok(const ScenarioKey& k, const toml::node& n) {
  const std::string t = k.type;
  if (t == "string" || t == "path") return n.is_string();
  if (t == "integer") return n.is_integer();
  if (t == "number") return n.is_integer() || n.is_floating_point();
  if (t == "boolean") return n.is_boolean();
  if (t == "string list") {
    if (!n.is_array()) return false;
    for (const auto& e : *n.as_array())
      if (!e.is_string()) return false;
    return true;
  }
  return false;
}

void check_type(const ScenarioKey& k, const toml::node& n, const std::string& file, long line) {
  if (!type_ok(k, n)) throw InputError(file, line, k.key, std::string("must be a ") + k.type);
}

// Leaves of a table as (dotted key, node); arrays are leaves.
void flatten(const toml::table& t, const std::string& prefix,
             std::vector<std::pair<std::string, const toml::node*>>& out) {
  for (const auto& [k, v] : t) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (v.is_table())
      flatten(*v.as_table(), key, out);
    else
      out.emplace_back(key, &v);
  }
}

std::string literal(const toml::node& n) {
  std::ostringstream os;
  n.visit([&](const auto& v) { os << v; });
  return os.str();
}

// Each value of a sweep axis once: a repeated value would run the same point twice and write two rows
// with one run_id, which `occult report` rejects.
void check_distinct(const toml::array& values, const std::string& file, long line, const std::string& key) {
  std::vector<std::string> seen;
  for (const auto& v : values) {
    std::string lit = literal(v);
    if (std::find(seen.begin(), seen.end(), lit) != seen.end())
      throw InputError(file, line, key, "the value " + lit + " appears twice in this sweep axis");
    seen.push_back(std::move(lit));
  }
}

void put(toml::table& root, const std::string& key, const toml::node& value) {
  toml::table* t = &root;
  std::size_t start = 0;
  for (std::size_t dot; (dot = key.find('.', start)) != std::string::npos; start = dot + 1) {
    const std::string part = key.substr(start, dot - start);
    toml::node* child = t->get(part);
    if (!child || !child->is_table()) {
      t->insert_or_assign(part, toml::table{});
      child = t->get(part);
    }
    t = child->as_table();
  }
  t->insert_or_assign(key.substr(start), value);
}

// Removes `key` from the sweep table, written either as nested tables or as one quoted dotted key.
void unsweep(toml::table& root, const std::string& key) {
  toml::node* s = root.get("sweep");
  if (!s || !s->is_table()) return;
  toml::table* t = s->as_table();
  t->erase(key);
  std::size_t start = 0;
  for (std::size_t dot; (dot = key.find('.', start)) != std::string::npos; start = dot + 1) {
    toml::node* child = t->get(key.substr(start, dot - start));
    if (!child || !child->is_table()) return;
    t = child->as_table();
  }
  t->erase(key.substr(start));
}

}  // namespace

long ScenarioDoc::Impl::line_of(const std::string& key) const {
  if (auto it = origins.find(key); it != origins.end()) return it->second.second;
  const toml::node* n = root.at_path(key).node();
  return n ? long(n->source().begin.line) : 0;
}

std::string ScenarioDoc::Impl::file_of(const std::string& key) const {
  if (auto it = origins.find(key); it != origins.end()) return it->second.first;
  return file;
}

void ScenarioDoc::Impl::check_schema() const {
  std::vector<std::pair<std::string, const toml::node*>> leaves;
  flatten(root, "", leaves);
  for (const auto& [key, node] : leaves) {
    const long line = long(node->source().begin.line);
    if (key.rfind("sweep.", 0) == 0) {
      const std::string axis = key.substr(6);
      const ScenarioKey* k = find_key(axis);
      if (!k) unknown_key(file, line, axis);
      if (!node->is_array() || node->as_array()->empty())
        throw InputError(file, line, key, "a sweep axis is a non-empty list of values");
      for (const auto& v : *node->as_array()) check_type(*k, v, file, line);
      check_distinct(*node->as_array(), file, line, key);
      continue;
    }
    const ScenarioKey* k = find_key(key);
    if (!k) unknown_key(file, line, key);
    check_type(*k, *node, file, line);
  }
}

ScenarioDoc::ScenarioDoc(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ScenarioDoc::ScenarioDoc(const ScenarioDoc& o) : impl_(std::make_unique<Impl>(*o.impl_)) {}
ScenarioDoc& ScenarioDoc::operator=(const ScenarioDoc& o) {
  if (this != &o) impl_ = std::make_unique<Impl>(*o.impl_);
  return *this;
}
ScenarioDoc::ScenarioDoc(ScenarioDoc&&) noexcept = default;
ScenarioDoc& ScenarioDoc::operator=(ScenarioDoc&&) noexcept = default;
ScenarioDoc::~ScenarioDoc() = default;

const std::string& ScenarioDoc::file() const { return impl_->file; }

ScenarioDoc ScenarioDoc::parse(const std::string& text, const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->file = path;
  impl->dir = std::filesystem::path(path).parent_path().string();
  impl->root = parse_toml(text, path);
  impl->check_schema();
  return ScenarioDoc(std::move(impl));
}

ScenarioDoc ScenarioDoc::load(const std::string& path) {
  InputFile in(path);
  ScenarioDoc doc = parse(in.read_all("scenario file", 32), in.name());
  // A scenario read from a pipe or standard input has no folder of its own: its relative paths are
  // relative to the current directory (not /dev/fd).
  if (!in.regular()) doc.impl_->dir.clear();
  return doc;
}

void ScenarioDoc::set(const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError("--set", 0, assignment, "expected key=value, e.g. --set cluster.nodes=4");
  set(assignment.substr(0, eq), assignment.substr(eq + 1), "--set " + assignment);
}

void ScenarioDoc::set(const std::string& key, const std::string& value, const std::string& origin) {
  const bool sweep = key.rfind("sweep.", 0) == 0;
  const ScenarioKey* k = find_key(sweep ? key.substr(6) : key);
  if (!k) unknown_key(origin, 0, sweep ? key.substr(6) : key);
  toml::table parsed;
  try {
    parsed = parse_toml("v = " + value, origin);
  } catch (const InputError&) {
    // A bare word (--set model.preset=deepseek-v3) is a string.
    parsed.insert_or_assign("v", value);
  }
  toml::node* v = parsed.get("v");
  // Values meant as strings that happen to parse as something else (a preset named "1") stay strings.
  if ((std::string(k->type) == "string" || std::string(k->type) == "path") && !v->is_string() && !sweep) {
    parsed.insert_or_assign("v", value);
    v = parsed.get("v");
  }
  if (sweep) {
    if (!v->is_array() || v->as_array()->empty())
      throw InputError(origin, 0, key,
                       "a sweep axis is a non-empty list, e.g. --set sweep.cluster.nodes=[1,2,4]");
    for (const auto& e : *v->as_array()) check_type(*k, e, origin, 0);
    check_distinct(*v->as_array(), origin, 0, key);
  } else {
    check_type(*k, *v, origin, 0);
  }
  // Paths given on the command line are relative to the current directory, not the scenario's.
  if (std::string(k->type) == "path" && !sweep && !v->as_string()->get().empty()) {
    auto p = std::filesystem::absolute(v->as_string()->get()).lexically_normal().string();
    parsed.insert_or_assign("v", p);
    v = parsed.get("v");
  }
  // Setting a key that is also a sweep axis pins it: the sweep no longer varies it.
  if (!sweep) unsweep(impl_->root, key);
  put(impl_->root, key, *v);
  impl_->origins[key] = {origin, 0};
}

std::vector<SweepAxis> ScenarioDoc::sweep_axes() const {
  std::vector<SweepAxis> axes;
  const toml::node* s = impl_->root.get("sweep");
  if (!s || !s->is_table()) return axes;
  std::vector<std::pair<std::string, const toml::node*>> leaves;
  flatten(*s->as_table(), "", leaves);
  // toml++ tables are ordered by key; order axes by their line in the file so "the last axis varies
  // fastest" follows what the user wrote.
  for (const auto& [key, node] : leaves) {
    SweepAxis a;
    a.key = key;
    a.line = long(node->source().begin.line);
    for (const auto& v : *node->as_array()) a.values.push_back(literal(v));
    axes.push_back(std::move(a));
  }
  std::stable_sort(axes.begin(), axes.end(),
                   [](const SweepAxis& a, const SweepAxis& b) { return a.line < b.line; });
  return axes;
}

SweepPoints ScenarioDoc::sweep_points() const {
  SweepPoints points;
  points.axes_ = sweep_axes();
  for (const auto& a : points.axes_) {
    if (a.values.size() > SweepPoints::kMaxPoints / points.size_)
      throw InputError(impl_->file_of("sweep." + a.key), a.line, "sweep",
                       "the sweep axes make more than " + std::to_string(SweepPoints::kMaxPoints) +
                           " points (the product of their lengths); split the sweep");
    points.size_ *= a.values.size();
  }
  auto base = std::make_shared<ScenarioDoc>(*this);
  base->impl_->root.erase("sweep");
  points.base_ = std::move(base);
  return points;
}

SweepPoint SweepPoints::operator[](std::size_t i) const {
  if (i >= size_)
    throw std::out_of_range("sweep point " + std::to_string(i) + " of " + std::to_string(size_));
  const ScenarioDoc::Impl& base = *base_->impl_;
  auto doc = std::make_shared<ScenarioDoc>(*base_);
  SweepPoint p;
  p.values.resize(axes_.size());
  // Mixed radix, the last axis the fastest digit.
  for (std::size_t a = axes_.size(); a-- > 0;) {
    const SweepAxis& axis = axes_[a];
    const std::string& lit = axis.values[i % axis.values.size()];
    i /= axis.values.size();
    toml::table parsed = parse_toml("v = " + lit, base.file);
    put(doc->impl_->root, axis.key, *parsed.get("v"));
    doc->impl_->origins[axis.key] = {base.file_of("sweep." + axis.key), axis.line};
    p.values[a] = {axis.key, lit};
  }
  p.doc = std::move(doc);
  return p;
}

}  // namespace occult
