#pragma once
// Deterministic synthetic tensors, identical on the host and the GPU: element i of stream s is a pure
// function of (seed, s, i). The GPU fills whole weight matrices without a host copy, and the CPU
// reference recomputes any element it needs without storing the matrices.
#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

#ifdef __CUDACC__
#define OCCULT_HD __host__ __device__
#else
#define OCCULT_HD
#endif
#include <cstring>

namespace occult::gpu {

// Streams of synthetic values; expert matrices are kExpertStream + 3 * expert + {0 gate, 1 up, 2 down}.
inline constexpr std::uint64_t kInputStream = 1;
inline constexpr std::uint64_t kGradStream = 2;
inline constexpr std::uint64_t kExpertStream = 16;

OCCULT_HD inline std::uint64_t mix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in [-scale, scale): random data, never zeros, so unwritten outputs and wrong indices show.
OCCULT_HD inline float synth_value(std::uint64_t seed, std::uint64_t stream, std::uint64_t i, float scale) {
  std::uint64_t h = mix64(mix64(seed ^ (stream * 0xD1B54A32D192ED03ull)) + i);
  float u = float(h >> 40) * (1.0f / 16777216.0f);  // 24 random bits in [0, 1)
  return (2.0f * u - 1.0f) * scale;
}

OCCULT_HD inline std::uint16_t float_to_bf16(float f) {
  std::uint32_t u;
#ifdef __CUDA_ARCH__
  u = __float_as_uint(f);
#else
  std::memcpy(&u, &f, sizeof u);
#endif
  u += 0x7FFFu + ((u >> 16) & 1u);  // round to nearest even; inputs here are finite
  return std::uint16_t(u >> 16);
}

OCCULT_HD inline float bf16_to_float(std::uint16_t b) {
  std::uint32_t u = std::uint32_t(b) << 16;
#ifdef __CUDA_ARCH__
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

// The synthetic value as the GPU stores it (bf16), widened back to fp32 for the reference.
OCCULT_HD inline float synth_bf16(std::uint64_t seed, std::uint64_t stream, std::uint64_t i, float scale) {
  return bf16_to_float(float_to_bf16(synth_value(seed, stream, i, scale)));
}

// out[j] = synth(seed, stream, first + j) as bf16 bits, for j < n.
void fill_synthetic_bf16(std::uint16_t* out, std::size_t n, std::uint64_t seed, std::uint64_t stream,
                         std::uint64_t first, float scale, cudaStream_t s);
// Every 16-bit element set to a NaN pattern, so a row a kernel forgot to write fails the check.
void poison_bf16(std::uint16_t* out, std::size_t n, cudaStream_t s);

}  // namespace occult::gpu
