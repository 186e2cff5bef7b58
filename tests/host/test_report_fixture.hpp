#pragma once
// Hand-written sweep results for the report tests: every contract column, with the numbers that matter
// to a test (times, bytes, strategy, placement, devices) chosen per row and the rest fixed.
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace occult::report::testing {

struct FakeRow {
  FakeRow(std::string strategy_ = "standard", std::string placement_ = "contiguous", int devices_ = 8,
          double t_total = 1e-3, double t_dispatch = 2e-4, double t_combine = 2e-4, double remote = 1e8,
          double inter_node = 5e7, std::string axis_ = "")
      : strategy(std::move(strategy_)),
        placement(std::move(placement_)),
        devices(devices_),
        t_total_s(t_total),
        t_dispatch_s(t_dispatch),
        t_combine_s(t_combine),
        bytes_remote(remote),
        bytes_inter_node(inter_node),
        axis(std::move(axis_)) {}

  std::string strategy, placement;
  int devices;
  double t_total_s, t_dispatch_s, t_combine_s;
  double bytes_remote, bytes_inter_node;
  std::string axis;  // value of the extra sweep column "fabric.oversub" when the CSV has it
};

inline const char* kHeader =
    "run_id,scenario,model,mode,topology,devices,gpus_per_node,nodes,tokens_per_device,strategy,placement,"
    "overlap,t_total_s,t_layout_s,t_dispatch_s,t_expert_s,t_combine_s,t_unpack_s,t_bwd_s,comm_fraction,"
    "bytes_remote,bytes_inter_node,bytes_intra_node,ct_standard,ct_occult,ct_node,intra_ratio,"
    "speedup_vs_standard,profile,sim_wall_s";

inline std::string fake_csv(const std::vector<FakeRow>& rows, bool with_axis = false) {
  std::string out = std::string(kHeader) + (with_axis ? ",fabric.oversub" : "") + "\n";
  int id = 0;
  for (const FakeRow& r : rows) {
    char buf[1024];
    int nodes = (r.devices + 7) / 8;
    double comm = (r.t_dispatch_s + r.t_combine_s) / r.t_total_s;
    std::snprintf(
        buf, sizeof buf,
        "%d,tiny,toy-moe,inference,fat-tree,%d,8,%d,1024,%s,%s,none,%.9g,1e-05,%.9g,5e-04,%.9g,1e-05,0,"
        "%.6g,%.9g,%.9g,%.9g,8,5.5,2,0.25,,h200-test,0.01",
        ++id, r.devices, nodes, r.strategy.c_str(), r.placement.c_str(), r.t_total_s, r.t_dispatch_s,
        r.t_combine_s, comm > 1 ? 1.0 : comm, r.bytes_remote, r.bytes_inter_node,
        r.bytes_remote - r.bytes_inter_node);
    out += buf;
    if (with_axis) out += "," + r.axis;
    out += "\n";
  }
  return out;
}

}  // namespace occult::report::testing
