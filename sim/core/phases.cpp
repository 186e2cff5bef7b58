#include "sim/core/phases.hpp"

namespace occult {

const std::vector<PhaseInfo>& layer_phases() {
  using C = PhaseClass;
  static const std::vector<PhaseInfo> k = {
      {"layout", C::Kernel, false},         {"counts", C::Communication, false},
      {"pack", C::Kernel, false},           {"dispatch", C::Communication, false},
      {"expert", C::Expert, false},         {"combine", C::Communication, false},
      {"unpack", C::Kernel, false},         {"grad_pack", C::Kernel, true},
      {"grad_dispatch", C::Communication, true}, {"expert_backward", C::Expert, true},
      {"grad_combine", C::Communication, true},  {"grad_unpack", C::Kernel, true}};
  return k;
}

const PhaseInfo* phase_info(const std::string& name) {
  for (const auto& p : layer_phases())
    if (name == p.name) return &p;
  return nullptr;
}

const char* phase_class_name(PhaseClass c) {
  switch (c) {
    case PhaseClass::Kernel:
      return "kernel";
    case PhaseClass::Communication:
      return "communication";
    case PhaseClass::Expert:
      return "expert";
  }
  return "?";
}

}  // namespace occult
