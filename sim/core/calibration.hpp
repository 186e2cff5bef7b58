#pragma once
// Calibration profile (docs/calibration.md): what `occult calibrate` (backend/) measured on real GPUs
// with microbenchmarks only, and what the simulator's cost model reads. JSON with provenance per
// section, because a profile may join sections measured on different machines (the compute of a
// one-GPU machine, the links of a two-GPU one).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/expert_calibration.hpp"
#include "sim/core/measured_curve.hpp"

namespace occult {

inline constexpr int kCalibrationVersion = 2;

struct Provenance {
  std::string gpu_name;
  int gpu_count = 0;
  std::string gpu_uuid;  // of the GPU measured (GPU 0), so two profiles can be told apart as machines
  std::string driver, cuda, nccl;
  std::string date;     // ISO 8601
  std::string command;  // the command line that produced the section
  std::string host;
  std::string commit;  // occult's source revision, when known
};
nlohmann::json provenance_to_json(const Provenance& p);

// One exchange of a link class measured as an all-to-all-v between the GPUs of one machine: every
// rank sends one message of `bytes` to every peer (and an equal block to itself, a device copy on a
// side stream, as the layer's exchanges do).
struct CommSample {
  double bytes = 0;    // per peer
  double seconds = 0;  // per exchange, slowest rank, median
};

struct LinkCalibration {
  std::string link_class;           // "nvlink", "pcie" (host-staged), "network" (socket / NIC)
  std::string transport = "nccl";   // "nccl" or "p2p" (backend/p2p_transport.hpp)
  std::string nccl_mode = "blocking";
  std::string how;                  // how it was measured, for people
  // The nominal bandwidth per direction of the calibrated path: the figure its topology file states.
  // The measured efficiency against it is what carries over to other machines (docs/calibration.md).
  double nominal_Bps = 0;
  Provenance provenance;
  std::vector<CommSample> samples;  // sorted by bytes
  // Seconds each further message per peer adds to one exchange (a layer's dispatch sends rows and
  // metadata as several messages); < 0 when the profile did not measure it.
  double message_s = -1;

  double latency_s() const;  // the exchange's floor: the smallest sample's time
  double seconds(double bytes) const;  // one message per peer of `bytes`, interpolated (MeasuredCurve)
  // Achieved bandwidth beyond the floor, as a share of the nominal: bytes / ((seconds - floor) * nominal).
  double efficiency(double bytes) const;
};

struct CalibrationProfile {
  Provenance provenance;  // of the compute and kernel sections (the GPU they ran on)
  double peak_tflops = 0;  // dense bf16 cuBLAS ceiling measured in the same run
  // GPU time between two CUDA event records with nothing between them on a busy stream: what each
  // phase boundary of a measured run adds (gpu-run times its phases with events); 0 when not measured.
  double event_s = 0;
  // A small device-to-host copy, the host's wait for it, and the next kernel enqueued after it: what a
  // host read inside the layer costs (`counts = sync`); 0 when not measured.
  double host_roundtrip_s = 0;
  ExpertCalibration expert_forward, expert_backward;
  // Memory-bound kernels and copies, each against its work measure (kernel_work.hpp says which):
  // "layout.", "pack.", "unpack." and "grad_pack." + "standard" or "occult", "weight_grad", "copy"; and
  // "unpack", "grad_pack" (one curve for both strategies) in profiles measured before those were split.
  std::map<std::string, MeasuredCurve> kernels;
  std::vector<LinkCalibration> links;

  // The link of a class measured on a transport and NCCL mode; nullptr when absent.
  const LinkCalibration* link(const std::string& link_class, const std::string& transport = "nccl",
                              const std::string& nccl_mode = "blocking") const;
  const MeasuredCurve* kernel(const std::string& name) const;
};

CalibrationProfile read_calibration(const std::string& path);  // InputError on bad files
void write_calibration(const CalibrationProfile& p, const std::string& path);
nlohmann::json calibration_to_json(const CalibrationProfile& p);
CalibrationProfile calibration_from_json(const nlohmann::json& j, const std::string& where);
nlohmann::json link_to_json(const LinkCalibration& l);

}  // namespace occult
