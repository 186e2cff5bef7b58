#include "sim/core/cost_model.hpp"

#include <algorithm>
#include <cstdio>

#include "sim/core/error.hpp"

namespace occult {

std::string mode_name(Mode m) {
  switch (m) {
    case Mode::Train:
      return "train";
    case Mode::Prefill:
      return "prefill";
    case Mode::Decode:
      return "decode";
  }
  return "?";
}

Mode parse_mode(const std::string& text) {
  if (text == "train") return Mode::Train;
  if (text == "prefill") return Mode::Prefill;
  if (text == "decode") return Mode::Decode;
  throw InputError("", 0, "workload.mode", "'" + text + "' is not a mode (valid: train, prefill, decode)");
}

LinkCorrection parse_link_correction(const std::string& text) {
  if (text == "efficiency") return LinkCorrection::Efficiency;
  if (text == "absolute") return LinkCorrection::Absolute;
  if (text == "off") return LinkCorrection::Off;
  throw InputError("", 0, "calibration.links",
                   "'" + text + "' is not valid (valid: efficiency, absolute, off)");
}

std::string link_correction_name(LinkCorrection c) {
  switch (c) {
    case LinkCorrection::Efficiency:
      return "efficiency";
    case LinkCorrection::Absolute:
      return "absolute";
    case LinkCorrection::Off:
      return "off";
  }
  return "?";
}

CostModel CostModel::roofline(const RooflineParams& r) {
  auto need = [](bool ok, const char* field) {
    if (!ok) throw InputError("", 0, field, "must be positive (efficiencies in (0, 1])");
  };
  need(r.peak_tflops > 0, "calibration.peak_tflops");
  need(r.gemm_efficiency > 0 && r.gemm_efficiency <= 1, "calibration.gemm_efficiency");
  need(r.hbm_Bps > 0, "calibration.hbm_GBps");
  need(r.hbm_efficiency > 0 && r.hbm_efficiency <= 1, "calibration.hbm_efficiency");
  need(r.launch_s >= 0, "calibration.launch_us");
  CostModel c;
  c.roof_ = r;
  return c;
}

CostModel CostModel::from_profile(CalibrationProfile p, std::string path, LinkCorrection links) {
  CostModel c;
  c.measured_ = true;
  c.profile_ = std::move(p);
  c.path_ = std::move(path);
  c.links_ = links;
  return c;
}

std::string CostModel::describe() const {
  char buf[512];
  if (!measured_) {
    std::snprintf(
        buf, sizeof buf,
        "roofline (no calibration profile): expert GEMM at %.0f TFLOP/s peak x %.2f efficiency, "
        "memory-bound kernels at %.2f TB/s x %.2f, %.1f us per launch; links as the topology states",
        roof_.peak_tflops, roof_.gemm_efficiency, roof_.hbm_Bps / 1e12, roof_.hbm_efficiency,
        roof_.launch_s * 1e6);
    return buf;
  }
  const auto& v = profile_.provenance;
  std::snprintf(buf, sizeof buf, "calibration profile %s (%s x%d, %s, CUDA %s, NCCL %s); links: %s",
                path_.c_str(), v.gpu_name.c_str(), v.gpu_count, v.date.c_str(), v.cuda.c_str(),
                v.nccl.c_str(), link_correction_name(links_).c_str());
  return buf;
}

// Roofline: the grouped GEMM is bound by FLOPs or by HBM traffic (every active expert's weights once,
// plus gathering each row in and scattering its output back), whichever is slower. The memory bound
// is what makes small decode batches slow per token.
double CostModel::expert_fwd_seconds(std::int64_t pairs, int local_experts, int hidden, int ffn,
                                     int elem_bytes) const {
  if (pairs <= 0 || local_experts <= 0) return 0;
  if (measured_) return profile_.gemm.seconds(pairs, local_experts, hidden, ffn);
  const double h = hidden, f = ffn, b = elem_bytes;
  const double flops = 2.0 * 3.0 * h * f * double(pairs);
  const double active = double(std::min<std::int64_t>(pairs, local_experts));
  const double bytes = active * 3.0 * h * f * b + double(pairs) * (2.0 * h + 3.0 * f) * b;
  const double t_flop = flops / (roof_.peak_tflops * 1e12 * roof_.gemm_efficiency);
  const double t_mem = bytes / (roof_.hbm_Bps * roof_.hbm_efficiency);
  return roof_.launch_s + std::max(t_flop, t_mem);
}

namespace {
double roofline_kernel(const RooflineParams& r, double bytes) {
  return r.launch_s + bytes / (r.hbm_Bps * r.hbm_efficiency);
}
}  // namespace

double CostModel::layout_seconds(double bytes) const {
  return measured_ ? profile_.layout.seconds(bytes) : roofline_kernel(roof_, bytes);
}
double CostModel::pack_seconds(double bytes) const {
  return measured_ ? profile_.pack.seconds(bytes) : roofline_kernel(roof_, bytes);
}
double CostModel::unpack_seconds(double bytes) const {
  return measured_ ? profile_.unpack.seconds(bytes) : roofline_kernel(roof_, bytes);
}

LayerWork CostModel::layer_work(const CommPlan& plan, const ModelConfig& model,
                                const std::vector<int>& local_experts, Mode mode) const {
  const int D = plan.shape.devices;
  if (int(local_experts.size()) != D)
    throw InputError("", 0, "placement", "local expert counts do not match D");
  LayerWork w;
  w.plan = &plan;
  w.layout_s.assign(std::size_t(D), 0);
  w.pack_s.assign(std::size_t(D), 0);
  w.expert_fwd_s.assign(std::size_t(D), 0);
  w.unpack_s.assign(std::size_t(D), 0);
  if (mode == Mode::Train) w.expert_bwd_s.assign(std::size_t(D), 0);
  const double row = double(plan.row_bytes);
  const double k = model.top_k;
  for (int d = 0; d < D; ++d) {
    const auto i = std::size_t(d);
    const double tokens = i < plan.tokens_per_device.size() ? double(plan.tokens_per_device[i]) : 0;
    // Layout reads ids and weights (4 B each per choice) and writes one index per choice.
    w.layout_s[i] = layout_seconds(tokens * k * 12.0);
    // Pack copies every row this device sends (its own rows in stage 0, relayed rows in later stages),
    // read + write; unpack reads the rows that come back and writes one output row per token.
    double sent_rows = 0;
    for (std::size_t s = 0; s < plan.stages.size(); ++s)
      sent_rows += double(plan.stages[s].rows.row_sum(d, s == 0));
    w.pack_s[i] = pack_seconds(2.0 * sent_rows * row);
    w.unpack_s[i] = unpack_seconds(sent_rows * row + tokens * row);
    const std::int64_t pairs = i < plan.pairs_per_device.size() ? plan.pairs_per_device[i] : 0;
    double t = expert_fwd_seconds(pairs, local_experts[i], model.hidden, model.ffn, model.elem_bytes);
    // Shared experts see every local token and never travel; they add to the expert phase.
    if (model.shared_experts > 0 && tokens > 0)
      t += expert_fwd_seconds(std::int64_t(tokens) * model.shared_experts, model.shared_experts, model.hidden,
                              model.shared_ffn > 0 ? model.shared_ffn : model.ffn, model.elem_bytes);
    w.expert_fwd_s[i] = t;
    // Backward: dX and dW, twice the forward FLOPs at the forward's efficiency.
    if (mode == Mode::Train) w.expert_bwd_s[i] = 2.0 * t;
  }
  return w;
}

namespace {
const LinkParams* nominal(const TopologySpec& t, const std::string& cls) {
  if (cls == "nvlink") return &t.nvlink;
  if (cls == "pcie") return &t.pcie;
  if (cls == "network") return &t.nic;
  return nullptr;
}

// Mean bytes of one (source, destination) message of the plan's first stage: the size at which the
// measured efficiency curve is read.
double typical_message(const CommPlan& plan) {
  if (plan.stages.empty()) return 0;
  const auto& m = plan.stages.front().rows;
  std::int64_t sum = 0, count = 0;
  for (int s = 0; s < m.size(); ++s)
    for (int d = m.band_begin(s); d < m.band_end(s); ++d)
      if (s != d && m.at(s, d) > 0) sum += m.at(s, d), ++count;
  return count ? double(sum) / double(count) * double(plan.row_bytes) : 0;
}
}  // namespace

SimOptions CostModel::sim_options(const TopologySpec& topo, const CommPlan& plan,
                                  std::vector<std::string>* notes) const {
  SimOptions o;
  if (!measured_ || links_ == LinkCorrection::Off) return o;
  const double msg = typical_message(plan);
  for (const auto& l : profile_.links) {
    const LinkParams* nom = nominal(topo, l.link_class);
    if (!nom || nom->bandwidth_Bps <= 0 || l.bandwidth_Bps <= 0 || msg <= 0) continue;
    const double transfer = l.seconds(msg) - l.latency_s;
    const double eff = transfer > 0 ? msg / transfer / l.bandwidth_Bps : 1.0;
    char buf[256];
    if (links_ == LinkCorrection::Efficiency) {
      o.bandwidth_factor[l.link_class] = std::min(eff, 1.0);
      std::snprintf(buf, sizeof buf, "%s: bandwidth x %.3f (measured efficiency at %.0f KB messages)",
                    l.link_class.c_str(), std::min(eff, 1.0), msg / 1e3);
    } else {
      const double f = l.bandwidth_Bps * eff / nom->bandwidth_Bps;
      o.bandwidth_factor[l.link_class] = f;
      o.extra_latency_s[l.link_class] = std::max(0.0, l.latency_s - nom->latency_s);
      std::snprintf(buf, sizeof buf, "%s: bandwidth x %.3f, latency +%.1f us (measured, absolute)",
                    l.link_class.c_str(), f, std::max(0.0, l.latency_s - nom->latency_s) * 1e6);
    }
    if (notes) notes->push_back(buf);
  }
  return o;
}

}  // namespace occult
