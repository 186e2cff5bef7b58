// Sparse expert FFN forward: counting sort of the received pairs by expert, then two grouped
// tensor-core GEMMs: gathered rows x [gate|up] with the SwiGLU epilogue, and act x down with the
// gate-weighted scatter-add into one output row per received row. The GEMMs run on wgmma (Hopper) or
// mma.sync (elsewhere, and for small batches), picked by choose_kernel.
#include "kernels/expert_ffn_common.cuh"
#include "kernels/expert_gemm_launch.cuh"

namespace occult::kernels {
namespace {

struct ForwardBuffers {
  detail::ExpertIndex ix;
  Bf16* act = nullptr;   // [pairs x ffn]
  float* acc = nullptr;  // [rows x hidden], only when rows can hold several experts
};

ForwardBuffers carve_forward(void* base, const RecvView& recv, const ExpertWeights& w, std::size_t* used) {
  detail::Carver c(base);
  ForwardBuffers b;
  b.ix = detail::carve_expert_index(c, recv, w.local_experts);
  b.act = c.take<Bf16>(std::size_t(std::max<std::int64_t>(b.ix.capacity, 1)) * std::size_t(w.ffn));
  if (recv.slots > 1)
    b.acc = c.take<float>(std::size_t(std::max<std::int64_t>(recv.num_rows, 1)) * std::size_t(w.hidden));
  if (used) *used = c.used();
  return b;
}

__global__ void zero_unrouted_rows(const std::int32_t* expert, std::int64_t rows, int experts, uint4* out,
                                   int chunks) {
  const std::int64_t r = blockIdx.x;
  if (r >= rows) return;
  const int e = expert[r];
  if (e >= 0 && e < experts) return;
  for (int c = threadIdx.x; c < chunks; c += blockDim.x) out[r * chunks + c] = make_uint4(0, 0, 0, 0);
}

// Average received pairs per local expert from which the 256-wide tiles pay off (the counts stay on
// the device, so the rule reads the capacity). On Hopper the wgmma kernels were faster than mma.sync
// at every measured shape (64 to 4096 pairs per expert); mma.sync remains for other GPUs.
// Measured on one H200: results/gpu/kernels-2026-11-28-full (every shape, both widths forced).
constexpr std::int64_t kWideMinPairsPerExpert = 256;
constexpr std::int64_t kMmaWideMinPairsPerExpert = 1024;

GemmKernel choose_kernel(std::int64_t capacity, int local_experts) {
  const std::int64_t per_expert = capacity / std::max(local_experts, 1);
  if (wgmma_available())
    return per_expert >= kWideMinPairsPerExpert ? GemmKernel::Wgmma256 : GemmKernel::Wgmma128;
  return per_expert >= kMmaWideMinPairsPerExpert ? GemmKernel::Mma256 : GemmKernel::Mma128;
}

template <detail::Epilogue kEpi>
void launch_gemm(GemmKernel k, const detail::GemmArgs& g, cudaStream_t stream) {
  detail::launch_expert_gemm<detail::GatherTiles<kEpi>::template Of>(k, g, stream);
}

}  // namespace

const char* to_string(GemmKernel k) {
  switch (k) {
    case GemmKernel::Auto:
      return "auto";
    case GemmKernel::Mma128:
      return "mma128";
    case GemmKernel::Mma256:
      return "mma256";
    case GemmKernel::Wgmma128:
      return "wgmma128";
    case GemmKernel::Wgmma256:
      return "wgmma256";
  }
  return "?";
}

bool wgmma_available() {
  int device = 0, major = 0, minor = 0;
  OCCULT_CUDA(cudaGetDevice(&device));
  OCCULT_CUDA(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  OCCULT_CUDA(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
  return major == 9 && minor == 0;
}

GemmKernel choose_gemm_kernel(const RecvView& recv, const ExpertWeights& w) {
  return choose_kernel(recv.num_rows * recv.slots, w.local_experts);
}

std::size_t expert_ffn_workspace_bytes(const RecvView& recv, const ExpertWeights& w) {
  std::size_t used = 0;
  carve_forward(nullptr, recv, w, &used);
  return used;
}

void expert_ffn_forward(const RecvView& recv, const ExpertWeights& w, Bf16* out, void* workspace,
                        cudaStream_t stream) {
  expert_ffn_forward(recv, w, out, workspace, stream, GemmKernel::Auto);
}

void expert_ffn_forward(const RecvView& recv, const ExpertWeights& w, Bf16* out, void* workspace,
                        cudaStream_t stream, GemmKernel kernel) {
  detail::validate_expert_args(recv, w);
  if (recv.num_rows == 0) return;
  const ForwardBuffers b = carve_forward(workspace, recv, w, nullptr);
  if (kernel == GemmKernel::Auto) kernel = choose_kernel(b.ix.capacity, b.ix.local_experts);
  if ((kernel == GemmKernel::Wgmma128 || kernel == GemmKernel::Wgmma256) && !wgmma_available())
    throw CudaError(std::string("expert FFN: ") + to_string(kernel) + " needs a compute capability 9.0 GPU");
  detail::build_expert_index(recv, b.ix, detail::kTileM, stream);

  detail::GemmArgs up;
  up.ix = b.ix;
  up.a = detail::as_bf(recv.rows);
  up.K = w.hidden;
  up.b_gate = detail::as_bf(w.gate);
  up.b_up = detail::as_bf(w.up);
  up.N = w.ffn;
  up.act = detail::as_bf(b.act);
  launch_gemm<detail::Epilogue::SwiGLU>(kernel, up, stream);

  detail::GemmArgs down;
  down.ix = b.ix;
  down.a = detail::as_bf(b.act);
  down.K = w.ffn;
  down.b_gate = detail::as_bf(w.down);
  down.N = w.hidden;
  if (recv.slots == 1) {  // one expert per row: store directly, zero the rows no expert reads
    zero_unrouted_rows<<<unsigned(recv.num_rows), 128, 0, stream>>>(
        recv.expert, recv.num_rows, w.local_experts, reinterpret_cast<uint4*>(out), w.hidden / 8);
    OCCULT_LAUNCHED("zero_unrouted_rows");
    down.out = detail::as_bf(out);
    launch_gemm<detail::Epilogue::ScatterStore>(kernel, down, stream);
  } else {
    const std::int64_t n = recv.num_rows * w.hidden;
    OCCULT_CUDA(cudaMemsetAsync(b.acc, 0, sizeof(float) * std::size_t(n), stream));
    down.acc = b.acc;
    launch_gemm<detail::Epilogue::ScatterAtomic>(kernel, down, stream);
    detail::fp32_to_bf16(b.acc, n, out, stream);
  }
}

}  // namespace occult::kernels
