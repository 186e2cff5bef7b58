#pragma once
// Side streams and events that backward paths fan work out to (per-expert cuBLAS GEMMs; the fused
// path's transposes, which overlap its first GEMMs), kept per thread and device: creating them per
// call would cost more than the work they overlap. Fork with `fork` recorded on the caller's stream,
// join by making the caller's stream wait on `done` events; the pattern also captures into a CUDA
// graph.
#include <array>

#include "kernels/cuda_check.cuh"

namespace occult::kernels::detail {

inline constexpr int kSideStreams = 4;

struct SideStreams {
  std::array<cudaStream_t, kSideStreams> stream{};
  std::array<cudaEvent_t, kSideStreams> done{};
  cudaEvent_t fork = nullptr;
};

// The calling thread's side streams on the current device (created on first use, destroyed at
// thread exit).
const SideStreams& side_streams();

}  // namespace occult::kernels::detail
