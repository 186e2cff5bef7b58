// The tensor-core expert FFN backward: gather each expert's received rows and output gradients into
// contiguous bf16 tiles, then eight bf16 cuBLAS GEMMs per expert with fp32 accumulation (bf16
// activations, fp32 weight gradients), one SwiGLU-backward pass between them and a per-row sum of
// the input gradients at the end (the pre-reduction, no atomics).
//
// One expert's GEMMs are small (about 1K pairs at the OLMoE training shape: half a wave of output
// tiles), so the per-expert GEMMs are spread over kSideStreams streams, each with its own cuBLAS
// workspace; the grouped variant covers the activation-sized GEMMs (bf16 output) with one
// cublasGemmGroupedBatchedEx each (cuBLAS 13 refuses fp32 output there, status 15, so the weight
// gradients stay per expert).
//
// Per expert, with X the gathered rows and O the gathered output gradients (pairs x h):
//   G = X Wg^T, U = X Wu^T, D = O Wd                  recompute + the down GEMM's input gradient
//   A = silu(G) U;  d_weight = <D, A>;  dA = w D      (pointwise, per pair; w = gate weight)
//   dG = dA U silu'(G), dU = dA silu(G)
//   dWd = O^T (w A), dWg = dG^T X, dWu = dU^T X, dX = dG Wg + dU Wu
// D is taken without the gate weight so that d_weight needs no y = A Wd^T (one GEMM fewer than the
// chain rule written out); the weight goes into the bf16 operand w A of dWd instead.
#include <cublas_v2.h>

#include <array>
#include <vector>

#include "kernels/expert_ffn_backward_paths.cuh"
#include "kernels/expert_ffn_backward_rows.cuh"
#include "kernels/expert_ffn_common.cuh"
#include "kernels/expert_index.cuh"
#include "kernels/side_streams.cuh"

namespace occult::kernels::detail {
namespace {

constexpr int kIndexTileM = 128;  // only sizes the tile offsets, which this path does not use
constexpr int kGemms = 8;
// TensorCoreAuto takes the grouped GEMMs below this mean of pairs per active expert: measured on
// H200 (results/gpu/backward-2026-11-28), grouped leads at 64 and 256 pairs per expert, per-expert
// GEMMs on side streams from 1024.
constexpr std::int64_t kGroupedBelowPairsPerExpert = 512;
constexpr std::size_t kCublasWorkspace = std::size_t(32) << 20;  // per side stream (cuBLAS's Hopper advice)

void check_cublas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw CudaError(std::string("cuBLAS ") + what + " (expert FFN backward): status " +
                    std::to_string(int(s)));
}

struct TcBuffers {
  ExpertIndex ix;
  Bf16 *x = nullptr, *dout = nullptr;                   // [pairs x h] gathered rows / output gradients
  Bf16 *g = nullptr, *u = nullptr, *d = nullptr;        // [pairs x f] gate, up, O Wd
  Bf16 *act_w = nullptr, *dg = nullptr, *du = nullptr;  // [pairs x f] w A, dG, dU
  Bf16* dx = nullptr;                                   // [pairs x h]
  std::int32_t* pair_of = nullptr;                      // [rows x slots] pair of each (row, slot), -1 none
  const void** tables = nullptr;                        // [kGemms x 3 x L] grouped-GEMM pointer arrays
  char* cublas_ws = nullptr;                            // [kSideStreams x kCublasWorkspace]
};

TcBuffers carve_tc(void* base, const RecvView& recv, const ExpertWeights& w, std::size_t* used) {
  Carver c(base);
  TcBuffers b;
  b.ix = carve_expert_index(c, recv, w.local_experts);
  const std::size_t cap = std::size_t(std::max<std::int64_t>(b.ix.capacity, 1));
  const std::size_t F = std::size_t(w.ffn), H = std::size_t(w.hidden);
  b.x = c.take<Bf16>(cap * H);
  b.dout = c.take<Bf16>(cap * H);
  b.g = c.take<Bf16>(cap * F);
  b.u = c.take<Bf16>(cap * F);
  b.d = c.take<Bf16>(cap * F);
  b.act_w = c.take<Bf16>(cap * F);
  b.dg = c.take<Bf16>(cap * F);
  b.du = c.take<Bf16>(cap * F);
  b.dx = c.take<Bf16>(cap * H);
  b.pair_of = c.take<std::int32_t>(cap);
  b.tables = c.take<const void*>(std::size_t(kGemms) * 3 * std::size_t(w.local_experts));
  b.cublas_ws = c.take<char>(kSideStreams * kCublasWorkspace);
  if (used) *used = c.used();
  return b;
}

// One block per pair: its received row and output-gradient row, 16 bytes per access.
__global__ void gather_pairs(const uint4* rows, const uint4* d_out, const std::int32_t* pair_row, int chunks,
                             uint4* x, uint4* dout) {
  const std::int64_t p = blockIdx.x;
  const std::int64_t r = pair_row[p];
  for (int c = threadIdx.x; c < chunks; c += blockDim.x) {
    x[p * chunks + c] = rows[r * chunks + c];
    dout[p * chunks + c] = d_out[r * chunks + c];
  }
}

__device__ __forceinline__ void store4(__nv_bfloat16* p, float a, float b, float c, float d) {
  __nv_bfloat162 v[2] = {__floats2bfloat162_rn(a, b), __floats2bfloat162_rn(c, d)};
  *reinterpret_cast<uint2*>(p) = *reinterpret_cast<const uint2*>(v);
}

__device__ __forceinline__ void load4(const __nv_bfloat16* p, float (&v)[4]) {
  const uint2 raw = *reinterpret_cast<const uint2*>(p);
  const auto* h = reinterpret_cast<const __nv_bfloat162*>(&raw);
  const float2 a = __bfloat1622float2(h[0]), b = __bfloat1622float2(h[1]);
  v[0] = a.x, v[1] = a.y, v[2] = b.x, v[3] = b.y;
}

// One block per pair, 4 features per thread and step (ffn is a multiple of 64).
__global__ void __launch_bounds__(256)
    swiglu_backward(const __nv_bfloat16* g, const __nv_bfloat16* u, const __nv_bfloat16* d,
                    const float* pair_weight, const std::int32_t* pair_src, int ffn, __nv_bfloat16* act_w,
                    __nv_bfloat16* dg, __nv_bfloat16* du, float* d_weight) {
  const std::int64_t p = blockIdx.x;
  const float w = pair_weight[p];
  const std::int64_t base = p * ffn;
  float dot = 0;
  for (int i = 4 * int(threadIdx.x); i < ffn; i += 4 * int(blockDim.x)) {
    float gv[4], uv[4], dv[4], a[4], dgv[4], duv[4];
    load4(g + base + i, gv);
    load4(u + base + i, uv);
    load4(d + base + i, dv);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float s = 1.0f / (1.0f + __expf(-gv[j])), silu_g = gv[j] * s, da = w * dv[j];
      a[j] = silu_g * uv[j];
      dot += dv[j] * a[j];
      dgv[j] = da * uv[j] * s * (1.0f + gv[j] * (1.0f - s));
      duv[j] = da * silu_g;
    }
    store4(act_w + base + i, w * a[0], w * a[1], w * a[2], w * a[3]);
    store4(dg + base + i, dgv[0], dgv[1], dgv[2], dgv[3]);
    store4(du + base + i, duv[0], duv[1], duv[2], duv[3]);
  }
  __shared__ float part[8];
  for (int o = 16; o > 0; o /= 2) dot += __shfl_xor_sync(0xffffffffu, dot, o);
  if (threadIdx.x % 32 == 0) part[threadIdx.x / 32] = dot;
  __syncthreads();
  if (threadIdx.x == 0) {
    float s = 0;
    for (unsigned i = 0; i < blockDim.x / 32; ++i) s += part[i];
    d_weight[pair_src[p]] = s;
  }
}

// Row-major C[m x n] = op(A)[m x k] op(B)[k x n] + beta C for one expert; A and B bf16, C bf16
// (activations) or fp32 (weight gradients).
struct RowMajorGemm {
  bool ta = false, tb = false;
  int m = 0, n = 0, k = 0;
  const void* a = nullptr;
  int lda = 0;
  const void* b = nullptr;
  int ldb = 0;
  void* c = nullptr;
  int ldc = 0;
  float beta = 0;
  cudaDataType_t ctype = CUDA_R_16BF;
};

// cuBLAS is column-major: a row-major matrix is its transpose there, so C^T = op(B)^T op(A)^T.
cublasOperation_t op(bool t) { return t ? CUBLAS_OP_T : CUBLAS_OP_N; }

void run_one(cublasHandle_t h, const RowMajorGemm& q) {
  const float one = 1.0f;
  check_cublas(
      cublasGemmEx(h, op(q.tb), op(q.ta), q.n, q.m, q.k, &one, q.b, CUDA_R_16BF, q.ldb, q.a, CUDA_R_16BF,
                   q.lda, &q.beta, q.c, q.ctype, q.ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
      "cublasGemmEx");
}

// One grouped call for one GEMM over all active experts (one group of size 1 each); `table` holds
// 3 x experts device pointers in cuBLAS's order: our B, our A, C.
void run_grouped(cublasHandle_t h, const std::vector<RowMajorGemm>& qs, const void* const* table) {
  const std::size_t n = qs.size();
  std::vector<cublasOperation_t> ta(n), tb(n);
  std::vector<int> m(n), nn(n), k(n), lda(n), ldb(n), ldc(n), size(n, 1);
  std::vector<float> alpha(n, 1.0f), beta(n);
  for (std::size_t i = 0; i < n; ++i) {
    ta[i] = op(qs[i].tb);  // swapped: cuBLAS computes C^T = op(B)^T op(A)^T
    tb[i] = op(qs[i].ta);
    m[i] = qs[i].n;
    nn[i] = qs[i].m;
    k[i] = qs[i].k;
    lda[i] = qs[i].ldb;
    ldb[i] = qs[i].lda;
    ldc[i] = qs[i].ldc;
    beta[i] = qs[i].beta;
  }
  check_cublas(
      cublasGemmGroupedBatchedEx(h, ta.data(), tb.data(), m.data(), nn.data(), k.data(), alpha.data(), table,
                                 CUDA_R_16BF, lda.data(), table + n, CUDA_R_16BF, ldb.data(), beta.data(),
                                 const_cast<void* const*>(table + 2 * n), qs[0].ctype, ldc.data(), int(n),
                                 size.data(), CUBLAS_COMPUTE_32F),
      "cublasGemmGroupedBatchedEx");
}

// The eight GEMMs of one expert whose pairs are [p0, p0 + n); see the file comment.
std::array<RowMajorGemm, kGemms> expert_gemms(const TcBuffers& b, const ExpertWeights& w,
                                              const ExpertGrads& gr, int e, std::size_t p0, int n) {
  const int H = w.hidden, F = w.ffn;
  const std::size_t Hs = std::size_t(H), Fs = std::size_t(F), fh = Fs * Hs * std::size_t(e);
  const Bf16 *x = b.x + p0 * Hs, *o = b.dout + p0 * Hs;
  const Bf16 *aw = b.act_w + p0 * Fs, *dg = b.dg + p0 * Fs, *du = b.du + p0 * Fs;
  Bf16* dx = b.dx + p0 * Hs;
  constexpr cudaDataType_t bf = CUDA_R_16BF, f32 = CUDA_R_32F;
  return {{
      {false, true, n, F, H, x, H, w.gate + fh, H, b.g + p0 * Fs, F, 0.0f, bf},   // G = X Wg^T
      {false, true, n, F, H, x, H, w.up + fh, H, b.u + p0 * Fs, F, 0.0f, bf},     // U = X Wu^T
      {false, false, n, F, H, o, H, w.down + fh, F, b.d + p0 * Fs, F, 0.0f, bf},  // D = O Wd
      {true, false, H, F, n, o, H, aw, F, gr.d_down + fh, F, 0.0f, f32},          // dWd = O^T (w A)
      {true, false, F, H, n, dg, F, x, H, gr.d_gate + fh, H, 0.0f, f32},          // dWg = dG^T X
      {true, false, F, H, n, du, F, x, H, gr.d_up + fh, H, 0.0f, f32},            // dWu = dU^T X
      {false, false, n, H, F, dg, F, w.gate + fh, H, dx, H, 0.0f, bf},            // dX = dG Wg
      {false, false, n, H, F, du, F, w.up + fh, H, dx, H, 1.0f, bf},              //    + dU Wu
  }};
}

// Runs GEMMs [first, last) of every active expert: grouped calls on `stream` where allowed, the
// rest per expert, expert j on side stream j % kSideStreams, joined back into `stream`.
void run_gemms(cublasHandle_t h, const std::array<std::vector<RowMajorGemm>, kGemms>& per_gemm, int first,
               int last, bool grouped, const void* const* tables, char* cublas_ws, cudaStream_t stream) {
  const std::size_t active = per_gemm[0].size();
  bool fanned = false;
  const SideStreams& side = side_streams();
  for (int i = first; i < last; ++i) {
    const auto& qs = per_gemm[std::size_t(i)];
    if (grouped && qs[0].ctype == CUDA_R_16BF) {
      check_cublas(cublasSetStream(h, stream), "cublasSetStream");
      run_grouped(h, qs, tables + std::size_t(i) * 3 * active);
      continue;
    }
    if (!fanned) {  // side streams start after everything queued on `stream` so far
      OCCULT_CUDA(cudaEventRecord(side.fork, stream));
      for (cudaStream_t s : side.stream) OCCULT_CUDA(cudaStreamWaitEvent(s, side.fork, 0));
      fanned = true;
    }
    for (std::size_t j = 0; j < active; ++j) {
      const std::size_t lane = j % kSideStreams;
      check_cublas(cublasSetStream(h, side.stream[lane]), "cublasSetStream");
      check_cublas(cublasSetWorkspace(h, cublas_ws + lane * kCublasWorkspace, kCublasWorkspace),
                   "cublasSetWorkspace");
      run_one(h, qs[j]);
    }
  }
  if (fanned) {
    for (int i = 0; i < kSideStreams; ++i) {
      OCCULT_CUDA(cudaEventRecord(side.done[std::size_t(i)], side.stream[std::size_t(i)]));
      OCCULT_CUDA(cudaStreamWaitEvent(stream, side.done[std::size_t(i)], 0));
    }
  }
  check_cublas(cublasSetStream(h, stream), "cublasSetStream");  // back to the caller's stream
}

}  // namespace

std::size_t tensor_core_backward_workspace_bytes(const RecvView& recv, const ExpertWeights& w) {
  std::size_t used = 0;
  carve_tc(nullptr, recv, w, &used);
  return used;
}

void tensor_core_backward(cublasHandle_t handle, BackwardPath path, const RecvView& recv,
                          const ExpertWeights& w, const Bf16* d_out, const ExpertGrads& grads,
                          void* workspace, cudaStream_t stream) {
  if (!handle) throw CudaError("expert FFN backward: the tensor-core path needs a cuBLAS handle");
  const TcBuffers b = carve_tc(workspace, recv, w, nullptr);
  const int L = w.local_experts;
  const std::size_t fh = std::size_t(w.ffn) * std::size_t(w.hidden);
  const std::int64_t slots_total = recv.num_rows * recv.slots;
  OCCULT_CUDA(cudaMemsetAsync(grads.d_weight, 0, sizeof(float) * std::size_t(slots_total), stream));
  build_expert_index(recv, b.ix, kIndexTileM, stream);
  std::vector<std::int32_t> offsets(std::size_t(L) + 1);
  OCCULT_CUDA(cudaMemcpyAsync(offsets.data(), b.ix.offsets, sizeof(std::int32_t) * offsets.size(),
                              cudaMemcpyDeviceToHost, stream));
  OCCULT_CUDA(cudaStreamSynchronize(stream));  // cuBLAS takes host-side sizes
  const std::int64_t pairs = offsets.back();

  // Weight gradients of idle experts are zero; the GEMMs overwrite the others.
  std::array<std::vector<RowMajorGemm>, kGemms> per_gemm;
  for (int e = 0; e < L; ++e) {
    const int n = offsets[std::size_t(e) + 1] - offsets[std::size_t(e)];
    if (n == 0) {
      for (float* g : {grads.d_gate, grads.d_up, grads.d_down})
        OCCULT_CUDA(cudaMemsetAsync(g + std::size_t(e) * fh, 0, sizeof(float) * fh, stream));
      continue;
    }
    const auto qs = expert_gemms(b, w, grads, e, std::size_t(offsets[std::size_t(e)]), n);
    for (int i = 0; i < kGemms; ++i) per_gemm[std::size_t(i)].push_back(qs[std::size_t(i)]);
  }
  if (pairs > 0) {
    const int chunks = w.hidden / 8;
    gather_pairs<<<unsigned(pairs), 128, 0, stream>>>(
        reinterpret_cast<const uint4*>(recv.rows), reinterpret_cast<const uint4*>(d_out), b.ix.pair_row,
        chunks, reinterpret_cast<uint4*>(b.x), reinterpret_cast<uint4*>(b.dout));
    OCCULT_LAUNCHED("gather_pairs");
    const std::size_t active = per_gemm[0].size();
    const bool grouped =
        path == BackwardPath::TensorCoreGrouped ||
        (path == BackwardPath::TensorCoreAuto && pairs < kGroupedBelowPairsPerExpert * std::int64_t(active));
    if (grouped) {
      // Pointer arrays live in device memory; one copy for all eight GEMMs. A pageable source is
      // staged by the driver before cudaMemcpyAsync returns, so the host vector may go.
      std::vector<const void*> table(std::size_t(kGemms) * 3 * active);
      for (int i = 0; i < kGemms; ++i)
        for (std::size_t j = 0; j < active; ++j) {
          const RowMajorGemm& q = per_gemm[std::size_t(i)][j];
          const std::size_t at = std::size_t(i) * 3 * active;
          table[at + j] = q.b;  // cuBLAS's A is our B (column-major swap), see run_grouped
          table[at + active + j] = q.a;
          table[at + 2 * active + j] = q.c;
        }
      OCCULT_CUDA(cudaMemcpyAsync(b.tables, table.data(), sizeof(const void*) * table.size(),
                                  cudaMemcpyHostToDevice, stream));
    }
    run_gemms(handle, per_gemm, 0, 3, grouped, b.tables, b.cublas_ws, stream);
    swiglu_backward<<<unsigned(pairs), 256, 0, stream>>>(as_bf(b.g), as_bf(b.u), as_bf(b.d), b.ix.pair_weight,
                                                         b.ix.pair_src, w.ffn, as_bf(b.act_w), as_bf(b.dg),
                                                         as_bf(b.du), grads.d_weight);
    OCCULT_LAUNCHED("swiglu_backward");
    run_gemms(handle, per_gemm, 3, kGemms, grouped, b.tables, b.cublas_ws, stream);
  }
  sum_pair_rows(recv, b.ix, b.dx, w.hidden, b.pair_of, grads.d_rows, stream);
}

}  // namespace occult::kernels::detail
