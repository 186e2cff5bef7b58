#include "backend/calibrate.hpp"

#include <cublas_v2.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <numeric>
#include <random>

#include "backend/bootstrap.hpp"
#include "backend/communicator.hpp"
#include "backend/device_buffer.hpp"
#include "backend/event_timer.hpp"
#include "backend/gpu_error.hpp"
#include "backend/gpu_job.hpp"
#include "backend/provenance.hpp"
#include "backend/synthetic.hpp"
#include "kernels/moe_kernels.hpp"
#include "sim/core/error.hpp"
#include "sim/core/model.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/trace_gen.hpp"

namespace occult::gpu {
namespace {

using kernels::Bf16;

void check_cublas(cublasStatus_t st, const char* what) {
  if (st != CUBLAS_STATUS_SUCCESS)
    throw GpuError(std::string(what) + " failed: cuBLAS status " + std::to_string(int(st)));
}

// Dense bf16 GEMM ceiling measured in the same run (the roofline the GEMM samples are read against).
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

std::vector<double> link_sizes(const std::string& cls, bool quick) {
  const double top = quick ? 16.0 * (1 << 20) : (cls == "network" ? 128.0 * (1 << 20) : 1024.0 * (1 << 20));
  std::vector<double> v;
  for (double s = 4096; s <= top; s *= 4) v.push_back(s);
  return v;
}

std::string self_exe() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw GpuError("cannot find this executable (/proc/self/exe) to start the per-path children");
  return std::string(buf, std::size_t(n));
}

std::string run_child(const std::string& cmd) {
  std::FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw GpuError("cannot start: " + cmd);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int rc = pclose(p);
  if (rc != 0) throw GpuError("calibration child failed (exit status " + std::to_string(rc) + "): " + cmd);
  return out;
}

}  // namespace

LinkCalibration measure_link(const CalibrateOptions& opt) {
  LinkCalibration link;
  link.link_class = link_class_from_env();
  link.how = link_description(link.link_class);
  const auto sizes = link_sizes(link.link_class, opt.quick);
  std::vector<double> seconds(sizes.size());
  auto body = [&](Bootstrap& boot) {
    Communicator comm(boot, device_for_rank(boot), opt.timeout_s);
    const int D = boot.size();
    const std::size_t top = std::size_t(sizes.back());
    DeviceBuffer<unsigned char> send(top * std::size_t(D), "calibration send"),
        recv(top * std::size_t(D), "calibration recv");
    fill_synthetic_bf16(reinterpret_cast<std::uint16_t*>(send.get()), send.size() / 2, 5, kInputStream, 0,
                        1.0f, comm.stream());
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const auto x = Exchange::from_rows(std::vector<std::int64_t>(std::size_t(D), 1), std::size_t(sizes[i]));
      boot.barrier();
      // Large messages need few repeats to be stable; small ones many.
      const int iters = sizes[i] >= (64 << 20) ? std::max(3, opt.iters / 2) : opt.iters * 2;
      const double t = time_median(comm.stream(), 3, iters, [&](cudaStream_t) {
        comm.alltoallv({{send.get(), &x, recv.get(), &x}});
      });
      std::vector<double> all(static_cast<std::size_t>(D));
      boot.allgather(&t, all.data(), sizeof(double));
      if (boot.rank() == 0) seconds[i] = *std::max_element(all.begin(), all.end());
      if (boot.rank() == 0)
        std::cerr << "calibrate " << link.link_class << ": " << sizes[i] << " B per peer: " << t * 1e6
                  << " us\n";
    }
  };
  if (launched_by_mpi()) {
    auto boot = make_mpi_bootstrap();
    body(*boot);
  } else {
    const int n = opt.gpus > 0 ? opt.gpus : visible_gpus();
    if (n < 2)
      throw InputError("", 0, "gpus",
                       "link calibration needs at least 2 GPUs (" + std::to_string(n) + " visible)");
    run_on_threads(n, body);
  }
  for (std::size_t i = 0; i < sizes.size(); ++i) link.samples.push_back({sizes[i], seconds[i]});
  link.latency_s = *std::min_element(seconds.begin(), seconds.end());
  const auto& big = link.samples.back();
  link.bandwidth_Bps = big.bytes / std::max(big.seconds - link.latency_s, 1e-12);
  return link;
}

GemmCalibration measure_gemm(const CalibrateOptions& opt) {
  OCCULT_CUDA(cudaSetDevice(0));
  cudaStream_t s = nullptr;
  OCCULT_CUDA(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  GemmCalibration g;
  g.kernel = "kernels::expert_ffn_forward (gather, SwiGLU FFN, gate-weighted scatter-add), one slot per row";
  try {
    g.peak_tflops = dense_peak_tflops(s, opt.iters);
    std::vector<std::string> models =
        opt.quick ? std::vector<std::string>{"olmoe-1b-7b"}
                  : std::vector<std::string>{"olmoe-1b-7b", "qwen1.5-moe-a2.7b", "deepseek-v3"};
    std::vector<int> locals = opt.quick ? std::vector<int>{8} : std::vector<int>{8, 32};
    std::vector<std::int64_t> rpes =
        opt.quick ? std::vector<std::int64_t>{64, 256} : std::vector<std::int64_t>{64, 256, 1024, 4096};
    for (const auto& name : models) {
      const ModelConfig m = model_preset(name);
      for (int L : locals) {
        const std::size_t fh = std::size_t(m.ffn) * std::size_t(m.hidden);
        DeviceBuffer<Bf16> gate(fh * std::size_t(L), "gemm weights"), up(fh * std::size_t(L), "gemm weights"),
            down(fh * std::size_t(L), "gemm weights");
        fill_synthetic_bf16(gate.get(), gate.size(), 3, 200, 0, std::sqrt(3.0f / float(m.hidden)), s);
        fill_synthetic_bf16(up.get(), up.size(), 3, 201, 0, std::sqrt(3.0f / float(m.hidden)), s);
        fill_synthetic_bf16(down.get(), down.size(), 3, 202, 0, std::sqrt(3.0f / float(m.ffn)), s);
        const kernels::ExpertWeights w{gate.get(), up.get(), down.get(), L, m.hidden, m.ffn};
        for (auto rpe : rpes) {
          const std::int64_t rows = rpe * L;
          // Rows arrive in source order, experts interleaved: a random assignment, rpe rows each.
          std::vector<std::int32_t> ex(static_cast<std::size_t>(rows));
          for (std::int64_t r = 0; r < rows; ++r) ex[std::size_t(r)] = std::int32_t(r % L);
          std::shuffle(ex.begin(), ex.end(), std::mt19937_64(std::uint64_t(rows)));
          std::vector<float> wt(std::size_t(rows), 0.5f);
          DeviceBuffer<Bf16> x(std::size_t(rows) * std::size_t(m.hidden), "gemm rows"),
              out(std::size_t(rows) * std::size_t(m.hidden), "gemm out");
          DeviceBuffer<std::int32_t> dex(std::size_t(rows), "gemm meta");
          DeviceBuffer<float> dwt(std::size_t(rows), "gemm meta");
          fill_synthetic_bf16(x.get(), x.size(), 3, kInputStream, 0, 1.0f, s);
          OCCULT_CUDA(cudaMemcpyAsync(dex.get(), ex.data(), ex.size() * 4, cudaMemcpyHostToDevice, s));
          OCCULT_CUDA(cudaMemcpyAsync(dwt.get(), wt.data(), wt.size() * 4, cudaMemcpyHostToDevice, s));
          const kernels::RecvView recv{x.get(), dex.get(), dwt.get(), rows, 1};
          DeviceBuffer<unsigned char> ws(
              std::max<std::size_t>(kernels::expert_ffn_workspace_bytes(recv, w), 1), "gemm workspace");
          const double t = time_median(s, 2, opt.iters, [&](cudaStream_t st) {
            kernels::expert_ffn_forward(recv, w, out.get(), ws.get(), st);
          });
          g.samples.push_back({rpe, m.hidden, m.ffn, L, t});
          std::cerr << "calibrate gemm " << name << " L=" << L << " rows/expert=" << rpe << ": " << t * 1e6
                    << " us, " << g.samples.back().tflops() << " TFLOP/s\n";
        }
      }
    }
  } catch (...) {
    cudaStreamDestroy(s);
    throw;
  }
  cudaStreamDestroy(s);
  return g;
}

void measure_overheads(const CalibrateOptions& opt, CalibrationProfile& prof) {
  OCCULT_CUDA(cudaSetDevice(0));
  cudaStream_t s = nullptr;
  OCCULT_CUDA(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  const ModelConfig m = model_preset("olmoe-1b-7b");
  const int D = 2, k = m.top_k, h = m.hidden;
  const auto placement = contiguous_placement(m.experts, {D, D}, 1).layers[0];
  std::vector<std::int32_t> dev(placement.device_of.begin(), placement.device_of.end()), local(dev.size());
  for (std::size_t e = 0; e < dev.size(); ++e) local[e] = std::int32_t(e % std::size_t(m.experts / D));
  std::vector<std::int64_t> tokens = opt.quick ? std::vector<std::int64_t>{256, 4096}
                                               : std::vector<std::int64_t>{256, 1024, 4096, 16384, 65536};
  struct Point {
    double bytes, seconds;
  };
  std::vector<Point> lay, pack, unpack;
  try {
    DeviceBuffer<std::int32_t> ddev(dev.size(), "placement"), dlocal(dev.size(), "placement");
    OCCULT_CUDA(cudaMemcpyAsync(ddev.get(), dev.data(), dev.size() * 4, cudaMemcpyHostToDevice, s));
    OCCULT_CUDA(cudaMemcpyAsync(dlocal.get(), local.data(), local.size() * 4, cudaMemcpyHostToDevice, s));
    for (auto T : tokens) {
      TraceGenParams gp;
      gp.experts = m.experts;
      gp.top_k = k;
      gp.tokens = T;
      gp.seed = 9;
      const LayerRouting r = generate_layer(gp, 0);
      std::vector<float> wt(std::size_t(T * k));
      for (std::int64_t t = 0; t < T; ++t)
        for (int j = 0; j < k; ++j) wt[std::size_t(t * k + j)] = r.weight(t, j);
      const std::size_t pairs = std::size_t(T * k);
      DeviceBuffer<std::int32_t> ex(pairs, "routing"), cnt(std::size_t(D), "layout"),
          off(std::size_t(D) + 1, "layout"), prow(pairs, "layout"), pslot(pairs, "layout"),
          rtok(pairs, "layout"), mex(pairs, "meta");
      DeviceBuffer<float> w(pairs, "routing"), mwt(pairs, "meta");
      DeviceBuffer<unsigned char> ws(std::max<std::size_t>(kernels::layout_workspace_bytes(T, D), 1),
                                     "layout workspace");
      DeviceBuffer<Bf16> x(std::size_t(T) * std::size_t(h), "x"), rows(pairs * std::size_t(h), "rows"),
          y(std::size_t(T) * std::size_t(h), "y");
      OCCULT_CUDA(cudaMemcpyAsync(ex.get(), r.experts.data(), pairs * 4, cudaMemcpyHostToDevice, s));
      OCCULT_CUDA(cudaMemcpyAsync(w.get(), wt.data(), pairs * 4, cudaMemcpyHostToDevice, s));
      fill_synthetic_bf16(x.get(), x.size(), 9, kInputStream, 0, 1.0f, s);
      const kernels::RoutingView rv{ex.get(), w.get(), T, k};
      const kernels::PlacementView pv{ddev.get(), dlocal.get(), m.experts, D};
      const kernels::Layout lv{cnt.get(), off.get(), prow.get(), pslot.get(), rtok.get()};
      const auto mode = kernels::DispatchMode::Standard;
      const double row_b = double(h) * 2;
      // Byte counts as the cost model charges them (sim/core/cost_model.cpp), so the fit transfers.
      lay.push_back({double(pairs) * 12.0, time_median(s, 2, opt.iters, [&](cudaStream_t st) {
                       kernels::compute_layout(mode, rv, pv, lv, ws.get(), st);
                     })});
      pack.push_back(
          {double(pairs) * 2 * row_b, time_median(s, 2, opt.iters, [&](cudaStream_t st) {
             kernels::pack_rows(mode, x.get(), h, rv, pv, lv, {rows.get(), mex.get(), mwt.get()}, st);
           })});
      unpack.push_back(
          {(double(pairs) + double(T)) * row_b, time_median(s, 2, opt.iters, [&](cudaStream_t st) {
             kernels::unpack_reduce(rows.get(), h, T, k, lv, y.get(), st);
           })});
      std::cerr << "calibrate kernels: " << T << " tokens: layout " << lay.back().seconds * 1e6
                << " us, pack " << pack.back().seconds * 1e6 << " us, unpack " << unpack.back().seconds * 1e6
                << " us\n";
    }
  } catch (...) {
    cudaStreamDestroy(s);
    throw;
  }
  cudaStreamDestroy(s);
  // launch = the smallest size's time; bandwidth from the largest size's time above it.
  auto fit = [](const std::vector<Point>& p) {
    KernelOverhead o;
    o.launch_s = p.front().seconds;
    o.bandwidth_Bps = p.back().bytes / std::max(p.back().seconds - o.launch_s, 1e-12);
    return o;
  };
  prof.layout = fit(lay);
  prof.pack = fit(pack);
  prof.unpack = fit(unpack);
}

void merge_links(CalibrationProfile& base, const std::vector<LinkCalibration>& links) {
  for (const auto& l : links) {
    auto it = std::find_if(base.links.begin(), base.links.end(),
                           [&](const LinkCalibration& b) { return b.link_class == l.link_class; });
    if (it != base.links.end()) {
      *it = l;
    } else {
      base.links.push_back(l);
    }
  }
}

nlohmann::json links_to_json(const std::vector<LinkCalibration>& links) {
  CalibrationProfile p;
  p.links = links;
  return {{"links", calibration_to_json(p)["links"]}};
}

CalibrationProfile calibrate(const CalibrateOptions& opt) {
  CalibrationProfile prof;
  prof.provenance = collect_provenance();
  prof.measured = true;
  prof.gemm = measure_gemm(opt);
  measure_overheads(opt, prof);
  const std::string exe = self_exe();
  for (const auto& cls : opt.paths) {
    const std::string env = nccl_env_for(cls);
    const std::string cmd = (env.empty() ? std::string() : "env " + env + " ") + "'" + exe +
                            "' calibrate --link-only --nccl-mode " + opt.nccl_mode +
                            (opt.quick ? " --quick" : "") + " --gpus " + std::to_string(opt.gpus) +
                            " --iters " + std::to_string(opt.iters) + " --timeout " +
                            std::to_string(int(opt.timeout_s));
    std::cerr << "calibrate: measuring " << cls << " in a child process: " << cmd << "\n";
    // The child's links are read through the profile reader, so they are validated like any file.
    nlohmann::json j = calibration_to_json(prof);
    j["links"] = nlohmann::json::parse(run_child(cmd)).at("links");
    merge_links(prof, calibration_from_json(j, cls + " calibration child").links);
  }
  return prof;
}

}  // namespace occult::gpu
