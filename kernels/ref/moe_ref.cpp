#include "kernels/ref/moe_ref.hpp"

#include <cmath>
#include <cstring>
#include <string>

#include "sim/core/error.hpp"

namespace occult::ref {

std::uint16_t to_bf16(float f) {
  std::uint32_t u = 0;
  std::memcpy(&u, &f, sizeof u);
  if (std::isnan(f)) return std::uint16_t((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return std::uint16_t(u >> 16);
}

float from_bf16(std::uint16_t b) {
  const std::uint32_t u = std::uint32_t(b) << 16;
  float f = 0;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

std::vector<float> round_bf16(std::vector<float> v) {
  for (float& x : v) x = from_bf16(to_bf16(x));
  return v;
}

std::vector<std::int32_t> local_index_of(const std::vector<std::int32_t>& device_of, int devices) {
  std::vector<std::int32_t> next(std::size_t(devices), 0), local(device_of.size());
  for (std::size_t e = 0; e < device_of.size(); ++e) {
    const int d = device_of[e];
    if (d < 0 || d >= devices)
      throw InputError("", 0, "placement", "expert " + std::to_string(e) + " on device " + std::to_string(d));
    local[e] = next[std::size_t(d)]++;
  }
  return local;
}

int meta_slots(Strategy mode, int top_k) { return mode == Strategy::Standard ? 1 : top_k; }

Layout layout(Strategy mode, const Routing& routing, const std::vector<std::int32_t>& device_of,
              int devices) {
  if (mode == Strategy::Hierarchical)
    throw InputError("", 0, "strategy", "the kernels run standard or occult");
  const int k = routing.top_k;
  const std::size_t pairs = std::size_t(routing.tokens) * std::size_t(k);
  Layout l;
  l.send_counts.assign(std::size_t(devices), 0);
  l.pair_row.assign(pairs, -1);
  l.pair_slot.assign(pairs, -1);
  // First pass: each pair's rank among the earlier rows to its device (pair_row holds the rank).
  for (std::int64_t t = 0; t < routing.tokens; ++t) {
    for (int j = 0; j < k; ++j) {
      const std::size_t p = std::size_t(t) * std::size_t(k) + std::size_t(j);
      const int e = routing.experts[p];
      if (e < 0) continue;
      if (std::size_t(e) >= device_of.size())
        throw InputError("", 0, "experts",
                         "expert id " + std::to_string(e) + " >= " + std::to_string(device_of.size()));
      const int d = device_of[std::size_t(e)];
      int same = 0, first = -1;  // earlier choices of t on device d
      for (int i = 0; i < j; ++i) {
        const int ei = routing.experts[p - std::size_t(j - i)];
        if (ei >= 0 && device_of[std::size_t(ei)] == d) {
          if (first < 0) first = i;
          ++same;
        }
      }
      if (mode == Strategy::Occult && first >= 0) {
        l.pair_row[p] = l.pair_row[p - std::size_t(j - first)];
        l.pair_slot[p] = same;
      } else {
        l.pair_row[p] = l.send_counts[std::size_t(d)]++;
        l.pair_slot[p] = 0;
      }
    }
  }
  l.send_offsets.assign(std::size_t(devices) + 1, 0);
  for (int d = 0; d < devices; ++d)
    l.send_offsets[std::size_t(d) + 1] = l.send_offsets[std::size_t(d)] + l.send_counts[std::size_t(d)];
  l.row_token.assign(std::size_t(l.total_rows()), -1);
  // Ranks were per destination (a repeated occult choice copied its first choice's rank).
  for (std::size_t p = 0; p < pairs; ++p) {
    if (l.pair_row[p] < 0) continue;
    l.pair_row[p] += l.send_offsets[std::size_t(device_of[std::size_t(routing.experts[p])])];
    l.row_token[std::size_t(l.pair_row[p])] = std::int32_t(p / std::size_t(k));
  }
  return l;
}

Packed pack(Strategy mode, const std::vector<float>& x, int hidden, const Routing& routing,
            const std::vector<std::int32_t>& local_index, const Layout& l) {
  Packed out;
  out.slots = meta_slots(mode, routing.top_k);
  const std::size_t rows = std::size_t(l.total_rows()), h = std::size_t(hidden), s = std::size_t(out.slots);
  out.rows.assign(rows * h, 0.0f);
  out.expert.assign(rows * s, -1);
  out.weight.assign(rows * s, 0.0f);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < h; ++c) out.rows[r * h + c] = x[std::size_t(l.row_token[r]) * h + c];
  for (std::size_t p = 0; p < routing.experts.size(); ++p) {
    if (l.pair_row[p] < 0) continue;
    const std::size_t m = std::size_t(l.pair_row[p]) * s + std::size_t(l.pair_slot[p]);
    out.expert[m] = local_index[std::size_t(routing.experts[p])];
    out.weight[m] = routing.weights[p];
  }
  return out;
}

namespace {

float silu(float g) { return g / (1.0f + std::exp(-g)); }

// y[n] = sum_k W[n, k] x[k] for W [N x K] row-major.
void matvec(const float* W, const float* x, int N, int K, float* y) {
  for (int n = 0; n < N; ++n) {
    double acc = 0;
    const float* w = W + std::size_t(n) * std::size_t(K);
    for (int c = 0; c < K; ++c) acc += double(w[c]) * double(x[c]);
    y[n] = float(acc);
  }
}

// The SwiGLU FFN of one expert on one row: g, u (pre-activations), a = silu(g) * u, y = W_down a.
struct FfnTrace {
  std::vector<float> g, u, a, y;
};
FfnTrace ffn(const Experts& w, int e, const float* x) {
  const std::size_t fh = std::size_t(w.ffn) * std::size_t(w.hidden);
  FfnTrace t{std::vector<float>(std::size_t(w.ffn)), std::vector<float>(std::size_t(w.ffn)),
             std::vector<float>(std::size_t(w.ffn)), std::vector<float>(std::size_t(w.hidden))};
  matvec(w.gate.data() + std::size_t(e) * fh, x, w.ffn, w.hidden, t.g.data());
  matvec(w.up.data() + std::size_t(e) * fh, x, w.ffn, w.hidden, t.u.data());
  for (std::size_t i = 0; i < t.a.size(); ++i) t.a[i] = silu(t.g[i]) * t.u[i];
  matvec(w.down.data() + std::size_t(e) * fh, t.a.data(), w.hidden, w.ffn, t.y.data());
  return t;
}

}  // namespace

std::vector<float> expert_ffn_forward(const Packed& recv, std::int64_t rows, const Experts& w) {
  const std::size_t h = std::size_t(w.hidden), s = std::size_t(recv.slots);
  std::vector<float> out(std::size_t(rows) * h, 0.0f);
  for (std::size_t r = 0; r < std::size_t(rows); ++r) {
    for (std::size_t j = 0; j < s; ++j) {
      const int e = recv.expert[r * s + j];
      if (e < 0) continue;
      const FfnTrace t = ffn(w, e, recv.rows.data() + r * h);
      for (std::size_t c = 0; c < h; ++c) out[r * h + c] += recv.weight[r * s + j] * t.y[c];
    }
  }
  return out;
}

ExpertGrads expert_ffn_backward(const Packed& recv, std::int64_t rows, const Experts& w,
                                const std::vector<float>& d_out) {
  const std::size_t h = std::size_t(w.hidden), f = std::size_t(w.ffn), s = std::size_t(recv.slots);
  const std::size_t fh = f * h;
  ExpertGrads g;
  g.d_rows.assign(std::size_t(rows) * h, 0.0f);
  g.d_weight.assign(std::size_t(rows) * s, 0.0f);
  g.d_gate.assign(w.gate.size(), 0.0f);
  g.d_up.assign(w.up.size(), 0.0f);
  g.d_down.assign(w.down.size(), 0.0f);
  std::vector<float> dy(h), da(f), dg(f), du(f);
  for (std::size_t r = 0; r < std::size_t(rows); ++r) {
    const float* x = recv.rows.data() + r * h;
    const float* dout = d_out.data() + r * h;
    for (std::size_t j = 0; j < s; ++j) {
      const int e = recv.expert[r * s + j];
      if (e < 0) continue;
      const float wt = recv.weight[r * s + j];
      const FfnTrace t = ffn(w, e, x);
      double dw = 0;
      for (std::size_t c = 0; c < h; ++c) {
        dw += double(dout[c]) * double(t.y[c]);
        dy[c] = wt * dout[c];
      }
      g.d_weight[r * s + j] = float(dw);
      const float* Wd = w.down.data() + std::size_t(e) * fh;
      float* dWd = g.d_down.data() + std::size_t(e) * fh;
      std::fill(da.begin(), da.end(), 0.0f);
      for (std::size_t c = 0; c < h; ++c)
        for (std::size_t i = 0; i < f; ++i) {
          da[i] += Wd[c * f + i] * dy[c];
          dWd[c * f + i] += dy[c] * t.a[i];
        }
      for (std::size_t i = 0; i < f; ++i) {
        const float sg = 1.0f / (1.0f + std::exp(-t.g[i]));
        du[i] = da[i] * t.g[i] * sg;
        dg[i] = da[i] * t.u[i] * sg * (1.0f + t.g[i] * (1.0f - sg));
      }
      const float* Wg = w.gate.data() + std::size_t(e) * fh;
      const float* Wu = w.up.data() + std::size_t(e) * fh;
      float* dWg = g.d_gate.data() + std::size_t(e) * fh;
      float* dWu = g.d_up.data() + std::size_t(e) * fh;
      for (std::size_t i = 0; i < f; ++i)
        for (std::size_t c = 0; c < h; ++c) {
          g.d_rows[r * h + c] += Wg[i * h + c] * dg[i] + Wu[i * h + c] * du[i];
          dWg[i * h + c] += dg[i] * x[c];
          dWu[i * h + c] += du[i] * x[c];
        }
    }
  }
  return g;
}

std::vector<float> unpack_reduce(const std::vector<float>& back, int hidden, const Routing& routing,
                                 const Layout& l) {
  const std::size_t h = std::size_t(hidden), k = std::size_t(routing.top_k);
  std::vector<float> out(std::size_t(routing.tokens) * h, 0.0f);
  for (std::size_t t = 0; t < std::size_t(routing.tokens); ++t)
    for (std::size_t j = 0; j < k; ++j) {
      const std::int32_t r = l.pair_row[t * k + j];
      if (r < 0 || l.pair_slot[t * k + j] != 0) continue;  // each distinct row once
      for (std::size_t c = 0; c < h; ++c) out[t * h + c] += back[std::size_t(r) * h + c];
    }
  return out;
}

std::vector<float> moe_layer(const std::vector<float>& x, int hidden, const Routing& routing,
                             const Experts& all) {
  const std::size_t h = std::size_t(hidden), k = std::size_t(routing.top_k);
  std::vector<float> out(std::size_t(routing.tokens) * h, 0.0f);
  for (std::size_t t = 0; t < std::size_t(routing.tokens); ++t)
    for (std::size_t j = 0; j < k; ++j) {
      const int e = routing.experts[t * k + j];
      if (e < 0) continue;
      const FfnTrace tr = ffn(all, e, x.data() + t * h);
      for (std::size_t c = 0; c < h; ++c) out[t * h + c] += routing.weights[t * k + j] * tr.y[c];
    }
  return out;
}

double rel_frobenius(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = double(a[i]) - double(b[i]);
    num += d * d;
    den += double(b[i]) * double(b[i]);
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

}  // namespace occult::ref
