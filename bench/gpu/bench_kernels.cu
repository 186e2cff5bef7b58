// Sparse expert FFN throughput, side by side in one run: ours (gather in the GEMM load, SwiGLU and
// weighted scatter in the epilogues; the automatic kernel choice and each GEMM kernel forced) vs the
// library path (permuted copy, cuBLAS GEMMs per expert,
// SwiGLU, scatter) vs cuBLAS dense GEMMs of the same FLOPs (no routing at all: the ceiling).
// Shapes: OLMoE (h 2048, f 1024), Qwen1.5-MoE (2048, 1408), DeepSeek-V3 (7168, 2048); 8 local
// experts (an EP rank's share: OLMoE's 64 experts on 8 GPUs, DeepSeek-V3's 256 on 32); 64..4096 rows
// per expert. "occult4" rows are each read by 4 local experts (pre-reduced
// scatter with fp32 atomics), as on a device receiving one copy per (token, device).
#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/gpu/bench_gpu_util.cuh"
#include "kernels/expert_ffn_cublas.hpp"
#include "kernels/expert_gemm_choice.hpp"
#include "kernels/moe_kernels.hpp"

namespace occult::kernels {
namespace {

using namespace occult::kernels::bench;
constexpr int kLocalExperts = 8;

// One problem: rows, their metadata (each expert gets exactly rows_per_expert pairs, rows shuffled)
// and weights, plus outputs and the largest workspace any path needs.
struct Problem {
  Shape shape;
  int slots = 1;
  std::int64_t rows = 0, pairs = 0;
  std::unique_ptr<DevicePtr<Bf16>> x, gate, up, down, out, dense_tmp;
  std::unique_ptr<DevicePtr<std::int32_t>> expert;
  std::unique_ptr<DevicePtr<float>> weight;
  std::unique_ptr<DevicePtr<char>> ws;
  RecvView recv() const { return RecvView{x->p, expert->p, weight->p, rows, slots}; }
  ExpertWeights weights() const {
    return ExpertWeights{gate->p, up->p, down->p, kLocalExperts, shape.hidden, shape.ffn};
  }
};

Problem& problem(const Shape& s, int rows_per_expert, int slots) {
  static std::map<std::string, std::unique_ptr<Problem>> cache;
  const std::string key =
      std::string(s.name) + "/" + std::to_string(rows_per_expert) + "/" + std::to_string(slots);
  auto& slot = cache[key];
  if (slot) return *slot;
  cache.clear();  // one problem resident at a time
  auto& pr = cache[key];
  pr = std::make_unique<Problem>();
  Problem& p = *pr;
  p.shape = s;
  p.slots = slots;
  p.pairs = std::int64_t(kLocalExperts) * rows_per_expert;
  p.rows = p.pairs / slots;
  const std::size_t h = std::size_t(s.hidden), f = std::size_t(s.ffn), fh = f * h * kLocalExperts;
  p.x = std::make_unique<DevicePtr<Bf16>>(std::size_t(p.rows) * h);
  p.gate = std::make_unique<DevicePtr<Bf16>>(fh);
  p.up = std::make_unique<DevicePtr<Bf16>>(fh);
  p.down = std::make_unique<DevicePtr<Bf16>>(fh);
  p.out = std::make_unique<DevicePtr<Bf16>>(std::size_t(p.rows) * h);
  p.dense_tmp = std::make_unique<DevicePtr<Bf16>>(std::size_t(p.pairs) * (2 * f + h));
  fill_bf16<<<1024, 256>>>(reinterpret_cast<__nv_bfloat16*>(p.x->p), std::size_t(p.rows) * h, 1.0f, 1);
  fill_bf16<<<1024, 256>>>(reinterpret_cast<__nv_bfloat16*>(p.gate->p), fh, 0.05f, 2);
  fill_bf16<<<1024, 256>>>(reinterpret_cast<__nv_bfloat16*>(p.up->p), fh, 0.05f, 3);
  fill_bf16<<<1024, 256>>>(reinterpret_cast<__nv_bfloat16*>(p.down->p), fh, 0.05f, 4);
  ok(cudaGetLastError());
  // Row r, slot j reads expert (perm(r) + j) % L: every expert gets exactly rows_per_expert pairs.
  std::vector<std::int32_t> ex(std::size_t(p.rows * slots));
  std::vector<float> wt(ex.size(), 1.0f / float(slots));
  for (std::int64_t r = 0; r < p.rows; ++r)
    for (int j = 0; j < slots; ++j)
      ex[std::size_t(r * slots + j)] = std::int32_t((std::uint64_t(r) * 2654435761u % std::uint64_t(p.rows) +
                                                     std::uint64_t(j) * (kLocalExperts / slots)) %
                                                    kLocalExperts);
  p.expert = std::make_unique<DevicePtr<std::int32_t>>(ex.size());
  p.weight = std::make_unique<DevicePtr<float>>(wt.size());
  ok(cudaMemcpy(p.expert->p, ex.data(), ex.size() * sizeof(std::int32_t), cudaMemcpyHostToDevice));
  ok(cudaMemcpy(p.weight->p, wt.data(), wt.size() * sizeof(float), cudaMemcpyHostToDevice));
  p.ws =
      std::make_unique<DevicePtr<char>>(std::max(expert_ffn_workspace_bytes(p.recv(), p.weights()),
                                                 expert_ffn_cublas_workspace_bytes(p.recv(), p.weights())));
  ok(cudaDeviceSynchronize());
  return p;
}

cublasHandle_t cublas() {
  static cublasHandle_t h = [] {
    cublasHandle_t c = nullptr;
    ok(cublasCreate(&c));
    return c;
  }();
  return h;
}

// Row-major C[m x n] = A[m x k] B^T, B [n x k].
void linear(const Bf16* a, const Bf16* b, Bf16* c, std::int64_t m, int n, int k) {
  const float one = 1.0f, zero = 0.0f;
  ok(cublasGemmEx(cublas(), CUBLAS_OP_T, CUBLAS_OP_N, n, int(m), k, &one, b, CUDA_R_16BF, k, a, CUDA_R_16BF,
                  k, &zero, c, CUDA_R_16BF, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

enum class Path { Ours, Library, Dense };

void run_once(Path path, GemmKernel kernel, Problem& p) {
  const ExpertWeights w = p.weights();
  switch (path) {
    case Path::Ours:
      expert_ffn_forward(p.recv(), w, p.out->p, p.ws->p, nullptr, kernel);
      break;
    case Path::Library:
      expert_ffn_forward_cublas(cublas(), p.recv(), w, p.out->p, p.ws->p, nullptr);
      break;
    case Path::Dense: {  // the same three GEMM shapes over all pairs with one expert's weights
      Bf16* g = p.dense_tmp->p;
      Bf16* u = g + std::size_t(p.pairs) * std::size_t(w.ffn);
      Bf16* y = u + std::size_t(p.pairs) * std::size_t(w.ffn);
      const Bf16* xa = p.slots == 1 ? p.x->p : p.dense_tmp->p;  // any [pairs x h] operand will do
      linear(xa, w.gate, g, p.pairs, w.ffn, w.hidden);
      linear(xa, w.up, u, p.pairs, w.ffn, w.hidden);
      linear(u, w.down, y, p.pairs, w.hidden, w.ffn);
      break;
    }
  }
}

// Runs timed per iteration (one event pair around them); the manual time is per run.
int reps_for(int rows_per_expert) { return rows_per_expert >= 1024 ? 5 : 20; }
constexpr double kMinSeconds = 0.2;  // wall time per benchmark, about

void bench_ffn(benchmark::State& state, Shape s, int rows_per_expert, int slots, Path path,
               GemmKernel kernel) {
  Problem& p = problem(s, rows_per_expert, slots);
  ok(cublasSetStream(cublas(), nullptr));
  for (int i = 0; i < 3; ++i) run_once(path, kernel, p);  // warm-up
  ok(cudaDeviceSynchronize());
  cudaEvent_t t0, t1;
  ok(cudaEventCreate(&t0));
  ok(cudaEventCreate(&t1));
  const int reps = reps_for(rows_per_expert);
  for (auto _ : state) {
    ok(cudaEventRecord(t0));
    for (int i = 0; i < reps; ++i) run_once(path, kernel, p);
    ok(cudaEventRecord(t1));
    ok(cudaEventSynchronize(t1));
    float ms = 0;
    ok(cudaEventElapsedTime(&ms, t0, t1));
    state.SetIterationTime(double(ms) / 1e3 / reps);
  }
  ok(cudaEventDestroy(t0));
  ok(cudaEventDestroy(t1));
  const double flops = 2.0 * 3.0 * double(s.hidden) * double(s.ffn) * double(p.pairs);
  state.counters["TFLOPs"] = benchmark::Counter(flops / 1e12, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["pairs"] = double(p.pairs);
  state.counters["rows_per_expert"] = rows_per_expert;
  state.counters["slots"] = slots;
  state.counters["hidden"] = s.hidden;
  state.counters["ffn"] = s.ffn;
  state.counters["experts"] = kLocalExperts;
  if (path == Path::Ours)  // which GEMM kernel ran (for Auto, the one the rule picked)
    state.SetLabel(
        to_string(kernel == GemmKernel::Auto ? choose_gemm_kernel(p.recv(), p.weights()) : kernel));
}

void register_all() {
  struct Variant {
    Path path;
    GemmKernel kernel;
    const char* name;
  };
  std::vector<Variant> paths{{Path::Ours, GemmKernel::Auto, "ours"},
                             {Path::Ours, GemmKernel::Mma128, "ours_mma128"},
                             {Path::Ours, GemmKernel::Mma256, "ours_mma256"}};
  if (wgmma_available())
    paths.insert(paths.end(), {{Path::Ours, GemmKernel::Wgmma128, "ours_wgmma128"},
                               {Path::Ours, GemmKernel::Wgmma256, "ours_wgmma256"}});
  paths.insert(paths.end(), {{Path::Library, GemmKernel::Auto, "cublas_per_expert"},
                             {Path::Dense, GemmKernel::Auto, "cublas_dense"}});
  for (const Shape& s : kShapes)
    for (int rpe : {64, 256, 1024, 4096})
      for (int slots : {1, 4})
        for (const auto& [path, kernel, pname] : paths) {
          if (slots > 1 && path == Path::Dense) continue;  // same FLOPs as slots 1
          const std::string name = std::string("ffn/") + s.name + "/rpe:" + std::to_string(rpe) +
                                   (slots == 1 ? "/standard/" : "/occult4/") + pname;
          benchmark::RegisterBenchmark(name.c_str(), bench_ffn, s, rpe, slots, path, kernel)
              ->UseManualTime()
              ->Unit(benchmark::kMicrosecond)
              ->MinTime(kMinSeconds / reps_for(rpe));  // MinTime counts manual (per-run) time
        }
}

}  // namespace
}  // namespace occult::kernels

int main(int argc, char** argv) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    std::fprintf(stderr, "occult_bench_gpu: no CUDA device, nothing to measure\n");
    return 0;
  }
  occult::kernels::register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
