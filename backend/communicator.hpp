#pragma once
// One NCCL communicator per rank, under a timeout so that nothing hangs: every wait on the GPU polls
// the stream and ncclCommGetAsyncError against a deadline and aborts the communicator when it passes.
// NCCL calls that block the host run under a watchdog (blocking mode) or are polled (non-blocking).
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "backend/bootstrap.hpp"
#include "backend/watchdog.hpp"

namespace occult::gpu {

class P2pTransport;

// How the all-to-all-v of a layer moves: NCCL (any topology, across nodes) or the direct intranode
// peer-to-peer path (backend/p2p_transport.hpp), by SM stores (sm) or copy engines (ce).
enum class Transport { Nccl, P2p };
Transport parse_transport(const std::string& text);  // InputError (field "transport")
const char* transport_name(Transport t);
enum class P2pCopy { Sm, CopyEngine };
P2pCopy parse_p2p_copy(const std::string& text);  // InputError (field "p2p-copy")
const char* p2p_copy_name(P2pCopy c);
struct P2pOptions {
  P2pCopy copy = P2pCopy::Sm;
  int blocks = 0;  // thread blocks of the copy kernel; 0: one per SM
};

// Bytes per peer, and where each peer's block starts, in one contiguous buffer.
struct Exchange {
  std::vector<std::size_t> bytes;
  std::vector<std::size_t> offset;
  std::size_t total() const;
  static Exchange from_rows(const std::vector<std::int64_t>& rows, std::size_t row_bytes);
};

class Communicator {
 public:
  // Selects `device` on the calling thread, shares the ncclUniqueId through `boot`, joins, and
  // connects to every peer with one tiny all-to-all (so no later exchange waits on a peer's
  // connection setup, the one place a blocking NCCL call can stall on the host).
  Communicator(Bootstrap& boot, int device, double timeout_s);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int device() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  ncclComm_t comm() const { return comm_; }
  bool blocking() const { return blocking_; }

  // One buffer of an all-to-all-v: what goes out to each peer and where each peer's block lands.
  struct Part {
    const void* send;
    const Exchange* out;
    void* recv;
    const Exchange* in;
  };
  // All-to-all-v of several buffers (rows and their metadata) as one group of ncclSend/ncclRecv, so
  // they share one launch. This rank's own blocks are device copies on a side stream that overlap
  // the transfer (serialised, a large local block would cost as much as a remote one); stream()
  // waits for them. Enqueued on stream().
  void alltoallv(std::initializer_list<Part> parts);
  void alltoallv(const std::vector<Part>& parts);
  // The direct P2P transport over the same ranks, created (collectively) on first use; its GPU waits
  // are bounded by the same timeout, and wait() reports its failures like NCCL's.
  P2pTransport& p2p(const P2pOptions& options);
  // Waits for everything enqueued on stream(); throws GpuError (after aborting the communicator) on
  // an NCCL error, a failed peer rank, or when `timeout_s` passes.
  void wait();
  // Aborts the communicator now (peers see an error instead of waiting forever).
  void abort() noexcept;
  // Before buffers that queued exchanges use are freed: waits for the stream up to the timeout and
  // aborts the communicator if it does not drain or a peer rank has failed. cudaFree waits for the
  // whole device, so freeing under an exchange stuck on a departed peer would hang the process.
  void quiesce() noexcept;

 private:
  void settle(const char* what);  // polls a non-blocking NCCL call to completion
  // Waits for the stream up to the timeout; false if it did not finish (or a peer rank failed).
  bool drain() noexcept;
  [[noreturn]] void fail(const std::string& why);

  Bootstrap& boot_;
  int rank_ = 0, size_ = 1, device_ = 0;
  double timeout_s_;
  bool blocking_ = false;
  std::unique_ptr<Watchdog> watchdog_;  // blocking mode only
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaStream_t copy_stream_ = nullptr;  // local blocks, concurrent with NCCL
  cudaEvent_t fork_ = nullptr, join_ = nullptr;
  std::unique_ptr<P2pTransport> p2p_;
};

// NCCL mode of the communicators this process creates. Blocking (the default, PyTorch's mode) launches
// an exchange on the calling thread; the host-blocking calls (init, the connecting all-to-all) run
// under the watchdog, which ends the process with a message when one overruns the timeout. Non-
// blocking keeps every NCCL call abortable (the process survives a lost peer, as a long-running
// service would need) at a host cost of tens of microseconds per exchange: NCCL starts a helper
// thread for every non-blocking group.
enum class NcclMode { NonBlocking, Blocking };
void set_nccl_mode(NcclMode m);  // through OCCULT_NCCL_BLOCKING, so child processes inherit it
NcclMode nccl_mode();
NcclMode parse_nccl_mode(const std::string& text);  // InputError (field "nccl-mode")
const char* nccl_mode_name(NcclMode m);

// NCCL_NVLS_ENABLE=0 before any communicator exists: NVLink multicast can take a shared host's GPUs
// out of service, and the all-to-all never needs it.
void disable_nvlink_multicast();

}  // namespace occult::gpu
