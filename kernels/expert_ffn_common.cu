#include "kernels/expert_ffn_common.cuh"
#include "sim/core/error.hpp"

namespace occult::kernels::detail {
namespace {

__global__ void fp32_to_bf16_kernel(const float4* in, std::int64_t n8, uint4* out) {
  const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n8) return;
  const float4 a = in[2 * i], b = in[2 * i + 1];
  uint4 o;
  auto* h = reinterpret_cast<__nv_bfloat162*>(&o);
  h[0] = __floats2bfloat162_rn(a.x, a.y);
  h[1] = __floats2bfloat162_rn(a.z, a.w);
  h[2] = __floats2bfloat162_rn(b.x, b.y);
  h[3] = __floats2bfloat162_rn(b.z, b.w);
  out[i] = o;
}

}  // namespace

void validate_expert_args(const RecvView& recv, const ExpertWeights& w) {
  if (w.hidden < 64 || w.hidden % 64 != 0)
    throw InputError("", 0, "hidden", "must be a positive multiple of 64");
  if (w.ffn < 64 || w.ffn % 64 != 0) throw InputError("", 0, "ffn", "must be a positive multiple of 64");
  if (w.local_experts < 1) throw InputError("", 0, "local_experts", "must be >= 1");
  if (recv.slots < 1 || recv.slots > kMaxTopK)
    throw InputError("", 0, "slots", "must be in [1, " + std::to_string(kMaxTopK) + "]");
  if (recv.num_rows < 0) throw InputError("", 0, "rows", "must be >= 0");
  if (recv.num_rows * recv.slots >= (std::int64_t(1) << 31))
    throw InputError("", 0, "rows", "rows * slots must fit in int32");
}

void fp32_to_bf16(const float* in, std::int64_t n, Bf16* out, cudaStream_t stream) {
  const std::int64_t n8 = n / 8;
  if (n8 == 0) return;
  fp32_to_bf16_kernel<<<blocks_for(n8, 256), 256, 0, stream>>>(reinterpret_cast<const float4*>(in), n8,
                                                               reinterpret_cast<uint4*>(out));
  OCCULT_LAUNCHED("fp32_to_bf16_kernel");
}

}  // namespace occult::kernels::detail
