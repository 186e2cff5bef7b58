#include "sim/core/plan.hpp"

#include <string>

#include "sim/core/error.hpp"

namespace occult {

PlanBuilder::PlanBuilder(Strategy strategy, int num_experts, const ClusterShape& shape,
                         std::int64_t row_bytes) {
  validate_shape(shape);
  if (num_experts < 1) throw InputError("", 0, "experts", "must be >= 1, got " + std::to_string(num_experts));
  if (row_bytes < 0) throw InputError("", 0, "row_bytes", "must be >= 0");
  plan_.strategy = strategy;
  plan_.shape = shape;
  plan_.row_bytes = row_bytes;
  const int D = shape.devices;
  if (strategy == Strategy::Hierarchical) {
    plan_.stages.push_back({PlanStage::Kind::Network, PairMatrix(D)});
    plan_.stages.push_back({PlanStage::Kind::NodeFanout, PairMatrix(D)});
  } else {
    plan_.stages.push_back({PlanStage::Kind::Direct, PairMatrix(D)});
  }
  plan_.tokens_per_device.assign(std::size_t(D), 0);
  plan_.pairs_per_device.assign(std::size_t(D), 0);
  plan_.rows_per_expert.assign(std::size_t(num_experts), 0);
  plan_.recv_rows_per_device.assign(std::size_t(D), 0);
}

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

std::vector<PlanStage> combine_stages(const CommPlan& plan) {
  std::vector<PlanStage> out;
  out.reserve(plan.stages.size());
  for (auto it = plan.stages.rbegin(); it != plan.stages.rend(); ++it)
    out.push_back({it->kind, it->rows.transposed()});
  return out;
}

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

}  // namespace occult
