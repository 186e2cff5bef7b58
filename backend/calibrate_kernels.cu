// `occult calibrate`, memory-bound kernels: layout, pack, unpack, the gradient pack, the gate-weight
// gradient unpack and the device copy that moves an exchange's own block, each timed against its work
// measure (sim/core/kernel_work.hpp) over token counts from a decode batch to a large prefill, at two
// row widths (OLMoE's 2048 and DeepSeek-V3's 7168), on GPU 0.
#include <algorithm>
#include <iostream>

#include "backend/calibrate.hpp"
#include "backend/device_buffer.hpp"
#include "backend/event_timer.hpp"
#include "backend/gpu_error.hpp"
#include "backend/synthetic.hpp"
#include "kernels/moe_kernels.hpp"
#include "sim/core/kernel_work.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/plan.hpp"
#include "sim/core/trace_gen.hpp"

namespace occult::gpu {
namespace {

using kernels::Bf16;
using kernels::DispatchMode;

constexpr double kMaxRowBytes = 8e9;  // the largest send buffer measured

// The own-block copy of an exchange exactly as Communicator::alltoallv enqueues it: fork to a copy
// stream, one cudaMemcpyAsync, join.
class ForkedCopy {
 public:
  explicit ForkedCopy(cudaStream_t main) : main_(main) {
    OCCULT_CUDA(cudaStreamCreateWithFlags(&side_, cudaStreamNonBlocking));
    OCCULT_CUDA(cudaEventCreateWithFlags(&fork_, cudaEventDisableTiming));
    OCCULT_CUDA(cudaEventCreateWithFlags(&join_, cudaEventDisableTiming));
  }
  ~ForkedCopy() {
    (void)cudaEventDestroy(fork_);
    (void)cudaEventDestroy(join_);
    (void)cudaStreamDestroy(side_);
  }
  ForkedCopy(const ForkedCopy&) = delete;
  ForkedCopy& operator=(const ForkedCopy&) = delete;
  void run(void* dst, const void* src, std::size_t bytes) {
    OCCULT_CUDA(cudaEventRecord(fork_, main_));
    OCCULT_CUDA(cudaStreamWaitEvent(side_, fork_, 0));
    OCCULT_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, side_));
    OCCULT_CUDA(cudaEventRecord(join_, side_));
    OCCULT_CUDA(cudaStreamWaitEvent(main_, join_, 0));
  }

 private:
  cudaStream_t main_, side_ = nullptr;
  cudaEvent_t fork_ = nullptr, join_ = nullptr;
};

// Median GPU time between two event records enqueued back to back behind a 64 MiB copy, so the
// stream is busy and the records are processed at GPU pace, as between the phases of a timed layer.
double event_gap(cudaStream_t s, void* dst, const void* src) {
  const int n = 50;
  Events ev(2 * std::size_t(n));
  for (int i = 0; i < n; ++i) {
    OCCULT_CUDA(cudaMemcpyAsync(dst, src, std::size_t(64) << 20, cudaMemcpyDeviceToDevice, s));
    OCCULT_CUDA(cudaEventRecord(ev[2 * std::size_t(i)], s));
    OCCULT_CUDA(cudaEventRecord(ev[2 * std::size_t(i) + 1], s));
  }
  OCCULT_CUDA(cudaStreamSynchronize(s));
  std::vector<double> t;
  for (int i = 0; i < n; ++i) t.push_back(ev.seconds(2 * std::size_t(i), 2 * std::size_t(i) + 1));
  return median(t);
}

__global__ void touch(int* p) {
  if (threadIdx.x == 0 && blockIdx.x == 0) ++*p;
}

// What `--counts sync` pays inside a layer: a small device-to-host copy, the host's wait for it, then
// the next work enqueued on an idle GPU. The span runs from an event before the copy to the end of a
// one-thread kernel enqueued after the wait, less that kernel's back-to-back time.
double host_roundtrip(cudaStream_t s, int iters) {
  DeviceBuffer<int> d(16, "host round trip");
  int* host = nullptr;
  OCCULT_CUDA(cudaMallocHost(&host, 64));
  std::vector<double> t;
  try {
    Events ev(2);
    const double alone = time_median(s, 3, iters, [&](cudaStream_t st) {
      touch<<<1, 32, 0, st>>>(d.get());
      OCCULT_CUDA(cudaGetLastError());
    });
    for (int i = 0; i < iters + 3; ++i) {
      OCCULT_CUDA(cudaEventRecord(ev[0], s));
      OCCULT_CUDA(cudaMemcpyAsync(host, d.get(), 64, cudaMemcpyDeviceToHost, s));
      OCCULT_CUDA(cudaStreamSynchronize(s));
      touch<<<1, 32, 0, s>>>(d.get());
      OCCULT_CUDA(cudaGetLastError());
      OCCULT_CUDA(cudaEventRecord(ev[1], s));
      OCCULT_CUDA(cudaStreamSynchronize(s));
      if (i >= 3) t.push_back(std::max(0.0, ev.seconds(0, 1) - alone));
    }
  } catch (...) {
    cudaFreeHost(host);
    throw;
  }
  OCCULT_CUDA(cudaFreeHost(host));
  return median(t);
}

void log_point(const char* what, double x, double t) {
  std::cerr << "calibrate kernel " << what << ": x=" << x << ": " << t * 1e6 << " us\n";
}

}  // namespace

void measure_kernels(const CalibrateOptions& opt, CalibrationProfile& prof) {
  OCCULT_CUDA(cudaSetDevice(0));
  cudaStream_t s = nullptr;
  OCCULT_CUDA(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  std::map<std::string, std::vector<CurveSample>> pts;
  try {
    const int D = 2, E = 64, k = 8;
    const auto placement = contiguous_placement(E, {D, D}, 1).layers[0];
    std::vector<std::int32_t> dev(placement.device_of.begin(), placement.device_of.end()), local(dev.size());
    for (std::size_t e = 0; e < dev.size(); ++e) local[e] = std::int32_t(e % std::size_t(E / D));
    DeviceBuffer<std::int32_t> ddev(dev.size(), "placement"), dlocal(dev.size(), "placement");
    OCCULT_CUDA(cudaMemcpyAsync(ddev.get(), dev.data(), dev.size() * 4, cudaMemcpyHostToDevice, s));
    OCCULT_CUDA(cudaMemcpyAsync(dlocal.get(), local.data(), local.size() * 4, cudaMemcpyHostToDevice, s));
    const std::vector<std::int64_t> tokens =
        opt.quick ? std::vector<std::int64_t>{256, 4096}
                  : std::vector<std::int64_t>{64, 256, 1024, 4096, 16384, 65536, 262144};
    // One shape (width h, T tokens): every kernel of both strategies. `record` false: timed and logged
    // only (the repeat of the first shape below).
    const auto measure_shape = [&](const int h, const std::int64_t T, const bool record) {
      const std::int64_t row_b = std::int64_t(h) * 2;
      const auto add = [&](const std::string& name, const CurveSample& p) {
        if (record) pts[name].push_back(p);
      };
      const std::size_t pairs = std::size_t(T * k);
      if (double(pairs) * double(row_b) > kMaxRowBytes) return;
      TraceGenParams gp;
      gp.experts = E;
      gp.top_k = k;
      gp.tokens = T;
      gp.seed = 9;
      const LayerRouting r = generate_layer(gp, 0);
      std::vector<float> wt(pairs);
      for (std::int64_t t = 0; t < T; ++t)
        for (int j = 0; j < k; ++j) wt[std::size_t(t * k + j)] = r.weight(t, j);
      DeviceBuffer<std::int32_t> ex(pairs, "routing"), cnt(std::size_t(D), "layout"),
          off(std::size_t(D) + 1, "layout"), prow(pairs, "layout"), pslot(pairs, "layout"),
          rtok(pairs, "layout"), mex(pairs * std::size_t(k), "meta");
      DeviceBuffer<float> w(pairs, "routing"), mwt(pairs * std::size_t(k), "meta"), dw(pairs, "weight grads");
      DeviceBuffer<unsigned char> ws(std::max<std::size_t>(kernels::layout_workspace_bytes(T, D), 1),
                                     "layout workspace");
      DeviceBuffer<Bf16> x(std::size_t(T) * std::size_t(h), "x"), rows(pairs * std::size_t(h), "rows"),
          y(std::size_t(T) * std::size_t(h), "y");
      OCCULT_CUDA(cudaMemcpyAsync(ex.get(), r.experts.data(), pairs * 4, cudaMemcpyHostToDevice, s));
      OCCULT_CUDA(cudaMemcpyAsync(w.get(), wt.data(), pairs * 4, cudaMemcpyHostToDevice, s));
      fill_synthetic_bf16(x.get(), x.size(), 9, kInputStream, 0, 1.0f, s);
      fill_synthetic_bf16(rows.get(), rows.size(), 9, kGradStream, 0, 1.0f, s);
      const kernels::RoutingView rv{ex.get(), w.get(), T, k};
      const kernels::PlacementView pv{ddev.get(), dlocal.get(), E, D};
      const kernels::Layout lv{cnt.get(), off.get(), prow.get(), pslot.get(), rtok.get()};
      for (const auto mode : {DispatchMode::Standard, DispatchMode::Occult}) {
        const bool occ = mode == DispatchMode::Occult;
        const std::string tag = occ ? "occult" : "standard";
        const int slots = kernels::meta_slots(mode, k);
        // Rows this source sends (the plan's row sum with the own block): what the pack writes.
        const CommPlan plan =
            build_plan(r, E, placement, {D, D}, occ ? Strategy::Occult : Strategy::Standard, row_b);
        std::int64_t sent = 0;
        for (int d = 0; d < D; ++d) sent += plan.stages[0].rows.row_sum(d, true);
        const double tl = time_adaptive(
            s, opt.iters, [&](cudaStream_t st) { kernels::compute_layout(mode, rv, pv, lv, ws.get(), st); });
        add("layout." + tag, {kernel_work::layout(T), tl});
        const double tp = time_adaptive(s, opt.iters, [&](cudaStream_t st) {
          kernels::pack_rows(mode, x.get(), h, rv, pv, lv, {rows.get(), mex.get(), mwt.get()}, st);
        });
        add("pack." + tag, {kernel_work::pack(sent, row_b, slots), tp});
        const double tu = time_adaptive(s, opt.iters, [&](cudaStream_t st) {
          kernels::unpack_reduce(rows.get(), h, T, k, lv, y.get(), st);
        });
        add("unpack." + tag, {kernel_work::unpack(sent, T, row_b), tu});
        const double tg = time_adaptive(s, opt.iters, [&](cudaStream_t st) {
          kernels::pack_rows_only(y.get(), h, rv, lv, rows.get(), st);
        });
        add("grad_pack." + tag, {kernel_work::grad_pack(sent, T, row_b), tg});
        if (h == 2048) {
          const double tw = time_adaptive(s, opt.iters, [&](cudaStream_t st) {
            kernels::unpack_weight_grad(mwt.get(), slots, T, k, lv, dw.get(), st);
          });
          add("weight_grad", {kernel_work::weight_grad(T, k), tw});
        }
        std::cerr << "calibrate kernels " << tag << " h=" << h << " tokens=" << T << ": layout " << tl * 1e6
                  << " us, pack " << tp * 1e6 << " us, unpack " << tu * 1e6 << " us, grad pack " << tg * 1e6
                  << " us\n";
      }
    };
    for (const int h : {2048, 7168})
      for (const auto T : tokens) measure_shape(h, T, true);
    // The first shape again, after all the others: its two timings say whether the first shape
    // measured pays a warm-up that later ones do not (the log shows both; the profile keeps the first).
    std::cerr << "calibrate kernels: the first shape again, not recorded:\n";
    measure_shape(2048, tokens.front(), false);
    // Device copies from 4 KiB to 4 GiB, as an exchange moves its own block.
    const std::size_t top = opt.quick ? (std::size_t(1) << 24) : (std::size_t(1) << 32);
    DeviceBuffer<unsigned char> a(top, "copy source"), b(top, "copy destination");
    OCCULT_CUDA(cudaMemsetAsync(a.get(), 1, top, s));
    ForkedCopy copy(s);
    for (std::size_t bytes = 4096; bytes <= top; bytes *= 4) {
      const double t = time_adaptive(s, opt.iters, [&](cudaStream_t) { copy.run(b.get(), a.get(), bytes); });
      pts["copy"].push_back({kernel_work::copy(double(bytes)), t});
      log_point("copy", double(bytes), t);
    }
    prof.event_s = event_gap(s, b.get(), a.get());
    prof.host_roundtrip_s = host_roundtrip(s, 4 * opt.iters);
    std::cerr << "calibrate: host round trip " << prof.host_roundtrip_s * 1e6 << " us\n";
    std::cerr << "calibrate: " << prof.event_s * 1e6 << " us between two event records on a busy stream\n";
  } catch (...) {
    cudaStreamDestroy(s);
    throw;
  }
  OCCULT_CUDA(cudaStreamDestroy(s));
  for (auto& [name, p] : pts) prof.kernels[name] = MeasuredCurve(std::move(p));
}

}  // namespace occult::gpu
