#include "backend/communicator.hpp"

#include <chrono>
#include <cstdlib>
#include <exception>
#include <optional>
#include <sstream>
#include <thread>

#include "backend/device_buffer.hpp"
#include "backend/gpu_error.hpp"
#include "backend/p2p_transport.hpp"
#include "sim/core/error.hpp"

namespace occult::gpu {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

std::size_t Exchange::total() const {
  std::size_t s = 0;
  for (auto b : bytes) s += b;
  return s;
}

Exchange Exchange::from_rows(const std::vector<std::int64_t>& rows, std::size_t row_bytes) {
  Exchange e;
  std::size_t at = 0;
  for (auto r : rows) {
    e.offset.push_back(at);
    e.bytes.push_back(std::size_t(r) * row_bytes);
    at += std::size_t(r) * row_bytes;
  }
  return e;
}

void disable_nvlink_multicast() { setenv("NCCL_NVLS_ENABLE", "0", 1); }

void set_nccl_mode(NcclMode m) { setenv("OCCULT_NCCL_BLOCKING", m == NcclMode::Blocking ? "1" : "0", 1); }

NcclMode nccl_mode() {
  const char* v = std::getenv("OCCULT_NCCL_BLOCKING");
  return v && std::string(v) == "0" ? NcclMode::NonBlocking : NcclMode::Blocking;
}

NcclMode parse_nccl_mode(const std::string& text) {
  if (text == "nonblocking") return NcclMode::NonBlocking;
  if (text == "blocking") return NcclMode::Blocking;
  throw InputError("", 0, "nccl-mode", "'" + text + "' is not a mode (nonblocking, blocking)");
}

const char* nccl_mode_name(NcclMode m) { return m == NcclMode::Blocking ? "blocking" : "nonblocking"; }

Communicator::Communicator(Bootstrap& boot, int device, double timeout_s)
    : boot_(boot),
      rank_(boot.rank()),
      size_(boot.size()),
      device_(device),
      timeout_s_(timeout_s),
      blocking_(nccl_mode() == NcclMode::Blocking) {
  disable_nvlink_multicast();
  OCCULT_CUDA(cudaSetDevice(device_));
  OCCULT_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  OCCULT_CUDA(cudaStreamCreateWithFlags(&copy_stream_, cudaStreamNonBlocking));
  OCCULT_CUDA(cudaEventCreateWithFlags(&fork_, cudaEventDisableTiming));
  OCCULT_CUDA(cudaEventCreateWithFlags(&join_, cudaEventDisableTiming));
  if (blocking_)
    watchdog_ = std::make_unique<Watchdog>(
        "rank " + std::to_string(rank_) + " (GPU " + std::to_string(device_) + ")", timeout_s_);
  ncclUniqueId id{};
  if (rank_ == 0) OCCULT_NCCL(ncclGetUniqueId(&id));
  boot_.broadcast(&id, sizeof(id), 0);
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = blocking_ ? 1 : 0;
  {
    std::optional<Watchdog::Guard> guard;
    if (watchdog_) guard.emplace(*watchdog_, "ncclCommInitRankConfig");
    OCCULT_NCCL(ncclCommInitRankConfig(&comm_, size_, id, rank_, &config));
  }
  settle("ncclCommInitRankConfig");
  // Every peer is alive now (init needed all of them): connect to each while that holds.
  DeviceBuffer<std::int32_t> probe(2 * std::size_t(size_), "connection probe");
  OCCULT_CUDA(cudaMemsetAsync(probe.get(), 0, probe.bytes(), stream_));
  const Exchange one = Exchange::from_rows(std::vector<std::int64_t>(std::size_t(size_), 1), 4);
  alltoallv({{probe.get(), &one, probe.get() + size_, &one}});
  wait();
}

Communicator::~Communicator() {
  if (std::uncaught_exceptions() > 0) boot_.failing();
  if (comm_) {
    // Blocking finalize/destroy could wait on a peer forever; a blocking communicator whose stream
    // has drained is released with abort (what PyTorch does). Non-blocking: finalize under the
    // timeout, abort if it does not settle.
    const bool drained = drain();
    if (!drained && p2p_) p2p_->abort();  // a p2p kernel still waiting returns now
    ncclResult_t st = blocking_ || !drained ? ncclInternalError : ncclCommFinalize(comm_);
    auto t0 = Clock::now();
    while (st == ncclSuccess || st == ncclInProgress) {
      if (ncclCommGetAsyncError(comm_, &st) != ncclSuccess) st = ncclInternalError;
      if (st != ncclInProgress || seconds_since(t0) > timeout_s_) break;
      std::this_thread::yield();
    }
    if (st == ncclSuccess) {
      (void)ncclCommDestroy(comm_);
    } else {
      (void)ncclCommAbort(comm_);
    }
    comm_ = nullptr;
  }
  if (fork_) (void)cudaEventDestroy(fork_);
  if (join_) (void)cudaEventDestroy(join_);
  if (copy_stream_) (void)cudaStreamDestroy(copy_stream_);
  if (stream_) (void)cudaStreamDestroy(stream_);
}

void Communicator::quiesce() noexcept {
  if (std::uncaught_exceptions() > 0) boot_.failing();
  if (comm_ && !drain()) abort();
}

bool Communicator::drain() noexcept {
  auto t0 = Clock::now();
  for (;;) {
    const cudaError_t q = cudaStreamQuery(stream_);
    if (q != cudaErrorNotReady) return q == cudaSuccess;
    if (boot_.peer_failed() || seconds_since(t0) > timeout_s_) return false;
    std::this_thread::yield();
  }
}

void Communicator::abort() noexcept {
  if (p2p_) p2p_->abort();
  if (comm_) (void)ncclCommAbort(comm_);
  comm_ = nullptr;
}

void Communicator::fail(const std::string& why) {
  abort();
  std::ostringstream os;
  os << "rank " << rank_ << " (GPU " << device_ << "): " << why << "; communicator aborted";
  throw GpuError(os.str());
}

void Communicator::settle(const char* what) {
  auto t0 = Clock::now();
  for (;;) {
    ncclResult_t st = ncclSuccess;
    OCCULT_NCCL(ncclCommGetAsyncError(comm_, &st));
    if (st == ncclSuccess) return;
    if (st != ncclInProgress) {
      fail(std::string(what) + " failed: NCCL " + ncclGetErrorString(st) + " (" + ncclGetLastError(comm_) +
           ")");
    }
    if (seconds_since(t0) > timeout_s_) {
      fail(std::string(what) + " did not complete within " + std::to_string(timeout_s_) +
           " s (a peer is missing or stopped)");
    }
    std::this_thread::yield();
  }
}

void Communicator::alltoallv(std::initializer_list<Part> parts) { alltoallv(std::vector<Part>(parts)); }

P2pTransport& Communicator::p2p(const P2pOptions& options) {
  if (!p2p_) p2p_ = std::make_unique<P2pTransport>(boot_, device_, timeout_s_, options);
  const P2pOptions& have = p2p_->options();
  if (have.copy != options.copy || have.blocks != options.blocks)
    throw GpuError("p2p: one communicator serves one set of p2p options");
  return *p2p_;
}

void Communicator::alltoallv(const std::vector<Part>& parts) {
  if (!comm_) throw GpuError("alltoallv on an aborted communicator");
  auto me = std::size_t(rank_);
  bool local = false;
  for (const Part& part : parts) {
    if (int(part.out->bytes.size()) != size_ || int(part.in->bytes.size()) != size_) {
      throw GpuError("alltoallv: one count per rank expected");
    }
    if (part.out->bytes[me] != part.in->bytes[me]) throw GpuError("alltoallv: own block differs in and out");
    local = local || part.out->bytes[me] > 0;
  }
  if (local) {
    OCCULT_CUDA(cudaEventRecord(fork_, stream_));
    OCCULT_CUDA(cudaStreamWaitEvent(copy_stream_, fork_, 0));
    for (const Part& part : parts) {
      if (part.out->bytes[me] == 0) continue;
      OCCULT_CUDA(cudaMemcpyAsync(static_cast<char*>(part.recv) + part.in->offset[me],
                                  static_cast<const char*>(part.send) + part.out->offset[me],
                                  part.out->bytes[me], cudaMemcpyDeviceToDevice, copy_stream_));
    }
    OCCULT_CUDA(cudaEventRecord(join_, copy_stream_));
  }
  OCCULT_NCCL(ncclGroupStart());
  for (const Part& part : parts) {
    auto* s = static_cast<const char*>(part.send);
    auto* r = static_cast<char*>(part.recv);
    for (int p = 0; p < size_; ++p) {
      if (p == rank_) continue;
      auto q = std::size_t(p);
      if (part.out->bytes[q] > 0) {
        OCCULT_NCCL(ncclSend(s + part.out->offset[q], part.out->bytes[q], ncclUint8, p, comm_, stream_));
      }
      if (part.in->bytes[q] > 0) {
        OCCULT_NCCL(ncclRecv(r + part.in->offset[q], part.in->bytes[q], ncclUint8, p, comm_, stream_));
      }
    }
  }
  ncclResult_t launched = ncclSuccess;
  {
    std::optional<Watchdog::Guard> guard;
    if (watchdog_) guard.emplace(*watchdog_, "the all-to-all-v launch (ncclGroupEnd)");
    launched = ncclGroupEnd();
  }
  // A peer that left shows here in blocking mode: name this rank and abort, like a failed wait.
  if (launched != ncclSuccess && launched != ncclInProgress)
    fail(std::string("the all-to-all-v launch failed: NCCL ") + ncclGetErrorString(launched) + " (" +
         ncclGetLastError(comm_) + ")");
  if (!blocking_) settle("all-to-all-v enqueue");
  if (local) OCCULT_CUDA(cudaStreamWaitEvent(stream_, join_, 0));
}

void Communicator::wait() {
  auto t0 = Clock::now();
  for (;;) {
    const cudaError_t q = cudaStreamQuery(stream_);
    // A p2p wait that ran out of time ended its kernel (and the stream) with the error recorded.
    if (p2p_ && !p2p_->failure().empty()) fail(p2p_->failure());
    if (q == cudaSuccess) return;
    if (q != cudaErrorNotReady)
      fail(std::string("GPU error while waiting: ") + cudaGetErrorName(q) + " (" + cudaGetErrorString(q) +
           ")");
    ncclResult_t st = ncclSuccess;
    if (comm_) {
      OCCULT_NCCL(ncclCommGetAsyncError(comm_, &st));
      if (st != ncclSuccess && st != ncclInProgress) {
        fail(std::string("NCCL error while waiting: ") + ncclGetErrorString(st) + " (" +
             ncclGetLastError(comm_) + ")");
      }
    }
    if (boot_.peer_failed()) fail("another rank failed while this one waited");
    if (seconds_since(t0) > timeout_s_) {
      fail("GPU work did not finish within " + std::to_string(timeout_s_) +
           " s (a peer stopped, or ranks disagree on the exchange)");
    }
    std::this_thread::yield();
  }
}

}  // namespace occult::gpu
