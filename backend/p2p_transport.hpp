#pragma once
// The direct intranode transport beside NCCL: every rank maps its peers' receive buffers (CUDA IPC
// handles exchanged through the bootstrap under mpirun; plain pointers with peer access enabled in
// the threads fallback), and one kernel per exchange writes each block straight into the receiver's
// buffer, publishes a per-exchange sequence number and waits for its senders' (backend/p2p_kernels.hpp).
// No count exchange and no NCCL launch: the block sizes come from the plan, checked between sender
// and receiver once, when the exchange is prepared. Needs every GPU of the run on one node and
// peer-reachable (NVLink or PCIe P2P); NCCL stays the path across nodes.
#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/bootstrap.hpp"
#include "backend/communicator.hpp"
#include "backend/device_buffer.hpp"
#include "backend/p2p_kernels.hpp"

namespace occult::gpu {

class P2pTransport;

// Smallest buffer shared across processes: cudaMalloc packs smaller allocations into shared 2 MiB
// pages, and CUDA IPC maps (and may open only once per process) what a handle names.
inline constexpr std::size_t kP2pMinShared = std::size_t(2) << 20;
// Own blocks up to this size are copied by the exchange kernel itself; larger ones by a copy engine
// on a side stream, concurrent with the NVLink writes.
inline constexpr std::uint64_t kP2pLocalInKernel = std::uint64_t(4) << 20;

// One all-to-all-v over fixed buffers, prepared once (collectively) and run any number of times.
class P2pExchange {
 public:
  ~P2pExchange();
  P2pExchange(const P2pExchange&) = delete;
  P2pExchange& operator=(const P2pExchange&) = delete;
  // Enqueues the copies, the signal and the bounded wait on `stream`; every rank runs its prepared
  // exchanges in the same order (like NCCL collectives).
  void run(cudaStream_t stream);

 private:
  friend class P2pTransport;
  explicit P2pExchange(P2pTransport& t) : t_(t) {}
  P2pTransport& t_;
  std::vector<p2p::Segment> segments_;  // the kernel's work list; host copy (the ce variant enqueues it)
  // This rank's own blocks above kP2pLocalInKernel: copy-engine copies on a side stream, concurrent
  // with the NVLink writes (in the kernel's work list they would hold up the remote chunks).
  std::vector<p2p::Segment> local_;
  DeviceBuffer<p2p::Segment> device_segments_;
  std::uint64_t chunks_ = 0;
  std::vector<void*> mapped_;  // IPC mappings of the peers' buffers, closed on destruction
};

class P2pTransport {
 public:
  // Collective over `boot`: InputError when a peer is on another node or not peer-reachable; maps
  // every rank's flag slots. `timeout_s` bounds every wait on the GPU.
  P2pTransport(Bootstrap& boot, int device, double timeout_s, P2pOptions options);
  ~P2pTransport();
  P2pTransport(const P2pTransport&) = delete;
  P2pTransport& operator=(const P2pTransport&) = delete;

  // Collective: each rank's parts (the same count, in the same order on every rank) become one
  // exchange. GpuError when a sender's block size differs from what its receiver expects.
  std::unique_ptr<P2pExchange> prepare(const std::vector<Communicator::Part>& parts);
  // Empty while healthy; else which sender never published within the timeout.
  std::string failure() const;
  // Ends every wait on the GPU now (peers gone, or the host gave up): kernels return, nothing hangs.
  void abort() noexcept;
  const P2pOptions& options() const { return opt_; }

 private:
  friend class P2pExchange;
  // Collective: every rank's `mine` (a device pointer anywhere inside a cudaMalloc allocation), as a
  // pointer usable on this rank's GPU. IPC mappings opened on the way are appended to `mapped`.
  std::vector<char*> share(void* mine, std::vector<void*>& mapped);

  Bootstrap& boot_;
  int device_ = 0;
  bool ipc_ = false;  // separate processes: CUDA IPC; threads: raw pointers
  double timeout_s_;
  P2pOptions opt_;
  unsigned long long seq_ = 0;
  DeviceBuffer<unsigned long long> flags_;       // [ranks] one slot per sender
  DeviceBuffer<unsigned int> blocks_done_;       // the kernel's completion counter
  DeviceBuffer<unsigned long long*> peer_flag_;  // [ranks] receiver q's slot for this rank
  std::vector<void*> flag_maps_;
  int* host_words_ = nullptr;  // mapped pinned: [0] error, [1] abort
  int* device_words_ = nullptr;
  int sms_ = 1;  // blocks of the copy kernel when options.blocks is 0
  cudaStream_t local_stream_ = nullptr;
  cudaEvent_t fork_ = nullptr, join_ = nullptr;
};

}  // namespace occult::gpu
