#include "sim/core/plan.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "sim/core/error.hpp"

namespace occult {

namespace {

// A plan with no rows yet; its matrices are block-diagonal with blocks of `block` devices.
CommPlan empty_plan(Strategy strategy, const ClusterShape& shape, int block, int num_experts,
                    std::int64_t row_bytes) {
  validate_shape(shape);
  if (num_experts < 1) throw InputError("", 0, "experts", "must be >= 1, got " + std::to_string(num_experts));
  if (row_bytes < 0) throw InputError("", 0, "row_bytes", "must be >= 0");
  const int D = shape.devices;
  if (block < 1 || D % block != 0)
    throw InputError("", 0, "ep_size",
                     "groups of " + std::to_string(block) + " devices do not divide " + std::to_string(D));
  CommPlan plan;
  plan.strategy = strategy;
  plan.shape = shape;
  plan.row_bytes = row_bytes;
  if (strategy == Strategy::Hierarchical) {
    plan.stages.push_back({PlanStage::Kind::Network, PairMatrix(D, block)});
    plan.stages.push_back({PlanStage::Kind::NodeFanout, PairMatrix(D, block)});
  } else {
    plan.stages.push_back({PlanStage::Kind::Direct, PairMatrix(D, block)});
  }
  plan.tokens_per_device.assign(std::size_t(D), 0);
  plan.pairs_per_device.assign(std::size_t(D), 0);
  plan.rows_per_expert.assign(std::size_t(num_experts), 0);
  plan.recv_rows_per_device.assign(std::size_t(D), 0);
  return plan;
}

}  // namespace

PlanBuilder::PlanBuilder(Strategy strategy, int num_experts, const ClusterShape& shape,
                         std::int64_t row_bytes)
    : plan_(empty_plan(strategy, shape, shape.devices, num_experts, row_bytes)) {}

void PlanBuilder::add(const TokenDestinations& t) {
  ++plan_.tokens_per_device[std::size_t(t.src)];
  for (std::size_t j = 0; j < t.experts.size(); ++j)
    if (t.experts[j] >= 0) ++plan_.rows_per_expert[std::size_t(t.experts[j])];
  for (std::size_t i = 0; i < t.devices.size(); ++i)
    plan_.pairs_per_device[std::size_t(t.devices[i])] += t.slots_on_device[i];

  const ClusterShape& shape = plan_.shape;
  switch (plan_.strategy) {
    case Strategy::Standard: {
      PairMatrix& rows = plan_.stages[0].rows;
      for (std::size_t i = 0; i < t.devices.size(); ++i) {
        rows.at(t.src, t.devices[i]) += t.slots_on_device[i];
        plan_.recv_rows_per_device[std::size_t(t.devices[i])] += t.slots_on_device[i];
      }
      break;
    }
    case Strategy::Occult: {
      PairMatrix& rows = plan_.stages[0].rows;
      for (int d : t.devices) {
        ++rows.at(t.src, d);
        ++plan_.recv_rows_per_device[std::size_t(d)];
      }
      break;
    }
    case Strategy::Hierarchical: {
      PairMatrix& network = plan_.stages[0].rows;
      PairMatrix& fanout = plan_.stages[1].rows;
      const int src_node = shape.node_of(t.src);
      for (int n : t.nodes)
        if (n != src_node) ++network.at(t.src, relay_device(shape, t.src, n));
      for (int d : t.devices) {
        ++plan_.recv_rows_per_device[std::size_t(d)];
        const int n = shape.node_of(d);
        if (n == src_node) {
          ++network.at(t.src, d);
        } else {
          ++fanout.at(relay_device(shape, t.src, n), d);
        }
      }
      break;
    }
  }
}

CommPlan PlanBuilder::finish() && { return std::move(plan_); }

CommPlan build_plan(const LayerRouting& routing, int num_experts, const LayerPlacement& placement,
                    const ClusterShape& shape, Strategy strategy, std::int64_t row_bytes) {
  if (int(placement.device_of.size()) != num_experts)
    throw InputError("", 0, "placement",
                     "places " + std::to_string(placement.device_of.size()) + " experts, the model has " +
                         std::to_string(num_experts));
  PlanBuilder builder(strategy, num_experts, shape, row_bytes);
  if (routing.tokens() > 0) {
    TokenWalker walker(placement, shape, routing.top_k);
    walker.walk(routing, [&](const TokenDestinations& t) { builder.add(t); });
  }
  return std::move(builder).finish();
}

CommPlan grouped_cluster_plan(Strategy strategy, const ClusterShape& shape, int group_devices,
                              int num_experts, std::int64_t row_bytes) {
  return empty_plan(strategy, shape, group_devices, num_experts, row_bytes);
}

void set_group_plan(CommPlan& plan, const CommPlan& group, int g) {
  const int n = group.shape.devices, off = g * n;
  if (group.strategy != plan.strategy || group.stages.size() != plan.stages.size() ||
      group.row_bytes != plan.row_bytes || group.rows_per_expert.size() != plan.rows_per_expert.size() ||
      group.tokens_per_device.size() != std::size_t(n) || group.pairs_per_device.size() != std::size_t(n) ||
      group.recv_rows_per_device.size() != std::size_t(n) || off < 0 || off + n > plan.shape.devices ||
      (!plan.stages.empty() && plan.stages[0].rows.block() != n))
    throw std::invalid_argument("set_group_plan: group " + std::to_string(g) +
                                "'s plan does not fit the cluster's plan");
  for (std::size_t k = 0; k < plan.stages.size(); ++k)
    for (int a = 0; a < n; ++a)
      for (int b = 0; b < n; ++b) plan.stages[k].rows.at(off + a, off + b) = group.stages[k].rows.at(a, b);
  auto place = [&](std::vector<std::int64_t>& into, const std::vector<std::int64_t>& from) {
    std::copy(from.begin(), from.end(), into.begin() + off);
  };
  place(plan.tokens_per_device, group.tokens_per_device);
  place(plan.pairs_per_device, group.pairs_per_device);
  place(plan.recv_rows_per_device, group.recv_rows_per_device);
  for (std::size_t e = 0; e < group.rows_per_expert.size(); ++e)
    plan.rows_per_expert[e] += group.rows_per_expert[e];
}

}  // namespace occult
