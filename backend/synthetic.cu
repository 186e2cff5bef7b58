#include "backend/gpu_error.hpp"
#include "backend/synthetic.hpp"

namespace occult::gpu {
namespace {

__global__ void fill_kernel(std::uint16_t* out, std::size_t n, std::uint64_t seed, std::uint64_t stream,
                            std::uint64_t first, float scale) {
  for (std::size_t j = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; j < n;
       j += std::size_t(gridDim.x) * blockDim.x) {
    out[j] = float_to_bf16(synth_value(seed, stream, first + j, scale));
  }
}

unsigned grid_for(std::size_t n) {
  std::size_t blocks = (n + 255) / 256;
  return unsigned(blocks < 8192 ? (blocks ? blocks : 1) : 8192);
}

}  // namespace

void fill_synthetic_bf16(std::uint16_t* out, std::size_t n, std::uint64_t seed, std::uint64_t stream,
                         std::uint64_t first, float scale, cudaStream_t s) {
  if (n == 0) return;
  fill_kernel<<<grid_for(n), 256, 0, s>>>(out, n, seed, stream, first, scale);
  OCCULT_CHECK_LAUNCH();
}

void poison_bf16(std::uint16_t* out, std::size_t n, cudaStream_t s) {
  if (n == 0) return;
  OCCULT_CUDA(cudaMemsetAsync(out, 0xFF, n * sizeof(std::uint16_t), s));  // 0xFFFF is a bf16 NaN
}

}  // namespace occult::gpu
