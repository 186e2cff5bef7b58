// A kernel that keeps a stream busy for a while (see event_timer.hpp, hold_stream).
#include "backend/event_timer.hpp"

namespace occult::gpu {
namespace {

__global__ void spin_for(unsigned long long ns) {
  unsigned long long start = 0, now = 0;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
  do {
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
  } while (now - start < ns);
}

}  // namespace

void hold_stream(cudaStream_t s, double seconds) {
  if (seconds <= 0) return;
  spin_for<<<1, 1, 0, s>>>(static_cast<unsigned long long>(seconds * 1e9));
  OCCULT_CUDA(cudaGetLastError());
}

}  // namespace occult::gpu
