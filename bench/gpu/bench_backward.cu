// Expert FFN backward, side by side in one run: the fused path (our grouped tensor-core GEMMs, no
// host round trip), the cuBLAS paths (grouped, per expert, and tc_auto, which picks one of the two)
// and the fp32 SIMT baseline, next to the forward (expert_ffn_forward) of the same problem, so that
// "backward / forward" is read off one line for the fused path and for cuBLAS. Shapes: OLMoE (h 2048,
// f 1024), Qwen1.5-MoE (2048, 1408), Mixtral 8x7B (4096, 14336), DeepSeek-V3 (7168, 2048); L local
// experts with r pairs each (32 to 4096); standard rows (one expert per row) or occult rows read by 4
// local experts. The SIMT path only runs where it takes under a second per call.
//   occult_bench_gpu --benchmark_filter='^bwd/' --benchmark_counters_tabular=true
// Counters: *_us are the mean wall time of one call of that path (cudaEvent, the host round trip
// for the expert counts of the cuBLAS paths included); fused_<kernel>_us the fused path with one GEMM
// kernel forced. Time is the fused path (or, if it failed, the first path that ran). TFLOPs at 16 h f
// per pair (gate/up recompute, the down GEMM's input gradient, three weight gradients, two for dX):
// fused_TFLOPs, cublas_TFLOPs (the faster of cuBLAS grouped and per expert), per_expert_TFLOPs;
// fused_bwd_over_fwd and cublas_bwd_over_fwd (the same best cuBLAS); fused_speedup = best cuBLAS time
// / fused time.
#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/gpu/bench_gpu_util.cuh"
#include "kernels/expert_ffn_backward.hpp"
#include "kernels/expert_gemm_choice.hpp"
#include "kernels/moe_kernels.hpp"

namespace occult::kernels {
namespace {

using namespace occult::kernels::bench;

struct Problem {
  RecvView recv;
  ExpertWeights w;
  ExpertGrads grads;
  Bf16 *d_out = nullptr, *fwd_out = nullptr;
  std::vector<std::unique_ptr<DevicePtr<Bf16>>> bf;
  std::vector<std::unique_ptr<DevicePtr<float>>> f32;
  std::unique_ptr<DevicePtr<std::int32_t>> expert;
  std::unique_ptr<DevicePtr<char>> ws;
  Bf16* bf16(std::size_t n, float scale, unsigned seed) {
    bf.push_back(std::make_unique<DevicePtr<Bf16>>(n));
    fill_bf16<<<1024, 256>>>(reinterpret_cast<__nv_bfloat16*>(bf.back()->p), n, scale, seed);
    ok(cudaGetLastError());
    return bf.back()->p;
  }
  float* fp32(std::size_t n) {
    f32.push_back(std::make_unique<DevicePtr<float>>(n));
    return f32.back()->p;
  }
};

// Every local expert gets exactly `per_expert` pairs; row r, slot j reads expert (perm(r) + j * L /
// slots) % L, so the slots of a row are distinct experts.
std::unique_ptr<Problem> make_problem(const Shape& s, int L, int per_expert, int slots) {
  auto p = std::make_unique<Problem>();
  const std::int64_t rows = std::int64_t(L) * per_expert / slots;
  const std::size_t h = std::size_t(s.hidden), f = std::size_t(s.ffn), fh = f * h * std::size_t(L);
  const Bf16* x = p->bf16(std::size_t(rows) * h, 1.0f, 1);
  p->d_out = p->bf16(std::size_t(rows) * h, 1.0f, 5);
  p->fwd_out = p->bf16(std::size_t(rows) * h, 1.0f, 6);
  p->w =
      ExpertWeights{p->bf16(fh, 0.05f, 2), p->bf16(fh, 0.05f, 3), p->bf16(fh, 0.05f, 4), L, s.hidden, s.ffn};
  std::vector<std::int32_t> ex(std::size_t(rows * slots));
  for (std::int64_t r = 0; r < rows; ++r)
    for (int j = 0; j < slots; ++j)
      ex[std::size_t(r * slots + j)] = std::int32_t((std::uint64_t(r) * 2654435761u % std::uint64_t(rows) +
                                                     std::uint64_t(j) * std::uint64_t(L / slots)) %
                                                    std::uint64_t(L));
  p->expert = std::make_unique<DevicePtr<std::int32_t>>(ex.size());
  ok(cudaMemcpy(p->expert->p, ex.data(), ex.size() * sizeof(std::int32_t), cudaMemcpyHostToDevice));
  float* weight = p->fp32(ex.size());
  const std::vector<float> wt(ex.size(), 1.0f / float(slots));
  ok(cudaMemcpy(weight, wt.data(), wt.size() * sizeof(float), cudaMemcpyHostToDevice));
  p->recv = RecvView{x, p->expert->p, weight, rows, slots};
  p->grads = ExpertGrads{p->bf16(std::size_t(rows) * h, 1.0f, 7), p->fp32(ex.size()), p->fp32(fh),
                         p->fp32(fh), p->fp32(fh)};
  std::size_t ws = expert_ffn_workspace_bytes(p->recv, p->w);
  for (BackwardPath path : {BackwardPath::TensorCoreGrouped, BackwardPath::TensorCorePerExpert,
                            BackwardPath::Simt, BackwardPath::Fused})  // Auto: one of the first two
    ws = std::max(ws, expert_ffn_backward_workspace_bytes(p->recv, p->w, path));
  p->ws = std::make_unique<DevicePtr<char>>(ws);
  ok(cudaDeviceSynchronize());
  return p;
}

class Timer {
 public:
  Timer() {
    ok(cudaEventCreate(&a_));
    ok(cudaEventCreate(&b_));
  }
  ~Timer() {
    cudaEventDestroy(a_);
    cudaEventDestroy(b_);
  }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  template <class F>
  double seconds(F&& run) {
    ok(cudaEventRecord(a_));
    run();
    ok(cudaEventRecord(b_));
    ok(cudaEventSynchronize(b_));
    float ms = 0;
    ok(cudaEventElapsedTime(&ms, a_, b_));
    return ms * 1e-3;
  }

 private:
  cudaEvent_t a_ = nullptr, b_ = nullptr;
};

// One timed variant: a path, or the fused path with a GEMM kernel forced.
struct Variant {
  std::string name;
  BackwardPath path = BackwardPath::Fused;
  GemmKernel kernel = GemmKernel::Auto;
  bool forced = false;
};

std::vector<Variant> variants(bool with_simt) {
  std::vector<Variant> v;
  for (BackwardPath p : {BackwardPath::Fused, BackwardPath::TensorCoreAuto, BackwardPath::TensorCoreGrouped,
                         BackwardPath::TensorCorePerExpert})
    v.push_back({backward_path_name(p), p});
  if (with_simt) v.push_back({backward_path_name(BackwardPath::Simt), BackwardPath::Simt});
  std::vector<GemmKernel> forced{GemmKernel::Mma128, GemmKernel::Mma256};
  if (wgmma_available()) forced = {GemmKernel::Mma128, GemmKernel::Wgmma128, GemmKernel::Wgmma256};
  for (GemmKernel k : forced)
    v.push_back({std::string("fused_") + to_string(k), BackwardPath::Fused, k, true});
  return v;
}

void bm_backward(benchmark::State& state, Shape shape, int L, int per_expert, int slots, bool with_simt) {
  static cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) throw CudaError("cublasCreate");
    return h;
  }();
  const auto p = make_problem(shape, L, per_expert, slots);
  const auto run = [&](const Variant& v) {
    if (v.forced)
      expert_ffn_backward_fused(p->recv, p->w, p->d_out, p->grads, p->ws->p, nullptr, v.kernel);
    else
      expert_ffn_backward(handle, v.path, p->recv, p->w, p->d_out, p->grads, p->ws->p, nullptr);
  };
  const auto fwd = [&] { expert_ffn_forward(p->recv, p->w, p->fwd_out, p->ws->p, nullptr); };
  fwd();  // warm-up: cuBLAS heuristics, lazy module loading
  // A variant the library refuses (a cuBLAS status) is reported and left out, not fatal to the run.
  std::vector<Variant> working;
  for (const Variant& v : variants(with_simt)) try {
      run(v);
      working.push_back(v);
    } catch (const CudaError& e) {
      std::fprintf(stderr, "%s: %s\n", v.name.c_str(), e.what());
      ok(cudaGetLastError());
    }
  ok(cudaDeviceSynchronize());
  if (working.empty()) return state.SkipWithError("no backward path ran");
  // Time is the fused path's, or (if it failed: see stderr) the first variant that ran, so the
  // cuBLAS numbers of the row still come out.
  const std::string timed = working.front().name;
  Timer t;
  std::map<std::string, double> total;
  double fwd_total = 0;
  for (auto _ : state) {
    fwd_total += t.seconds(fwd);
    double fused = 0;
    for (const Variant& v : working) {
      const double sec = t.seconds([&] { run(v); });
      total[v.name] += sec;
      if (v.name == timed) fused = sec;
    }
    state.SetIterationTime(fused);
  }
  const double n = double(state.iterations()), f = fwd_total / n;
  const double flop = 16.0 * double(L) * per_expert * shape.hidden * shape.ffn;
  for (const auto& [name, sec] : total) state.counters[name + "_us"] = sec / n * 1e6;
  const bool have_fused = total.count("fused") > 0;
  const double fused = total[timed] / n;
  double cublas = 0;  // the faster cuBLAS path that ran
  for (const char* name : {"tc_grouped", "tc_per_expert"})
    if (total.count(name) && (cublas == 0 || total[name] / n < cublas)) cublas = total[name] / n;
  state.counters["fwd_us"] = f * 1e6;
  if (have_fused) {
    state.counters["fused_TFLOPs"] = flop / fused * 1e-12;
    state.counters["fused_bwd_over_fwd"] = fused / f;
  }
  if (cublas > 0) {
    state.counters["cublas_TFLOPs"] = flop / cublas * 1e-12;
    state.counters["cublas_bwd_over_fwd"] = cublas / f;
    if (have_fused) state.counters["fused_speedup"] = cublas / fused;
  }
  if (total.count("tc_per_expert"))
    state.counters["per_expert_TFLOPs"] = flop / (total["tc_per_expert"] / n) * 1e-12;
  if (total.count("simt") && have_fused) state.counters["simt_over_fused"] = total["simt"] / n / fused;
}

void register_all() {
  const std::string mode[] = {"", "standard", "", "", "occult4"};
  const auto add = [&](const Shape& s, int L, int per_expert, int slots, bool simt) {
    const std::string name = std::string("bwd/") + s.name + "/L:" + std::to_string(L) +
                             "/rpe:" + std::to_string(per_expert) + "/" + mode[slots];
    benchmark::RegisterBenchmark(name.c_str(), bm_backward, s, L, per_expert, slots, simt)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond)
        ->Iterations(simt ? 3 : 10);
  };
  const Shape &olmoe = kShapes[0], &qwen = kShapes[1], &dsv3 = kShapes[2];
  static constexpr Shape mixtral{"mixtral", 4096, 14336};
  // OLMoE on 2 GPUs: 32 local experts, 4096 tokens x top-8 x 2 GPUs / 2 = 1024 pairs per expert
  // (128 tokens per GPU: 32). The others: 8 local experts (Mixtral: 4, half of its 8), 32 to 4096
  // pairs per expert.
  add(olmoe, 32, 1024, 1, true);
  add(olmoe, 32, 1024, 4, false);
  add(olmoe, 32, 32, 1, true);
  add(olmoe, 32, 256, 1, false);
  add(olmoe, 8, 64, 1, true);
  add(olmoe, 8, 256, 1, true);
  add(olmoe, 8, 4096, 1, false);
  for (int rpe : {32, 256, 1024, 4096}) {
    add(qwen, 8, rpe, 1, false);
    add(mixtral, 4, rpe, 1, false);
    add(dsv3, 8, rpe, 1, false);
  }
}

const bool registered = (register_all(), true);

}  // namespace
}  // namespace occult::kernels
