#pragma once
// One NCCL communicator per rank, non-blocking so that nothing can hang: every wait polls the stream
// and ncclCommGetAsyncError against a deadline and aborts the communicator when it passes.
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "backend/bootstrap.hpp"

namespace occult::gpu {

// Bytes per peer, and where each peer's block starts, in one contiguous buffer.
struct Exchange {
  std::vector<std::size_t> bytes;
  std::vector<std::size_t> offset;
  std::size_t total() const;
  static Exchange from_rows(const std::vector<std::int64_t>& rows, std::size_t row_bytes);
};

class Communicator {
 public:
  // Selects `device` on the calling thread, shares the ncclUniqueId through `boot` and joins.
  Communicator(Bootstrap& boot, int device, double timeout_s);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int device() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  ncclComm_t comm() const { return comm_; }

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
  // Waits for everything enqueued on stream(); throws GpuError (after aborting the communicator) on
  // an NCCL error or when `timeout_s` passes.
  void wait();
  // Aborts the communicator now (peers see an error instead of waiting forever).
  void abort() noexcept;

 private:
  void settle(const char* what);  // polls a non-blocking NCCL call to completion
  [[noreturn]] void fail(const std::string& why);

  Bootstrap& boot_;
  int rank_ = 0, size_ = 1, device_ = 0;
  double timeout_s_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaStream_t copy_stream_ = nullptr;  // local blocks, concurrent with NCCL
  cudaEvent_t fork_ = nullptr, join_ = nullptr;
};

// NCCL mode of the communicators this process creates. Non-blocking (the default) keeps every NCCL
// call under the timeout, init and connection setup included, at a host cost of tens of
// microseconds per exchange (NCCL completes a non-blocking group on a helper thread). Blocking is
// what PyTorch uses: lower small-message latency; waits on the stream still time out and abort,
// but a peer that never joins can block init or the first exchange with it.
enum class NcclMode { NonBlocking, Blocking };
void set_nccl_mode(NcclMode m);  // through OCCULT_NCCL_BLOCKING, so child processes inherit it
NcclMode nccl_mode();
NcclMode parse_nccl_mode(const std::string& text);  // InputError (field "nccl-mode")
const char* nccl_mode_name(NcclMode m);

// NCCL_NVLS_ENABLE=0 before any communicator exists: NVLink multicast can take a shared host's GPUs
// out of service, and the all-to-all never needs it.
void disable_nvlink_multicast();

}  // namespace occult::gpu
