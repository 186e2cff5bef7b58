#include "sim/core/routing_resolve.hpp"

#include <algorithm>

namespace occult {

DeviceResolver::DeviceResolver(const LayerPlacement& placement, int devices)
    : placement_(placement), used_(std::size_t(std::max(devices, 1)), 0) {
  replicated_ = std::any_of(placement.replicas.begin(), placement.replicas.end(),
                            [](const std::vector<int>& r) { return !r.empty(); });
}

bool DeviceResolver::has_copy(int expert, int device) const {
  if (placement_.device_of[std::size_t(expert)] == device) return true;
  if (!replicated_) return false;
  const auto& r = placement_.replicas[std::size_t(expert)];
  return std::find(r.begin(), r.end(), device) != r.end();
}

void DeviceResolver::resolve(std::span<const std::int32_t> experts, int src_device, std::span<int> out) {
  const auto& primary = placement_.device_of;
  if (!replicated_) {
    for (std::size_t j = 0; j < experts.size(); ++j)
      out[j] = experts[j] < 0 ? -1 : primary[std::size_t(experts[j])];
    return;
  }
  ++epoch_;
  auto replicas_of = [&](std::int32_t e) -> const std::vector<int>& {
    return placement_.replicas[std::size_t(e)];
  };
  // Unreplicated experts have no choice; their devices are what the replicated ones try to reuse.
  for (std::size_t j = 0; j < experts.size(); ++j) {
    const std::int32_t e = experts[j];
    if (e < 0) {
      out[j] = -1;
    } else if (replicas_of(e).empty()) {
      out[j] = primary[std::size_t(e)];
      used_[std::size_t(out[j])] = epoch_;
    }
  }
  for (std::size_t j = 0; j < experts.size(); ++j) {
    const std::int32_t e = experts[j];
    if (e < 0 || replicas_of(e).empty()) continue;
    const int first = primary[std::size_t(e)];
    int pick = -1;
    if (used_[std::size_t(first)] == epoch_) pick = first;
    for (int d : replicas_of(e))
      if (pick < 0 && used_[std::size_t(d)] == epoch_) pick = d;
    if (pick < 0) {
      const auto& r = replicas_of(e);
      const bool src_has_copy = first == src_device || std::find(r.begin(), r.end(), src_device) != r.end();
      pick = src_has_copy ? src_device : first;
    }
    out[j] = pick;
    used_[std::size_t(pick)] = epoch_;
  }
}

TokenWalker::TokenWalker(const LayerPlacement& placement, const ClusterShape& shape, int top_k)
    : shape_(shape),
      resolver_(placement, shape.devices),
      top_k_(top_k),
      slot_device_(std::size_t(std::max(top_k, 0))),
      devices_(std::size_t(std::max(top_k, 0))),
      counts_(std::size_t(std::max(top_k, 0))),
      nodes_(std::size_t(std::max(top_k, 0))),
      device_seen_(std::size_t(shape.devices), 0),
      node_seen_(std::size_t(std::max(shape.nodes(), 1)), 0),
      device_pos_(std::size_t(shape.devices), 0) {
  validate_shape(shape);
  if (top_k < 1) throw InputError("", 0, "top_k", "must be >= 1, got " + std::to_string(top_k));
  for (std::size_t e = 0; e < placement.device_of.size(); ++e) {
    const int d = placement.device_of[e];
    bool ok = d >= 0 && d < shape.devices;
    if (e < placement.replicas.size())
      for (int r : placement.replicas[e]) ok = ok && r >= 0 && r < shape.devices;
    if (!ok)
      throw InputError("", 0, "placement",
                       "expert " + std::to_string(e) + " is placed outside the " +
                           std::to_string(shape.devices) + " devices of the cluster");
  }
  if (resolver_.replicated() && placement.replicas.size() != placement.device_of.size())
    throw InputError("", 0, "placement.replicas", "needs one list per expert");
}

const TokenDestinations& TokenWalker::resolve_token(const LayerRouting& routing, std::int64_t t,
                                                    std::int64_t tokens) {
  if (routing.top_k != top_k_)
    throw InputError("", 0, "top_k",
                     "layer " + std::to_string(routing.layer) + " has k=" + std::to_string(routing.top_k) +
                         ", expected " + std::to_string(top_k_));
  const auto experts = routing.token_experts(t);
  const int num_experts = resolver_.experts();
  for (std::int32_t e : experts)
    if (e >= num_experts || e < kDroppedExpert)
      throw InputError("", 0, "experts",
                       "layer " + std::to_string(routing.layer) + " token " + std::to_string(t) +
                           ": expert id " + std::to_string(e) + " outside [0, " +
                           std::to_string(num_experts) + ")");
  const int src = source_device(t, tokens, shape_.devices);
  resolver_.resolve(experts, src, slot_device_);

  // Stamps are per call, not per token index, so one walker can serve several layers.
  const std::int64_t stamp = ++epoch_;
  int n_dev = 0, n_node = 0, slots = 0;
  for (int j = 0; j < top_k_; ++j) {
    const int d = slot_device_[std::size_t(j)];
    if (d < 0) continue;
    ++slots;
    if (device_seen_[std::size_t(d)] == stamp) {
      ++counts_[std::size_t(device_pos_[std::size_t(d)])];
      continue;
    }
    device_seen_[std::size_t(d)] = stamp;
    device_pos_[std::size_t(d)] = n_dev;
    devices_[std::size_t(n_dev)] = d;
    counts_[std::size_t(n_dev)] = 1;
    ++n_dev;
    const int node = shape_.node_of(d);
    if (node_seen_[std::size_t(node)] != stamp) {
      node_seen_[std::size_t(node)] = stamp;
      nodes_[std::size_t(n_node++)] = node;
    }
  }
  out_.token = t;
  out_.src = src;
  out_.slots = slots;
  out_.experts = experts;
  out_.device_of_slot = {slot_device_.data(), slot_device_.size()};
  out_.devices = {devices_.data(), std::size_t(n_dev)};
  out_.slots_on_device = {counts_.data(), std::size_t(n_dev)};
  out_.nodes = {nodes_.data(), std::size_t(n_node)};
  return out_;
}

}  // namespace occult
