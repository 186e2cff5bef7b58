#include <map>

#include "kernels/side_streams.cuh"

namespace occult::kernels::detail {
namespace {

class SidePool {
 public:
  SidePool() = default;
  SidePool(const SidePool&) = delete;
  SidePool& operator=(const SidePool&) = delete;
  ~SidePool() {
    for (auto& [device, s] : pool_) {  // no throw at thread exit
      for (int i = 0; i < kSideStreams; ++i) {
        cudaStreamDestroy(s.stream[std::size_t(i)]);
        cudaEventDestroy(s.done[std::size_t(i)]);
      }
      cudaEventDestroy(s.fork);
    }
  }
  const SideStreams& get() {
    int device = 0;
    OCCULT_CUDA(cudaGetDevice(&device));
    auto it = pool_.find(device);
    if (it != pool_.end()) return it->second;
    SideStreams s;
    for (int i = 0; i < kSideStreams; ++i) {
      OCCULT_CUDA(cudaStreamCreateWithFlags(&s.stream[std::size_t(i)], cudaStreamNonBlocking));
      OCCULT_CUDA(cudaEventCreateWithFlags(&s.done[std::size_t(i)], cudaEventDisableTiming));
    }
    OCCULT_CUDA(cudaEventCreateWithFlags(&s.fork, cudaEventDisableTiming));
    return pool_.emplace(device, s).first->second;
  }

 private:
  std::map<int, SideStreams> pool_;
};

}  // namespace

const SideStreams& side_streams() {
  thread_local SidePool pool;
  return pool.get();
}

}  // namespace occult::kernels::detail
