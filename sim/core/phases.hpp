#pragma once
// The phases of one MoE layer, one vocabulary for both executors (the SimGrid engine and the GPU
// backend), their JSON, the validation tables and the docs. A phase's time on a device is the span
// from the end of the device's previous phase to the end of this one, so an exchange includes the
// wait for peers that are late, as CUDA events on the device's stream measure it.
#include <string>
#include <vector>

namespace occult {

enum class PhaseClass { Kernel, Communication, Expert };

struct PhaseInfo {
  const char* name;
  PhaseClass cls;
  bool backward;
};

// In execution order: layout, counts, pack, dispatch, expert, combine, unpack, then (training)
// grad_pack, grad_dispatch (the backward of combine: output gradients travel like a dispatch),
// expert_backward, grad_combine (the backward of dispatch), grad_unpack.
const std::vector<PhaseInfo>& layer_phases();
// nullptr for an unknown name.
const PhaseInfo* phase_info(const std::string& name);
// "kernel" (layout, pack, unpack and their gradients), "communication", "expert".
const char* phase_class_name(PhaseClass c);

}  // namespace occult
