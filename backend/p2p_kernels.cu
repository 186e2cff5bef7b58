#include "backend/p2p_kernels.hpp"

#include "backend/gpu_error.hpp"

namespace occult::gpu::p2p {
namespace {

constexpr int kThreads = 512;
constexpr int kVectors = int(kChunkBytes / 16 / kThreads);  // 16-byte vectors in flight per thread

__device__ __forceinline__ unsigned long long now_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__device__ __forceinline__ void store_release_sys(unsigned long long* p, unsigned long long v) {
  asm volatile("st.release.sys.global.u64 [%0], %1;" ::"l"(p), "l"(v) : "memory");
}

__device__ __forceinline__ unsigned long long load_acquire_sys(const unsigned long long* p) {
  unsigned long long v;
  asm volatile("ld.acquire.sys.global.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
  return v;
}

// One chunk of a segment with the widest access its alignment allows; all loads of a thread are
// issued before its stores so several NVLink writes are in flight per thread.
template <class V>
__device__ void copy_chunk(const char* src, char* dst, std::uint64_t bytes) {
  const auto* s = reinterpret_cast<const V*>(src);
  auto* d = reinterpret_cast<V*>(dst);
  const std::uint64_t n = bytes / sizeof(V);
  constexpr int step = kVectors;
  for (std::uint64_t base = 0; base < n; base += std::uint64_t(step) * kThreads) {
    V v[step];
#pragma unroll
    for (int u = 0; u < step; ++u) {
      const std::uint64_t i = base + std::uint64_t(u) * kThreads + threadIdx.x;
      if (i < n) v[u] = s[i];
    }
#pragma unroll
    for (int u = 0; u < step; ++u) {
      const std::uint64_t i = base + std::uint64_t(u) * kThreads + threadIdx.x;
      if (i < n) d[i] = v[u];
    }
  }
}

__global__ void __launch_bounds__(kThreads)
    exchange_kernel(const Segment* segs, int count, std::uint64_t chunks, Signals sig, unsigned long long seq,
                    unsigned long long timeout_ns) {
  for (std::uint64_t c = blockIdx.x; c < chunks; c += gridDim.x) {
    int lo = 0, hi = count - 1;  // the last segment starting at or before chunk c (none is empty)
    while (lo < hi) {
      const int mid = (lo + hi + 1) / 2;
      if (segs[mid].first_chunk <= c)
        lo = mid;
      else
        hi = mid - 1;
    }
    const Segment s = segs[lo];
    const std::uint64_t off = (c - s.first_chunk) * kChunkBytes;
    const std::uint64_t n = s.bytes - off < kChunkBytes ? s.bytes - off : kChunkBytes;
    const char* src = static_cast<const char*>(s.src) + off;
    char* dst = static_cast<char*>(s.dst) + off;
    const auto align = reinterpret_cast<std::uintptr_t>(src) | reinterpret_cast<std::uintptr_t>(dst) | n;
    if (align % 16 == 0)
      copy_chunk<uint4>(src, dst, n);
    else if (align % 4 == 0)
      copy_chunk<unsigned>(src, dst, n);
    else
      copy_chunk<unsigned char>(src, dst, n);
  }
  // The last block to finish publishes: every block's stores are fenced at system scope before it
  // counts itself done, so the receiver that acquires the flag sees all of them.
  __shared__ bool last;
  __syncthreads();
  if (threadIdx.x == 0) {
    __threadfence_system();
    last = atomicAdd(sig.blocks_done, 1u) == gridDim.x - 1;
  }
  __syncthreads();
  if (!last) return;
  if (threadIdx.x == 0) *sig.blocks_done = 0;  // ready for the next launch (stream-ordered)
  __threadfence_system();
  for (int q = int(threadIdx.x); q < sig.peers; q += blockDim.x) store_release_sys(sig.peer_flag[q], seq);
  // Sequence numbers only grow, so the buffers are reused without resetting anything; a sender one
  // exchange ahead has already written a larger number.
  for (int q = int(threadIdx.x); q < sig.peers; q += blockDim.x) {
    const unsigned long long t0 = now_ns();
    for (unsigned spins = 0; load_acquire_sys(sig.my_flags + q) < seq; ++spins) {
      if ((spins & 1023u) != 0) continue;
      if (*reinterpret_cast<const volatile int*>(sig.abort) != 0) return;
      if (now_ns() - t0 > timeout_ns) {
        *reinterpret_cast<volatile int*>(sig.error) = 1 + q;
        __threadfence_system();
        return;
      }
    }
  }
}

}  // namespace

void launch_exchange(const Segment* segments, int count, std::uint64_t chunks, const Signals& sig,
                     unsigned long long seq, unsigned long long timeout_ns, int blocks, cudaStream_t stream) {
  if (segments == nullptr || count == 0) chunks = 0;
  std::uint64_t grid = blocks > 0 && std::uint64_t(blocks) < chunks ? std::uint64_t(blocks) : chunks;
  if (grid == 0) grid = 1;
  exchange_kernel<<<unsigned(grid), kThreads, 0, stream>>>(segments, count, chunks, sig, seq, timeout_ns);
  OCCULT_CHECK_LAUNCH();
}

}  // namespace occult::gpu::p2p
