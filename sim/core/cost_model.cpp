#include "sim/core/cost_model.hpp"

#include <algorithm>
#include <cstdio>

#include "sim/core/error.hpp"
#include "sim/core/kernel_work.hpp"

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
  if (text == "calibrated") return LinkCorrection::Calibrated;
  if (text == "off") return LinkCorrection::Off;
  if (text == "efficiency" || text == "absolute")
    throw InputError("", 0, "calibration.links",
                     "'" + text +
                         "' was replaced by 'calibrated' (the measured efficiency against the profile's own "
                         "nominal figures, and its exchange floor; docs/calibration.md)");
  throw InputError("", 0, "calibration.links", "'" + text + "' is not valid (valid: calibrated, off)");
}

std::string link_correction_name(LinkCorrection c) {
  return c == LinkCorrection::Calibrated ? "calibrated" : "off";
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
  std::snprintf(buf, sizeof buf, "calibration profile %s (%s, %s, CUDA %s); links: %s", path_.c_str(),
                v.gpu_name.c_str(), v.date.c_str(), v.cuda.c_str(), link_correction_name(links_).c_str());
  return buf;
}

// Roofline: the grouped GEMM is bound by FLOPs or by HBM traffic (every active expert's weights once,
// plus gathering each row in and scattering its output back), whichever is slower. The memory bound
// is what makes small decode batches slow per token. The backward does twice the forward's FLOPs.
double CostModel::expert_seconds(const ExpertShape& s, bool backward, int elem_bytes) const {
  if (s.pairs <= 0 || s.local_experts <= 0) return 0;
  const ExpertCalibration& e = backward ? profile_.expert_backward : profile_.expert_forward;
  if (measured_ && !e.samples.empty()) return e.seconds(s);
  const double h = s.hidden, f = s.ffn, b = elem_bytes, mult = backward ? 2.0 : 1.0;
  const double flops = mult * 2.0 * 3.0 * h * f * double(s.pairs);
  const double active = double(std::min<std::int64_t>(s.pairs, s.local_experts));
  const double bytes = mult * (active * 3.0 * h * f * b + double(s.pairs) * (2.0 * h + 3.0 * f) * b);
  const double t_flop = flops / (roof_.peak_tflops * 1e12 * roof_.gemm_efficiency);
  const double t_mem = bytes / (roof_.hbm_Bps * roof_.hbm_efficiency);
  return roof_.launch_s + std::max(t_flop, t_mem);
}

double CostModel::kernel_seconds(const std::string& name, double x, double roof_bytes) const {
  if (x <= 0) return 0;
  if (measured_)
    if (const MeasuredCurve* c = kernel_curve(name)) return c->seconds(x);
  return roof_.launch_s + roof_bytes / (roof_.hbm_Bps * roof_.hbm_efficiency);
}

// "unpack.occult" and the like: the strategy's own curve, else (a profile measured before the two
// strategies' curves were told apart) the one curve both shared.
const MeasuredCurve* CostModel::kernel_curve(const std::string& name) const {
  if (const MeasuredCurve* c = profile_.kernel(name)) return c;
  const auto dot = name.find('.');
  return dot == std::string::npos ? nullptr : profile_.kernel(name.substr(0, dot));
}

// Each copy's calibrated time includes one event boundary of its microbenchmark; a phase of several
// copies has one boundary, so the others come off.
double CostModel::copy_seconds(const std::vector<double>& bytes) const {
  double t = 0;
  int n = 0;
  for (double b : bytes)
    if (b > 0) t += kernel_seconds("copy", kernel_work::copy(b), 2.0 * b), ++n;
  if (n > 1 && measured_) t = std::max(0.0, t - double(n - 1) * profile_.event_s);
  return t;
}

LayerWork CostModel::layer_work(const CommPlan& plan, const ModelConfig& model,
                                const std::vector<int>& local_experts, Mode mode,
                                const LayerExecution& exec) const {
  const int D = plan.shape.devices;
  if (int(local_experts.size()) != D)
    throw InputError("", 0, "placement", "local expert counts do not match D");
  const bool train = mode == Mode::Train;
  const bool standard = plan.strategy == Strategy::Standard;
  const std::string tag = standard ? "standard" : "occult";
  const int k = model.top_k, slots = standard ? 1 : k;
  const std::int64_t row = plan.row_bytes;
  const double event = measured_ ? profile_.event_s : 0.0;
  LayerWork w;
  w.plan = &plan;
  auto sized = [&](std::vector<double>& v) { v.assign(std::size_t(D), 0.0); };
  for (auto* v : {&w.layout_s, &w.pack_s, &w.expert_fwd_s, &w.unpack_s}) sized(*v);
  for (auto* x : {&w.dispatch, &w.combine, &w.grad_dispatch, &w.grad_combine}) sized(x->local_s);
  if (train)
    for (auto* v : {&w.grad_pack_s, &w.expert_bwd_s, &w.grad_unpack_s}) sized(*v);
  // What travels besides the rows (backend/moe_layer.cpp): the dispatch's group holds the rows, an
  // expert id and a gate weight per slot, and (fused counts) one int per peer; the input-gradient
  // combine holds the rows and a gate-weight gradient per slot.
  w.dispatch.meta_bytes_per_row = 8.0 * slots;
  w.dispatch.messages = 3 + (exec.counts_sync ? 0 : 1);
  w.grad_combine.meta_bytes_per_row = exec.comm_only ? 0.0 : 4.0 * slots;
  w.grad_combine.messages = exec.comm_only ? 1 : 2;
  w.counts_exchange = exec.counts_sync;
  if (exec.counts_sync)
    w.counts_host_s.assign(std::size_t(D), measured_ ? profile_.host_roundtrip_s : roof_.launch_s);

  for (int d = 0; d < D; ++d) {
    const auto i = std::size_t(d);
    const std::int64_t tokens = i < plan.tokens_per_device.size() ? plan.tokens_per_device[i] : 0;
    // Rows this device sends: its own rows in stage 0 (the block that stays included), relayed rows in
    // later stages; the combine returns as many.
    std::int64_t sent = 0;
    for (std::size_t s = 0; s < plan.stages.size(); ++s) sent += plan.stages[s].rows.row_sum(d, s == 0);
    const std::int64_t own = plan.stages.empty() ? 0 : plan.stages.front().rows.at(d, d);
    w.layout_s[i] = kernel_seconds("layout." + tag, kernel_work::layout(tokens), 12.0 * double(tokens) * k);
    w.pack_s[i] = kernel_seconds("pack." + tag, kernel_work::pack(sent, row, slots),
                                 2.0 * kernel_work::pack(sent, row, slots));
    const double own_meta = 4.0 * double(own) * slots;  // expert ids, and gate weights, per slot
    w.dispatch.local_s[i] = copy_seconds({double(own * row), own_meta, own_meta});
    w.combine.local_s[i] = copy_seconds({double(own * row)});
    const std::int64_t pairs = i < plan.pairs_per_device.size() ? plan.pairs_per_device[i] : 0;
    const std::int64_t rows = i < plan.recv_rows_per_device.size() ? plan.recv_rows_per_device[i] : pairs;
    const ExpertShape shape{pairs, rows, local_experts[i], model.hidden, model.ffn, !standard};
    // Shared experts see every local token and never travel; they add to the expert phase.
    const ExpertShape shared{tokens * model.shared_experts,
                             tokens * model.shared_experts,
                             model.shared_experts,
                             model.hidden,
                             model.shared_ffn > 0 ? model.shared_ffn : model.ffn,
                             false};
    if (!exec.comm_only) {
      w.expert_fwd_s[i] = expert_seconds(shape, false, model.elem_bytes);
      if (model.shared_experts > 0 && tokens > 0)
        w.expert_fwd_s[i] += expert_seconds(shared, false, model.elem_bytes);
    }
    const double unpack = kernel_seconds("unpack." + tag, kernel_work::unpack(sent, tokens, row),
                                         kernel_work::unpack(sent, tokens, row));
    w.unpack_s[i] = unpack;
    if (!train) continue;
    w.grad_pack_s[i] = kernel_seconds("grad_pack." + tag, kernel_work::grad_pack(sent, tokens, row),
                                      kernel_work::grad_pack(sent, tokens, row));
    w.grad_dispatch.local_s[i] = copy_seconds({double(own * row)});
    if (!exec.comm_only) {
      w.expert_bwd_s[i] = expert_seconds(shape, true, model.elem_bytes);
      if (model.shared_experts > 0 && tokens > 0)
        w.expert_bwd_s[i] += expert_seconds(shared, true, model.elem_bytes);
    }
    w.grad_combine.local_s[i] = copy_seconds({double(own * row), exec.comm_only ? 0.0 : own_meta});
    const double wgrad = exec.comm_only ? 0.0
                                        : kernel_seconds("weight_grad", kernel_work::weight_grad(tokens, k),
                                                         8.0 * double(tokens) * k);
    w.grad_unpack_s[i] = unpack + wgrad - (wgrad > 0 ? event : 0.0);
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

// The curve a class's exchanges use: the transport's own where measured; NCCL elsewhere, since the
// direct P2P path exists inside a node only.
const LinkCalibration* curve_for(const CalibrationProfile& p, const std::string& cls,
                                 const LayerExecution& e) {
  if (e.transport == "p2p" && cls != "nvlink") return p.link(cls, "nccl", e.nccl_mode);
  return p.link(cls, e.transport, e.nccl_mode);
}

bool topology_has(const TopologySpec& t, const std::string& cls, int devices) {
  if (cls == "network") return devices > t.gpus_per_node;
  if (cls == "nvlink") return t.intra == IntraNode::NVSwitch || t.intra == IntraNode::NVLinkDirect;
  return t.intra == IntraNode::PCIe;
}
}  // namespace

std::vector<std::string> CostModel::fallbacks() const {
  std::vector<std::string> out;
  if (!measured_) return out;
  if (profile_.expert_forward.samples.empty()) out.push_back("expert forward");
  if (profile_.expert_backward.samples.empty()) out.push_back("expert backward");
  for (const char* k : {"layout.standard", "layout.occult", "pack.standard", "pack.occult", "unpack.standard",
                        "unpack.occult", "grad_pack.standard", "grad_pack.occult", "weight_grad", "copy"})
    if (!kernel_curve(k)) out.push_back(k);
  return out;
}

std::vector<std::string> CostModel::gaps(const TopologySpec& topo, int devices, Mode mode,
                                         const LayerExecution& exec) const {
  std::vector<std::string> out;
  if (!measured_) return out;
  for (const char* cls : {"nvlink", "pcie", "network"}) {
    if (devices < 2 || !topology_has(topo, cls, devices)) continue;
    if (!curve_for(profile_, cls, exec))
      out.push_back(std::string("the profile has no ") + cls + " curve for transport " + exec.transport +
                    " in NCCL " + exec.nccl_mode + " mode");
  }
  for (const auto& f : fallbacks()) {
    const bool needed = (f != "expert forward" && f != "expert backward") ||
                        (!exec.comm_only && (f == "expert forward" || mode == Mode::Train));
    const bool training_only = f.rfind("grad_pack", 0) == 0 || f == "weight_grad";
    if (needed && (!training_only || mode == Mode::Train))
      out.push_back("the profile has no " + f + " samples");
  }
  if (exec.counts_sync && profile_.host_roundtrip_s <= 0)
    out.push_back("the profile has no host round trip (counts sync)");
  return out;
}

SimOptions CostModel::sim_options(const TopologySpec& topo, const CommPlan& plan,
                                  std::vector<std::string>* notes, const LayerExecution& exec) const {
  SimOptions o;
  if (!measured_ || links_ == LinkCorrection::Off) return o;
  const double msg = typical_message(plan);
  for (const char* cls : {"nvlink", "pcie", "network"}) {
    const LinkParams* nom = nominal(topo, cls);
    const LinkCalibration* l = curve_for(profile_, cls, exec);
    if (!nom || nom->bandwidth_Bps <= 0 || !l || msg <= 0) continue;
    const double eff = l->efficiency(msg);
    o.links.bandwidth_factor[cls] = eff;
    o.links.floor_latency_s[cls] = l->latency_s();
    o.links.message_s[cls] = std::max(0.0, l->message_s);
    char buf[320];
    std::snprintf(buf, sizeof buf,
                  "%s: %.1f GB/s nominal x %.3f measured efficiency at %.0f KB messages (profile nominal "
                  "%.1f GB/s), %.1f us exchange floor, %s per further message",
                  cls, nom->bandwidth_Bps / 1e9, eff, msg / 1e3, l->nominal_Bps / 1e9, l->latency_s() * 1e6,
                  l->message_s >= 0 ? (std::to_string(l->message_s * 1e6).substr(0, 4) + " us").c_str()
                                    : "nothing (not measured)");
    if (notes) notes->push_back(buf);
  }
  return o;
}

}  // namespace occult
