#pragma once
// Calibration profile (DESIGN.md 7, a contract): measured on real GPUs by `occult calibrate`
// (backend/), read by the simulator's cost model. JSON with provenance; docs/formats.md.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace occult {

struct Provenance {
  std::string gpu_name;
  int gpu_count = 0;
  std::string driver, cuda, nccl;
  std::string date;     // ISO 8601
  std::string command;  // the command line that produced the profile
  std::string host;
};

// Time to move one message of `bytes` over one link class, fitted from samples:
// t(s) = latency + s / (bandwidth * efficiency(s)); efficiency(s) rises from small to 1 at large
// sizes and is interpolated from the samples (log-size), so both the floor and the asymptote are real.
struct CommSample {
  double bytes = 0;
  double seconds = 0;
};
struct LinkCalibration {
  std::string link_class;     // "nvlink", "pcie" (host-staged), "network" (socket / NIC), ...
  std::string how;            // how it was measured, e.g. "NCCL all-to-all, NCCL_P2P_DISABLE=1"
  double latency_s = 0;
  double bandwidth_Bps = 0;   // asymptotic, per rank, per direction
  std::vector<CommSample> samples;  // sorted by bytes
  double seconds(double bytes) const;
};

// Sparse expert GEMM (gather + SwiGLU FFN + gate-weighted scatter-add) time against shape.
struct GemmSample {
  std::int64_t rows_per_expert = 0;
  int hidden = 0, ffn = 0, local_experts = 0;
  double seconds = 0;
  double tflops() const;  // 2*3*h*f*rows*experts / seconds
};
struct GemmCalibration {
  std::string kernel;         // which kernel was timed
  double peak_tflops = 0;     // dense bf16 ceiling measured in the same run
  std::vector<GemmSample> samples;
  // Forward time for `rows` (token, expert) pairs spread over `local_experts` experts of h x f.
  double seconds(std::int64_t rows, int local_experts, int hidden, int ffn) const;
};

// Memory-bound kernels (layout, pack, unpack): t = launch_s + bytes / bandwidth.
struct KernelOverhead {
  double launch_s = 0;
  double bandwidth_Bps = 0;
  double seconds(double bytes) const { return launch_s + (bandwidth_Bps > 0 ? bytes / bandwidth_Bps : 0.0); }
};

struct CalibrationProfile {
  Provenance provenance;
  std::vector<LinkCalibration> links;
  GemmCalibration gemm;
  KernelOverhead layout, pack, unpack;
  bool measured = false;  // false for the built-in roofline fallback

  const LinkCalibration* link(const std::string& link_class) const;
};

CalibrationProfile read_calibration(const std::string& path);  // InputError on bad files
void write_calibration(const CalibrationProfile& p, const std::string& path);
nlohmann::json calibration_to_json(const CalibrationProfile& p);
CalibrationProfile calibration_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace occult
