// The library path for comparison: permuted copy of the rows, cuBLAS GEMMs per expert, SwiGLU,
// weighted scatter. Uses the same counting sort as ours so only the expert math differs.
#include <cublas_v2.h>

#include <vector>

#include "kernels/expert_ffn_common.cuh"
#include "kernels/expert_ffn_cublas.hpp"
#include "kernels/expert_index.cuh"

namespace occult::kernels {
namespace {

constexpr int kLibraryTileM = 128;  // only sizes the tile offsets, which this path does not use

void check_cublas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw CudaError(std::string("cuBLAS ") + what + ": status " + std::to_string(int(s)));
}

struct LibraryBuffers {
  detail::ExpertIndex ix;
  Bf16* xp = nullptr;    // [pairs x hidden] permuted copy
  Bf16* gate = nullptr;  // [pairs x ffn]
  Bf16* up = nullptr;    // [pairs x ffn], then act in place
  Bf16* y = nullptr;     // [pairs x hidden]
  float* acc = nullptr;  // [rows x hidden]
};

LibraryBuffers carve_library(void* base, const RecvView& recv, const ExpertWeights& w, std::size_t* used) {
  detail::Carver c(base);
  LibraryBuffers b;
  b.ix = detail::carve_expert_index(c, recv, w.local_experts);
  const std::size_t cap = std::size_t(std::max<std::int64_t>(b.ix.capacity, 1));
  b.xp = c.take<Bf16>(cap * std::size_t(w.hidden));
  b.gate = c.take<Bf16>(cap * std::size_t(w.ffn));
  b.up = c.take<Bf16>(cap * std::size_t(w.ffn));
  b.y = c.take<Bf16>(cap * std::size_t(w.hidden));
  b.acc = c.take<float>(std::size_t(std::max<std::int64_t>(recv.num_rows, 1)) * std::size_t(w.hidden));
  if (used) *used = c.used();
  return b;
}

__global__ void gather_rows(const uint4* rows, const std::int32_t* pair_row, const std::int32_t* pairs,
                            int chunks, uint4* xp) {
  const std::int64_t p = blockIdx.x;
  if (p >= *pairs) return;
  const uint4* src = rows + std::int64_t(pair_row[p]) * chunks;
  for (int c = threadIdx.x; c < chunks; c += blockDim.x) xp[p * chunks + c] = src[c];
}

__global__ void swiglu(const __nv_bfloat16* gate, __nv_bfloat16* up, const std::int32_t* pairs, int ffn) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= std::int64_t(*pairs) * ffn) return;
  up[i] = __float2bfloat16(detail::silu(__bfloat162float(gate[i])) * __bfloat162float(up[i]));
}

__global__ void scatter_add(const __nv_bfloat16* y, const std::int32_t* pair_row, const float* pair_weight,
                            const std::int32_t* pairs, int hidden, float* acc) {
  const std::int64_t p = blockIdx.x;
  if (p >= *pairs) return;
  const float w = pair_weight[p];
  float* dst = acc + std::int64_t(pair_row[p]) * hidden;
  for (int c = threadIdx.x; c < hidden; c += blockDim.x)
    atomicAdd(dst + c, w * __bfloat162float(y[p * hidden + c]));
}

// Row-major C[m x n] = A[m x k] * B^T with B [n x k] row-major (nn.Linear), via column-major cuBLAS.
void linear(cublasHandle_t h, const Bf16* a, const Bf16* b, Bf16* c, int m, int n, int k) {
  const float one = 1.0f, zero = 0.0f;
  check_cublas(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &one, b, CUDA_R_16BF, k, a, CUDA_R_16BF, k,
                            &zero, c, CUDA_R_16BF, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx");
}

}  // namespace

std::size_t expert_ffn_cublas_workspace_bytes(const RecvView& recv, const ExpertWeights& w) {
  std::size_t used = 0;
  carve_library(nullptr, recv, w, &used);
  return used;
}

void expert_ffn_forward_cublas(cublasHandle_t handle, const RecvView& recv, const ExpertWeights& w, Bf16* out,
                               void* workspace, cudaStream_t stream) {
  detail::validate_expert_args(recv, w);
  if (recv.num_rows == 0) return;
  const LibraryBuffers b = carve_library(workspace, recv, w, nullptr);
  detail::build_expert_index(recv, b.ix, kLibraryTileM, stream);
  const std::int32_t* pairs = b.ix.offsets + w.local_experts;
  const unsigned max_pairs = unsigned(b.ix.capacity);
  gather_rows<<<max_pairs, 128, 0, stream>>>(reinterpret_cast<const uint4*>(recv.rows), b.ix.pair_row, pairs,
                                             w.hidden / 8, reinterpret_cast<uint4*>(b.xp));
  OCCULT_LAUNCHED("gather_rows");
  std::vector<std::int32_t> offsets(std::size_t(w.local_experts) + 1);
  OCCULT_CUDA(cudaMemcpyAsync(offsets.data(), b.ix.offsets, sizeof(std::int32_t) * offsets.size(),
                              cudaMemcpyDeviceToHost, stream));
  OCCULT_CUDA(cudaStreamSynchronize(stream));  // cuBLAS needs the sizes on the host
  check_cublas(cublasSetStream(handle, stream), "cublasSetStream");
  const std::size_t fh = std::size_t(w.ffn) * std::size_t(w.hidden), H = std::size_t(w.hidden),
                    F = std::size_t(w.ffn);
  for (int e = 0; e < w.local_experts; ++e) {
    const std::size_t p0 = std::size_t(offsets[std::size_t(e)]);
    const int n = offsets[std::size_t(e) + 1] - offsets[std::size_t(e)];
    if (n == 0) continue;
    linear(handle, b.xp + p0 * H, w.gate + std::size_t(e) * fh, b.gate + p0 * F, n, w.ffn, w.hidden);
    linear(handle, b.xp + p0 * H, w.up + std::size_t(e) * fh, b.up + p0 * F, n, w.ffn, w.hidden);
  }
  const std::int64_t act_n = std::int64_t(offsets.back()) * w.ffn;
  if (act_n > 0) {
    swiglu<<<detail::blocks_for(act_n, 256), 256, 0, stream>>>(detail::as_bf(b.gate), detail::as_bf(b.up),
                                                               pairs, w.ffn);
    OCCULT_LAUNCHED("swiglu");
  }
  for (int e = 0; e < w.local_experts; ++e) {
    const std::size_t p0 = std::size_t(offsets[std::size_t(e)]);
    const int n = offsets[std::size_t(e) + 1] - offsets[std::size_t(e)];
    if (n == 0) continue;
    linear(handle, b.up + p0 * F, w.down + std::size_t(e) * fh, b.y + p0 * H, n, w.hidden, w.ffn);
  }
  const std::int64_t n_out = recv.num_rows * w.hidden;
  OCCULT_CUDA(cudaMemsetAsync(b.acc, 0, sizeof(float) * std::size_t(n_out), stream));
  if (offsets.back() > 0) {
    scatter_add<<<unsigned(offsets.back()), 256, 0, stream>>>(detail::as_bf(b.y), b.ix.pair_row,
                                                              b.ix.pair_weight, pairs, w.hidden, b.acc);
    OCCULT_LAUNCHED("scatter_add");
  }
  detail::fp32_to_bf16(b.acc, n_out, out, stream);
}

}  // namespace occult::kernels
