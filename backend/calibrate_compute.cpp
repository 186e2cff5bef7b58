// `occult calibrate`, compute: the sparse expert FFN forward and backward over a grid of shapes, and
// the dense cuBLAS ceiling, on GPU 0. The grid (model widths x local experts x rows per expert x slot
// layouts) is what the cost model interpolates (sim/core/expert_calibration.hpp); its points are not
// the validation runs' shapes, so every validated expert phase is a prediction between samples.
#include <cublas_v2.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <numeric>
#include <random>

#include "backend/calibrate.hpp"
#include "backend/device_buffer.hpp"
#include "backend/event_timer.hpp"
#include "backend/gpu_error.hpp"
#include "backend/synthetic.hpp"
#include "kernels/moe_kernels.hpp"
#include "sim/core/model.hpp"

namespace occult::gpu {
namespace {

using kernels::Bf16;

void check_cublas(cublasStatus_t st, const char* what) {
  if (st != CUBLAS_STATUS_SUCCESS)
    throw GpuError(std::string(what) + " failed: cuBLAS status " + std::to_string(int(st)));
}

// Dense bf16 GEMM ceiling measured in the same run (the roofline the expert samples are read against).
double dense_peak_tflops(cudaStream_t s, int iters) {
  const int n = 8192;
  DeviceBuffer<Bf16> a(std::size_t(n) * n, "dense GEMM A"), b(std::size_t(n) * n, "dense GEMM B"),
      c(std::size_t(n) * n, "dense GEMM C");
  fill_synthetic_bf16(a.get(), a.size(), 11, 100, 0, 1.0f, s);
  fill_synthetic_bf16(b.get(), b.size(), 11, 101, 0, 1.0f, s);
  cublasHandle_t h = nullptr;
  check_cublas(cublasCreate(&h), "cublasCreate");
  const float one = 1.0f, zero = 0.0f;
  double t = 0;
  try {
    check_cublas(cublasSetStream(h, s), "cublasSetStream");
    t = time_median(s, 3, iters, [&](cudaStream_t) {
      check_cublas(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a.get(), CUDA_R_16BF, n, b.get(),
                                CUDA_R_16BF, n, &zero, c.get(), CUDA_R_16BF, n, CUBLAS_COMPUTE_32F,
                                CUBLAS_GEMM_DEFAULT),
                   "cublasGemmEx");
    });
  } catch (...) {
    cublasDestroy(h);
    throw;
  }
  cublasDestroy(h);
  return 2.0 * double(n) * n * n / t / 1e12;
}

// Expert counts sampled for a model of E experts: powers of four up to E, and E itself (one GPU holds
// them all).
std::vector<int> expert_counts(int E, bool quick) {
  std::vector<int> v;
  for (int l = 1; l < E; l *= 4) v.push_back(l);
  v.push_back(E);
  if (quick) v = {std::min(4, E), E};
  return v;
}

std::vector<std::int64_t> rows_per_expert(bool quick) {
  if (quick) return {16, 256};
  return {1, 4, 16, 64, 256, 1024, 4096, 16384};
}

// Pairs per row sampled in occult's layout (slots = k): 1 (a row that feeds one local expert still
// takes the fp32 accumulation path) up to k.
std::vector<int> pairs_per_row(int k, bool backward) {
  std::vector<int> v;
  for (int p = 1; p <= std::min(k, 8); p *= 2)
    if (!backward || p == 1 || p == std::min(k, 8)) v.push_back(p);
  return v;
}

struct Weights {
  DeviceBuffer<Bf16> gate, up, down;
  DeviceBuffer<float> d_gate, d_up, d_down;
  kernels::ExpertWeights view;
};

Weights make_weights(const ModelConfig& m, int L, bool grads, cudaStream_t s) {
  const std::size_t fh = std::size_t(m.ffn) * std::size_t(m.hidden) * std::size_t(L);
  Weights w;
  w.gate = DeviceBuffer<Bf16>(fh, "calibration weights");
  w.up = DeviceBuffer<Bf16>(fh, "calibration weights");
  w.down = DeviceBuffer<Bf16>(fh, "calibration weights");
  fill_synthetic_bf16(w.gate.get(), fh, 3, 200, 0, std::sqrt(3.0f / float(m.hidden)), s);
  fill_synthetic_bf16(w.up.get(), fh, 3, 201, 0, std::sqrt(3.0f / float(m.hidden)), s);
  fill_synthetic_bf16(w.down.get(), fh, 3, 202, 0, std::sqrt(3.0f / float(m.ffn)), s);
  if (grads) {
    w.d_gate = DeviceBuffer<float>(fh, "calibration weight gradients");
    w.d_up = DeviceBuffer<float>(fh, "calibration weight gradients");
    w.d_down = DeviceBuffer<float>(fh, "calibration weight gradients");
  }
  w.view = {w.gate.get(), w.up.get(), w.down.get(), L, m.hidden, m.ffn};
  return w;
}

// Received rows as the dispatch delivers them: `rows` rows in source order, each read by `p` distinct
// local experts, every expert getting exactly rpe pairs; rows shuffled so experts interleave.
void fill_meta(std::int64_t rows, int slots, int p, int L, std::vector<std::int32_t>& ex,
               std::vector<float>& wt) {
  ex.assign(std::size_t(rows * slots), -1);
  wt.assign(std::size_t(rows * slots), 0.0f);
  std::vector<std::int64_t> order(static_cast<std::size_t>(rows));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(std::uint64_t(rows * 131 + p)));
  for (std::int64_t r = 0; r < rows; ++r)
    for (int j = 0; j < p; ++j) {
      const std::size_t at = std::size_t(order[std::size_t(r)] * slots + j);
      ex[at] = std::int32_t((r * p + j) % L);
      wt[at] = 0.5f / float(p);
    }
}

std::size_t free_bytes() {
  std::size_t free = 0, total = 0;
  OCCULT_CUDA(cudaMemGetInfo(&free, &total));
  return free;
}

void measure_grid(const CalibrateOptions& opt, bool backward, ExpertCalibration& out, cudaStream_t s) {
  const double flops_per_hf = backward ? 12.0 : 6.0;
  for (const auto& name : opt.models) {
    const ModelConfig m = model_preset(name);
    for (int L : expert_counts(m.experts, opt.quick)) {
      const double weight_bytes = 3.0 * double(L) * m.hidden * m.ffn * (backward ? 2.0 + 4.0 : 2.0);
      if (weight_bytes > 0.5 * double(free_bytes())) {
        std::cerr << "calibrate expert " << (backward ? "backward " : "forward ") << name << " L=" << L
                  << ": skipped (weights do not fit)\n";
        continue;
      }
      Weights w = make_weights(m, L, backward, s);
      struct Layout {
        int slots, p;
      };
      std::vector<Layout> layouts = {{1, 1}};
      for (int p : pairs_per_row(m.top_k, backward))
        if (p <= L) layouts.push_back({m.top_k, p});
      for (std::int64_t rpe : rows_per_expert(opt.quick)) {
        const std::int64_t pairs = rpe * L;
        if (pairs > opt.max_pairs) continue;
        for (const auto& lay : layouts) {
          if (pairs % lay.p != 0) continue;
          const std::int64_t rows = pairs / lay.p;
          const std::size_t h = std::size_t(m.hidden);
          kernels::RecvView probe{nullptr, nullptr, nullptr, rows, lay.slots};
          const std::size_t ws = backward ? kernels::expert_ffn_backward_workspace_bytes(probe, w.view)
                                          : kernels::expert_ffn_workspace_bytes(probe, w.view);
          const double need = double(rows) * double(h) * 2 * (backward ? 3 : 2) + double(ws) +
                              double(rows) * lay.slots * 12;
          if (need > 0.8 * double(free_bytes())) continue;
          std::vector<std::int32_t> ex;
          std::vector<float> wt;
          fill_meta(rows, lay.slots, lay.p, L, ex, wt);
          DeviceBuffer<Bf16> x(std::size_t(rows) * h, "calibration rows"),
              y(std::size_t(rows) * h, "calibration out");
          DeviceBuffer<std::int32_t> dex(ex.size(), "calibration meta");
          DeviceBuffer<float> dwt(wt.size(), "calibration meta");
          DeviceBuffer<unsigned char> wsb(std::max<std::size_t>(ws, 1), "calibration workspace");
          fill_synthetic_bf16(x.get(), x.size(), 3, kInputStream, 0, 1.0f, s);
          OCCULT_CUDA(cudaMemcpyAsync(dex.get(), ex.data(), ex.size() * 4, cudaMemcpyHostToDevice, s));
          OCCULT_CUDA(cudaMemcpyAsync(dwt.get(), wt.data(), wt.size() * 4, cudaMemcpyHostToDevice, s));
          const kernels::RecvView recv{x.get(), dex.get(), dwt.get(), rows, lay.slots};
          double t = 0;
          if (!backward) {
            t = time_adaptive(s, opt.iters, [&](cudaStream_t st) {
              kernels::expert_ffn_forward(recv, w.view, y.get(), wsb.get(), st);
            });
          } else {
            DeviceBuffer<Bf16> dy(std::size_t(rows) * h, "calibration output gradient");
            DeviceBuffer<float> dw(std::size_t(rows * lay.slots), "calibration gate gradient");
            fill_synthetic_bf16(dy.get(), dy.size(), 3, kGradStream, 0, 1.0f, s);
            const kernels::ExpertGrads g{y.get(), dw.get(), w.d_gate.get(), w.d_up.get(), w.d_down.get()};
            t = time_adaptive(s, opt.iters, [&](cudaStream_t st) {
              kernels::expert_ffn_backward(recv, w.view, dy.get(), g, wsb.get(), st);
            });
          }
          OCCULT_CUDA(cudaStreamSynchronize(s));
          out.samples.push_back({m.hidden, m.ffn, L, rpe, lay.slots, lay.p, t});
          std::cerr << "calibrate expert " << (backward ? "backward " : "forward ") << name << " L=" << L
                    << " rows/expert=" << rpe << " slots=" << lay.slots << " pairs/row=" << lay.p << ": "
                    << t * 1e6 << " us, " << out.samples.back().tflops(flops_per_hf) << " TFLOP/s\n";
        }
      }
    }
  }
}

}  // namespace

void measure_compute(const CalibrateOptions& opt, CalibrationProfile& prof) {
  OCCULT_CUDA(cudaSetDevice(0));
  cudaStream_t s = nullptr;
  OCCULT_CUDA(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  try {
    prof.peak_tflops = dense_peak_tflops(s, opt.iters);
    std::cerr << "calibrate: dense bf16 cuBLAS " << prof.peak_tflops << " TFLOP/s\n";
    prof.expert_forward.kernel =
        "kernels::expert_ffn_forward (gather, SwiGLU FFN, gate-weighted scatter-add; wgmma on sm_90)";
    measure_grid(opt, false, prof.expert_forward, s);
    prof.expert_backward.kernel =
        "kernels::expert_ffn_backward (default path: cuBLAS tensor cores, one host read of the counts)";
    measure_grid(opt, true, prof.expert_backward, s);
  } catch (...) {
    cudaStreamDestroy(s);
    throw;
  }
  OCCULT_CUDA(cudaStreamDestroy(s));
}

}  // namespace occult::gpu
