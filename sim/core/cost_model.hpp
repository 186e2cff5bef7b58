#pragma once
// The cost model: how long each device computes in one MoE layer, and how the calibration profile
// corrects the topology's links. Either from a measured calibration profile (DESIGN.md 7) or, when
// none is given, from a roofline with stated peak and efficiency; `describe()` says which, and every
// output of `occult simulate` / `occult sweep` prints it.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/calibration.hpp"
#include "sim/core/model.hpp"
#include "sim/core/plan.hpp"
#include "sim/core/topology.hpp"
#include "sim/core/layer_work.hpp"

namespace occult {

enum class Mode { Train, Prefill, Decode };  // train = forward + backward; prefill/decode = forward
std::string mode_name(Mode m);
Mode parse_mode(const std::string& text);  // InputError(field "workload.mode")

// The fallback when no profile is given. Defaults: H200 bf16 dense spec peak and HBM3e bandwidth, with
// efficiencies close to what DESIGN.md 6 measured (760 of 989 TFLOP/s dense, 408-673 grouped).
struct RooflineParams {
  double peak_tflops = 989;      // bf16 dense, TFLOP/s
  double gemm_efficiency = 0.6;  // achieved / peak for the grouped expert GEMM
  double hbm_Bps = 4.8e12;       // bytes/s
  double hbm_efficiency = 0.8;   // achieved / peak for memory-bound kernels
  double launch_s = 5e-6;        // per kernel launch
};

// How a measured profile's link samples change the topology's links (SimOptions factors):
// Efficiency: only the size-dependent efficiency curve (effective / asymptotic bandwidth at the plan's
//   message size), which transfers to other hardware; Absolute: the measured bandwidth and latency floor
//   replace the topology's (for scenarios of the very machine that was calibrated); Off: nominal links.
enum class LinkCorrection { Efficiency, Absolute, Off };
LinkCorrection parse_link_correction(const std::string& text);  // InputError(field "calibration.links")
std::string link_correction_name(LinkCorrection c);

class CostModel {
 public:
  static CostModel roofline(const RooflineParams& r);
  static CostModel from_profile(CalibrationProfile p, std::string path, LinkCorrection links);

  bool measured() const { return measured_; }
  const std::string& profile_path() const { return path_; }
  // One line for people: which model, its parameters or the profile's provenance.
  std::string describe() const;
  // Short tag for CSV columns: "roofline" or the profile path.
  std::string tag() const { return measured_ ? path_ : std::string("roofline"); }

  // Forward seconds of the expert FFNs for `pairs` (token, expert) rows over `local_experts` experts.
  double expert_fwd_seconds(std::int64_t pairs, int local_experts, int hidden, int ffn, int elem_bytes) const;
  double layout_seconds(double bytes) const;
  double pack_seconds(double bytes) const;
  double unpack_seconds(double bytes) const;

  // Per-device seconds of every compute activity of the layer. `local_experts[d]` counts the experts
  // (replicas included) that device d holds.
  LayerWork layer_work(const CommPlan& plan, const ModelConfig& model, const std::vector<int>& local_experts,
                       Mode mode) const;
  // Link corrections for the engine; `notes` receives one line per correction applied.
  SimOptions sim_options(const TopologySpec& topo, const CommPlan& plan,
                         std::vector<std::string>* notes) const;

 private:
  bool measured_ = false;
  std::string path_;
  RooflineParams roof_;
  CalibrationProfile profile_;
  LinkCorrection links_ = LinkCorrection::Off;
};

}  // namespace occult
