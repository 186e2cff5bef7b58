#include "backend/layer_check.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "backend/synthetic.hpp"
#include "kernels/ref/moe_ref.hpp"

namespace occult::gpu {

double CheckResult::worst() const { return std::max({y_err, dx_err, dw_err}); }

LayerOutputs read_outputs(const MoeLayerRank& layer) {
  return {layer.output(), layer.input_grad(), layer.gate_weight_grad()};
}

namespace {

std::int64_t count_nan(const std::vector<std::uint16_t>& v) {
  return std::count_if(v.begin(), v.end(), [](std::uint16_t b) { return std::isnan(bf16_to_float(b)); });
}

std::vector<float> rows_of(const std::vector<std::uint16_t>& v, const std::vector<std::int64_t>& rows,
                           int h) {
  std::vector<float> out;
  out.reserve(rows.size() * std::size_t(h));
  for (auto r : rows)
    for (int c = 0; c < h; ++c)
      out.push_back(bf16_to_float(v[std::size_t(r) * std::size_t(h) + std::size_t(c)]));
  return out;
}

std::vector<float> synth_rows(std::uint64_t seed, std::uint64_t stream,
                              const std::vector<std::int64_t>& tokens, int h) {
  std::vector<float> out;
  out.reserve(tokens.size() * std::size_t(h));
  for (auto t : tokens)
    for (int c = 0; c < h; ++c)
      out.push_back(synth_bf16(seed, stream, std::uint64_t(t) * std::uint64_t(h) + std::uint64_t(c), 1.0f));
  return out;
}

}  // namespace

double rel_error_bf16(const std::vector<std::uint16_t>& a, const std::vector<std::uint16_t>& b) {
  std::vector<float> fa(a.size()), fb(b.size());
  std::transform(a.begin(), a.end(), fa.begin(), bf16_to_float);
  std::transform(b.begin(), b.end(), fb.begin(), bf16_to_float);
  return ref::rel_frobenius(fa, fb);
}

CheckResult check_layer(const MoeLayerRank& layer, const LayerOutputs& out, const LayerRouting& routing,
                        const LayerPlacement& placement, int samples) {
  const LayerOptions& opt = layer.options();
  const ModelConfig& m = opt.model;
  const int h = m.hidden, k = m.top_k;
  CheckResult res;
  res.unwritten =
      count_nan(out.y) + count_nan(out.dx) +
      std::count_if(out.d_weights.begin(), out.d_weights.end(), [](float v) { return std::isnan(v); });

  const std::int64_t n = std::min<std::int64_t>(samples, layer.tokens());
  std::vector<std::int64_t> local, global;  // sample rows in the rank's block, and their token ids
  for (std::int64_t i = 0; i < n; ++i) {
    local.push_back(i * layer.tokens() / n);
    global.push_back(layer.first_token() + local.back());
  }
  res.checked_tokens = n;
  if (n == 0) return res;
  const std::vector<float> x = synth_rows(opt.seed, kInputStream, global, h);
  const std::vector<float> dy =
      opt.training ? synth_rows(opt.seed, kGradStream, global, h) : std::vector<float>{};

  if (opt.comm_only) {
    std::vector<float> y_ref(x.size()), dx_ref(dy.size());
    for (std::size_t i = 0; i < global.size(); ++i) {
      auto ex = routing.token_experts(global[i]);
      std::vector<int> devs;
      for (auto e : ex) devs.push_back(placement.device_of[std::size_t(e)]);
      std::sort(devs.begin(), devs.end());
      const float c = layer.mode() == kernels::DispatchMode::Standard
                          ? float(k)
                          : float(std::unique(devs.begin(), devs.end()) - devs.begin());
      for (int j = 0; j < h; ++j) {
        const std::size_t at = i * std::size_t(h) + std::size_t(j);
        y_ref[at] = c * x[at];
        if (opt.training) dx_ref[at] = c * dy[at];
      }
    }
    res.y_err = ref::rel_frobenius(rows_of(out.y, local, h), y_ref);
    if (opt.training) res.dx_err = ref::rel_frobenius(rows_of(out.dx, local, h), dx_ref);
    return res;
  }

  // The sample tokens' experts as one compact local expert set (ids renumbered in first-seen order),
  // all slots on one "device": the reference FFN then computes the whole layer for those tokens.
  std::map<int, int> compact;
  ref::Packed packed;
  packed.slots = k;
  packed.rows = x;
  for (auto t : global) {
    for (int j = 0; j < k; ++j) {
      const int e = routing.token_experts(t)[std::size_t(j)];
      auto it = compact.emplace(e, int(compact.size())).first;
      packed.expert.push_back(it->second);
      packed.weight.push_back(routing.weight(t, j));
    }
  }
  ref::Experts w;
  w.local_experts = int(compact.size());
  w.hidden = h;
  w.ffn = m.ffn;
  const std::size_t fh = std::size_t(m.ffn) * std::size_t(h);
  w.gate.resize(fh * compact.size());
  w.up.resize(fh * compact.size());
  w.down.resize(fh * compact.size());
  const float sh = std::sqrt(3.0f / float(h)), sf = std::sqrt(3.0f / float(m.ffn));
  for (auto [e, c] : compact) {
    const std::uint64_t base = kExpertStream + 3 * std::uint64_t(e);
    for (std::size_t i = 0; i < fh; ++i) {
      w.gate[std::size_t(c) * fh + i] = synth_bf16(opt.seed, base + 0, i, sh);
      w.up[std::size_t(c) * fh + i] = synth_bf16(opt.seed, base + 1, i, sh);
      w.down[std::size_t(c) * fh + i] = synth_bf16(opt.seed, base + 2, i, sf);
    }
  }
  res.y_err = ref::rel_frobenius(rows_of(out.y, local, h), ref::expert_ffn_forward(packed, n, w));
  if (opt.training) {
    const ref::ExpertGrads g = ref::expert_ffn_backward(packed, n, w, dy);
    res.dx_err = ref::rel_frobenius(rows_of(out.dx, local, h), g.d_rows);
    std::vector<float> dw;
    for (auto r : local)
      for (int j = 0; j < k; ++j) dw.push_back(out.d_weights[std::size_t(r * k + j)]);
    res.dw_err = ref::rel_frobenius(dw, g.d_weight);
  }
  return res;
}

}  // namespace occult::gpu
