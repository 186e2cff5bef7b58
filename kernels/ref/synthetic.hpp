#pragma once
// Deterministic synthetic inputs for kernel tests and benchmarks: skewed routing with idle experts,
// random bf16-exact activations and weights (never zeros).
#include <cstdint>
#include <vector>

#include "kernels/ref/moe_ref.hpp"

namespace occult::ref {

// Each token picks top_k distinct experts; popularity follows a Zipf-like law over a random
// permutation, and `idle_experts` experts (the least popular) are never chosen, so loads are uneven
// and some experts get zero tokens. Gate weights are positive and sum to 1 per token.
Routing synthetic_routing(std::int64_t tokens, int experts, int top_k, int idle_experts, std::uint64_t seed);

// n values uniform in [-scale, scale], rounded to bf16.
std::vector<float> random_bf16(std::size_t n, float scale, std::uint64_t seed);

// Contiguous placement: expert e on device e / (E / D).
std::vector<std::int32_t> contiguous_devices(int experts, int devices);

// Experts [first, first + count) of `all` as a local expert set.
Experts slice_experts(const Experts& all, int first, int count);

}  // namespace occult::ref
