#include "sim/core/machines.hpp"

#include <filesystem>

#include "sim/core/toml_reader.hpp"
#include "sim/core/toml_text.hpp"

namespace occult {

std::vector<MachineEntry> read_machines(const std::string& path) {
  const toml::table root = parse_toml_file(path, "cannot open the machines file");
  const auto dir = std::filesystem::path(path).parent_path();
  auto resolve = [&](const std::string& p) {
    std::filesystem::path f(p);
    return (f.is_relative() ? dir / f : f).lexically_normal().string();
  };
  TableReader top(root, path, "");
  std::vector<MachineEntry> out;
  const toml::node* list = root.get("machine");
  (void)top.has("machine");
  if (!list || !list->is_array_of_tables())
    throw InputError(path, 0, "machine", "needs [[machine]] tables (gpu, gpus, path, topology, profile)");
  for (const auto& node : *list->as_array()) {
    const toml::table& t = *node.as_table();
    TableReader r(t, path, "machine");
    MachineEntry m;
    m.line = static_cast<long>(t.source().begin.line);
    m.gpu = r.text("gpu");
    m.gpus = r.integer("gpus");
    if (m.gpus < 1) r.fail("gpus", "must be >= 1");
    m.path = r.text("path");
    if (m.path != "local" && m.path != "nvlink" && m.path != "pcie" && m.path != "network")
      r.fail("path", "'" + m.path + "' is not a path (local, nvlink, pcie, network)");
    if ((m.path == "local") != (m.gpus == 1)) r.fail("path", "'local' goes with one GPU, the others with two or more");
    m.topology = resolve(r.text("topology"));
    m.profile = resolve(r.text("profile"));
    r.reject_unknown();
    if (find_machine(out, m.gpu, m.gpus, m.path))
      r.fail("gpu", "a second entry for " + m.gpu + " x" + std::to_string(m.gpus) + " over " + m.path);
    out.push_back(std::move(m));
  }
  for (const auto& [k, v] : root)
    if (k.str() != "machine") top.fail(std::string(k.str()), "unknown field");
  return out;
}

const MachineEntry* find_machine(const std::vector<MachineEntry>& machines, const std::string& gpu, int gpus,
                                 const std::string& path) {
  for (const auto& m : machines)
    if (m.gpu == gpu && m.gpus == gpus && m.path == path) return &m;
  return nullptr;
}

}  // namespace occult
