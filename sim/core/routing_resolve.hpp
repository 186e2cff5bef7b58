#pragma once
// Resolving routing onto devices: for each token, which device computes each of its chosen experts,
// and the distinct destination devices and nodes (Dev_t, Node_t of docs/design.md 2). Metrics, plans,
// pruning and placement all go through this one resolution, so they can never disagree about where
// a (token, expert) pair lands.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sim/core/cluster_shape.hpp"
#include "sim/core/error.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/trace.hpp"

namespace occult {

// A slot whose expert was dropped by collaboration pruning (prune.hpp, criterion "score"): the row
// layout stays [tokens x k], the slot carries weight 0 and goes nowhere.
inline constexpr std::int32_t kDroppedExpert = -1;

// Chooses the device of each expert of one token. Without replicas that is the primary device.
// With replicas (LayerPlacement::replicas), each replicated expert takes, in this order of
// preference: a device the token already uses (first such in the order primary, replicas...), so
// the replica adds no new destination device; else the token's source device; else the primary.
// "Already uses" means the devices of the token's unreplicated experts plus the choices made for
// its earlier replicated slots (slot order). Deterministic. A consequence pruning relies on: if a
// subset of a token's experts contains every expert that landed on a set of devices A, resolving
// the subset alone lands each of them on the same device as before.
class DeviceResolver {
 public:
  DeviceResolver(const LayerPlacement& placement, int devices);

  // out[j] = device of slot j, or -1 for a kDroppedExpert slot. Expert ids must lie in
  // [0, experts()) (checked by the callers that read untrusted data; see for_each_token).
  void resolve(std::span<const std::int32_t> experts, int src_device, std::span<int> out);

  bool replicated() const { return replicated_; }
  int experts() const { return int(placement_.device_of.size()); }
  // True when expert e has a copy (primary or replica) on device d.
  bool has_copy(int expert, int device) const;

 private:
  const LayerPlacement& placement_;
  bool replicated_ = false;
  std::vector<std::int64_t> used_;  // used_[d] == epoch_ when the token already uses device d
  std::int64_t epoch_ = 0;
};

// One token, resolved. Spans point into scratch owned by the walker: valid during the visit only.
struct TokenDestinations {
  std::int64_t token = 0;
  int src = 0;                            // source device (contiguous blocks, trace.hpp)
  int slots = 0;                          // chosen experts that were not dropped (|S_t|)
  std::span<const std::int32_t> experts;  // the k slots as logged (may hold kDroppedExpert)
  std::span<const int> device_of_slot;    // device of each slot (-1 when dropped)
  std::span<const int> devices;           // Dev_t, in first-seen slot order
  std::span<const int> slots_on_device;   // how many slots landed on devices[i]
  std::span<const int> nodes;             // Node_t, in first-seen order
};

// Walks every token of a layer once, resolving it and calling visit(const TokenDestinations&).
// Allocation-free per token (stamp arrays instead of sets). Throws InputError when an expert id is
// outside [0, E) or the placement and shape disagree.
class TokenWalker {
 public:
  TokenWalker(const LayerPlacement& placement, const ClusterShape& shape, int top_k);

  template <class Visit>
  void walk(const LayerRouting& routing, Visit&& visit) {
    const std::int64_t tokens = routing.tokens();
    for (std::int64_t t = 0; t < tokens; ++t) visit(resolve_token(routing, t, tokens));
  }

  const TokenDestinations& resolve_token(const LayerRouting& routing, std::int64_t t, std::int64_t tokens);

 private:
  ClusterShape shape_;
  DeviceResolver resolver_;
  int top_k_;
  std::vector<int> slot_device_, devices_, counts_, nodes_;
  std::vector<std::int64_t> device_seen_, node_seen_;  // == epoch_ when seen for the current token
  std::vector<int> device_pos_;                        // index in devices_ of a seen device
  std::int64_t epoch_ = 0;
  TokenDestinations out_;
};

}  // namespace occult
