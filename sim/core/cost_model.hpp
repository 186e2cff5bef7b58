#pragma once
// The cost model: how long each device computes in one MoE layer, what each exchange carries besides
// the plan's rows, and how the calibration profile corrects the topology's links. Either from a measured
// calibration profile (docs/calibration.md) or, when none is given, from a roofline with stated peak and
// efficiency; `describe()` says which, and every output of `occult simulate` / `occult sweep` prints it.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/calibration.hpp"
#include "sim/core/layer_work.hpp"
#include "sim/core/model.hpp"
#include "sim/core/plan.hpp"
#include "sim/core/topology.hpp"

namespace occult {

enum class Mode { Train, Prefill, Decode };  // train = forward + backward; prefill/decode = forward
std::string mode_name(Mode m);
Mode parse_mode(const std::string& text);  // InputError(field "workload.mode")

// How the layer's exchanges are executed (scenario keys execution.*; a measured run's record): which
// transport and NCCL mode (the profile keeps one link curve for each), whether the row counts are a
// separate exchange read back by the host, and whether the expert FFN runs at all.
struct LayerExecution {
  std::string transport = "nccl";     // nccl, p2p (direct intranode copies)
  std::string nccl_mode = "blocking";  // blocking, nonblocking
  bool counts_sync = false;            // a count exchange and a host read before the pack
  bool comm_only = false;              // no expert FFN: the combine returns the received rows
};

// The fallback when no profile is given. Defaults: H200 bf16 dense spec peak and HBM3e bandwidth, with
// efficiencies close to what was measured (760 of 989 TFLOP/s dense, 408-673 grouped).
struct RooflineParams {
  double peak_tflops = 989;      // bf16 dense, TFLOP/s
  double gemm_efficiency = 0.6;  // achieved / peak for the grouped expert GEMM
  double hbm_Bps = 4.8e12;       // bytes/s
  double hbm_efficiency = 0.8;   // achieved / peak for memory-bound kernels
  double launch_s = 5e-6;        // per kernel launch
};

// How a measured profile's link curves change the topology's links:
// Calibrated: each class's link bandwidth is the topology's nominal figure times the efficiency the
//   profile measured against its own nominal figure at the plan's message size, and a route that enters
//   the class starts after the measured exchange floor. On the calibrated machine (topology nominal ==
//   profile nominal) this reproduces the measured curve; elsewhere it carries over by the ratio of
//   nominal figures (docs/calibration.md).
// Off: nominal links, the topology's latencies.
enum class LinkCorrection { Calibrated, Off };
LinkCorrection parse_link_correction(const std::string& text);  // InputError(field "calibration.links")
std::string link_correction_name(LinkCorrection c);

class CostModel {
 public:
  static CostModel roofline(const RooflineParams& r);
  static CostModel from_profile(CalibrationProfile p, std::string path, LinkCorrection links);

  bool measured() const { return measured_; }
  const std::string& profile_path() const { return path_; }
  const CalibrationProfile& profile() const { return profile_; }
  // One line for people: which model, its parameters or the profile's provenance.
  std::string describe() const;
  // Short tag for CSV columns: "roofline" or the profile path.
  std::string tag() const { return measured_ ? path_ : std::string("roofline"); }

  // Seconds of the expert FFN (forward, or backward) for one device's received rows.
  double expert_seconds(const ExpertShape& s, bool backward, int elem_bytes) const;

  // Per-device seconds of every compute activity of the layer, and what each exchange carries.
  // `local_experts[d]` counts the experts (replicas included) that device d holds.
  LayerWork layer_work(const CommPlan& plan, const ModelConfig& model, const std::vector<int>& local_experts,
                       Mode mode, const LayerExecution& exec = {}) const;
  // Link corrections for the engine; `notes` receives one line per correction applied or missing.
  SimOptions sim_options(const TopologySpec& topo, const CommPlan& plan, std::vector<std::string>* notes,
                         const LayerExecution& exec = {}) const;
  // Why this profile cannot predict such a layer on such a topology (empty: it can): a link class of
  // the topology with no curve for the transport and NCCL mode, a training run without backward samples.
  std::vector<std::string> gaps(const TopologySpec& topo, int devices, Mode mode,
                                const LayerExecution& exec) const;
  // What a measured profile lacks, which the roofline stands in for ("expert backward", "pack.occult", ...).
  std::vector<std::string> fallbacks() const;

 private:
  double kernel_seconds(const std::string& name, double x, double roof_bytes) const;
  const MeasuredCurve* kernel_curve(const std::string& name) const;
  double copy_seconds(const std::vector<double>& bytes) const;

  bool measured_ = false;
  std::string path_;
  RooflineParams roof_;
  CalibrationProfile profile_;
  LinkCorrection links_ = LinkCorrection::Off;
};

}  // namespace occult
