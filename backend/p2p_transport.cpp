#include "backend/p2p_transport.hpp"

#include <cuda.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <sstream>

#include "backend/gpu_error.hpp"
#include "sim/core/error.hpp"

namespace occult::gpu {
namespace {

// cudaIpcGetMemHandle names an allocation, not an address inside it: find the allocation's base
// through the driver (reached via the runtime, so nothing links libcuda directly).
struct Allocation {
  void* base;
  std::size_t offset, size;
};

Allocation allocation_of(void* p) {
  using GetRange = CUresult (*)(CUdeviceptr*, std::size_t*, CUdeviceptr);
  static GetRange get_range = [] {
    void* fn = nullptr;
    cudaDriverEntryPointQueryResult found{};
    OCCULT_CUDA(
        cudaGetDriverEntryPointByVersion("cuMemGetAddressRange", &fn, 12000, cudaEnableDefault, &found));
    if (found != cudaDriverEntryPointSuccess || fn == nullptr)
      throw GpuError("the CUDA driver has no cuMemGetAddressRange (needed for CUDA IPC)");
    return reinterpret_cast<GetRange>(fn);
  }();
  CUdeviceptr base = 0;
  std::size_t size = 0;
  if (get_range(&base, &size, reinterpret_cast<CUdeviceptr>(p)) != CUDA_SUCCESS)
    throw GpuError("p2p: a buffer to share is not a device allocation");
  return {reinterpret_cast<void*>(base),
          std::size_t(reinterpret_cast<char*>(p) - reinterpret_cast<char*>(base)), size};
}

struct HostName {
  std::array<char, 256> name{};
  HostName() { (void)gethostname(name.data(), name.size() - 1); }
};

}  // namespace

Transport parse_transport(const std::string& text) {
  if (text == "nccl") return Transport::Nccl;
  if (text == "p2p") return Transport::P2p;
  throw InputError("", 0, "transport", "'" + text + "' is not a transport (nccl, p2p)");
}
const char* transport_name(Transport t) { return t == Transport::P2p ? "p2p" : "nccl"; }

P2pCopy parse_p2p_copy(const std::string& text) {
  if (text == "sm") return P2pCopy::Sm;
  if (text == "ce") return P2pCopy::CopyEngine;
  throw InputError("", 0, "p2p-copy", "'" + text + "' is not a copy method (sm, ce)");
}
const char* p2p_copy_name(P2pCopy c) { return c == P2pCopy::CopyEngine ? "ce" : "sm"; }

P2pTransport::P2pTransport(Bootstrap& boot, int device, double timeout_s, P2pOptions options)
    : boot_(boot),
      device_(device),
      ipc_(std::string(boot.kind()) != "threads"),
      timeout_s_(timeout_s),
      opt_(options) {
  if (opt_.blocks < 0) throw InputError("", 0, "p2p-blocks", "must be 0 (automatic) or a block count");
  OCCULT_CUDA(cudaSetDevice(device_));
  OCCULT_CUDA(cudaDeviceGetAttribute(&sms_, cudaDevAttrMultiProcessorCount, device_));
  const int n = boot_.size(), me = boot_.rank();
  // Every rank on this node and every peer GPU reachable: otherwise this transport cannot run at all.
  const auto hosts = boot_.allgather_value(HostName{});
  const auto devices = boot_.allgather_value(device_);
  for (int q = 0; q < n; ++q) {
    if (std::strcmp(hosts[std::size_t(q)].name.data(), hosts[std::size_t(me)].name.data()) != 0)
      throw InputError("", 0, "transport",
                       "p2p needs every rank on one node; rank " + std::to_string(q) + " runs on " +
                           hosts[std::size_t(q)].name.data() + ", rank " + std::to_string(me) + " on " +
                           hosts[std::size_t(me)].name.data() + " (use --transport nccl across nodes)");
    const int peer = devices[std::size_t(q)];
    if (q == me || peer == device_) continue;
    int can = 0;
    OCCULT_CUDA(cudaDeviceCanAccessPeer(&can, device_, peer));
    if (!can)
      throw InputError("", 0, "transport",
                       "GPU " + std::to_string(device_) + " cannot access GPU " + std::to_string(peer) +
                           " directly (no NVLink or PCIe P2P between them); use --transport nccl");
    if (!ipc_) {
      const cudaError_t e = cudaDeviceEnablePeerAccess(peer, 0);
      if (e == cudaErrorPeerAccessAlreadyEnabled) {
        (void)cudaGetLastError();
      } else {
        OCCULT_CUDA(e);
      }
    }
  }
  // Created after the checks above, which throw without running the destructor.
  OCCULT_CUDA(cudaStreamCreateWithFlags(&local_stream_, cudaStreamNonBlocking));
  OCCULT_CUDA(cudaEventCreateWithFlags(&fork_, cudaEventDisableTiming));
  OCCULT_CUDA(cudaEventCreateWithFlags(&join_, cudaEventDisableTiming));
  flags_ = DeviceBuffer<unsigned long long>(
      std::max(std::size_t(n), kP2pMinShared / sizeof(unsigned long long)), "p2p flags");
  blocks_done_ = DeviceBuffer<unsigned int>(1, "p2p completion counter");
  peer_flag_ = DeviceBuffer<unsigned long long*>(std::size_t(n), "p2p flag table");
  OCCULT_CUDA(cudaMemset(flags_.get(), 0, flags_.bytes()));  // sequence numbers start above 0
  OCCULT_CUDA(cudaMemset(blocks_done_.get(), 0, blocks_done_.bytes()));
  OCCULT_CUDA(cudaHostAlloc(reinterpret_cast<void**>(&host_words_), 2 * sizeof(int), cudaHostAllocMapped));
  host_words_[0] = host_words_[1] = 0;
  OCCULT_CUDA(cudaHostGetDevicePointer(reinterpret_cast<void**>(&device_words_), host_words_, 0));
  OCCULT_CUDA(cudaDeviceSynchronize());  // the flags are zero before any peer can see them
  const auto flags = share(flags_.get(), flag_maps_);
  std::vector<unsigned long long*> slots(static_cast<std::size_t>(n));
  for (int q = 0; q < n; ++q)
    slots[std::size_t(q)] = reinterpret_cast<unsigned long long*>(flags[std::size_t(q)]) + me;
  OCCULT_CUDA(cudaMemcpy(peer_flag_.get(), slots.data(), peer_flag_.bytes(), cudaMemcpyHostToDevice));
  boot_.barrier();
}

P2pTransport::~P2pTransport() {
  for (void* p : flag_maps_) (void)cudaIpcCloseMemHandle(p);
  if (host_words_) (void)cudaFreeHost(host_words_);
  if (fork_) (void)cudaEventDestroy(fork_);
  if (join_) (void)cudaEventDestroy(join_);
  if (local_stream_) (void)cudaStreamDestroy(local_stream_);
}

std::vector<char*> P2pTransport::share(void* mine, std::vector<void*>& mapped) {
  const int n = boot_.size(), me = boot_.rank();
  std::vector<char*> out(static_cast<std::size_t>(n));
  if (!ipc_) {
    const auto all = boot_.allgather_value(reinterpret_cast<std::uintptr_t>(mine));
    for (int q = 0; q < n; ++q) out[std::size_t(q)] = reinterpret_cast<char*>(all[std::size_t(q)]);
    return out;
  }
  struct Shared {
    cudaIpcMemHandle_t handle;
    std::size_t offset;
  };
  Shared s{};
  const auto [base, offset, size] = allocation_of(mine);
  if (size < kP2pMinShared)
    throw GpuError("p2p: a buffer shared across processes must be an allocation of at least 2 MiB (got " +
                   std::to_string(size) + " bytes)");
  OCCULT_CUDA(cudaIpcGetMemHandle(&s.handle, base));
  s.offset = offset;
  const auto all = boot_.allgather_value(s);
  for (int q = 0; q < n; ++q) {
    if (q == me) {
      out[std::size_t(q)] = static_cast<char*>(mine);
      continue;
    }
    void* p = nullptr;
    OCCULT_CUDA(cudaIpcOpenMemHandle(&p, all[std::size_t(q)].handle, cudaIpcMemLazyEnablePeerAccess));
    mapped.push_back(p);
    out[std::size_t(q)] = static_cast<char*>(p) + all[std::size_t(q)].offset;
  }
  return out;
}

std::unique_ptr<P2pExchange> P2pTransport::prepare(const std::vector<Communicator::Part>& parts) {
  const int n = boot_.size(), me = boot_.rank();
  std::unique_ptr<P2pExchange> x(new P2pExchange(*this));
  const auto count = boot_.allgather_value(parts.size());
  for (int q = 0; q < n; ++q)
    if (count[std::size_t(q)] != parts.size())
      throw GpuError("p2p: rank " + std::to_string(q) + " prepares an exchange of " +
                     std::to_string(count[std::size_t(q)]) + " buffers, rank " + std::to_string(me) + " of " +
                     std::to_string(parts.size()));
  std::string mismatch;  // the first block this rank sends at a size its receiver does not expect
  for (const auto& part : parts) {
    if (int(part.out->bytes.size()) != n || int(part.in->bytes.size()) != n)
      throw GpuError("p2p: one count per rank expected");
    // Where each receiver expects this rank's block, and how large: from the receiver itself.
    std::vector<std::uint64_t> expect(2 * std::size_t(n));
    for (int q = 0; q < n; ++q) {
      expect[2 * std::size_t(q)] = part.in->offset[std::size_t(q)];
      expect[2 * std::size_t(q) + 1] = part.in->bytes[std::size_t(q)];
    }
    std::vector<std::uint64_t> all(expect.size() * std::size_t(n));
    boot_.allgather(expect.data(), all.data(), expect.size() * sizeof(std::uint64_t));
    const auto recv = share(part.recv, x->mapped_);
    for (int q = 0; q < n; ++q) {
      const std::uint64_t* theirs = all.data() + std::size_t(q) * expect.size();
      const std::uint64_t at = theirs[2 * std::size_t(me)], bytes = theirs[2 * std::size_t(me) + 1];
      if (bytes != part.out->bytes[std::size_t(q)]) {
        if (mismatch.empty()) {
          std::ostringstream os;
          os << "p2p: rank " << me << " sends " << part.out->bytes[std::size_t(q)] << " bytes to rank " << q
             << ", which expects " << bytes << " (ranks disagree on the exchange)";
          mismatch = os.str();
        }
        continue;
      }
      if (bytes == 0) continue;
      if (q == me) {
        x->local_.push_back({static_cast<const char*>(part.send) + part.out->offset[std::size_t(q)],
                             recv[std::size_t(q)] + at, bytes, 0});
        continue;
      }
      x->segments_.push_back({static_cast<const char*>(part.send) + part.out->offset[std::size_t(q)],
                              recv[std::size_t(q)] + at, bytes, x->chunks_});
      x->chunks_ += (bytes + p2p::kChunkBytes - 1) / p2p::kChunkBytes;
    }
  }
  // Every rank learns whether any sender disagreed, so all of them fail here instead of the others
  // waiting in the barrier below for a rank that has thrown.
  const auto ok = boot_.allgather_value(int(mismatch.empty()));
  if (!mismatch.empty()) throw GpuError(mismatch);
  for (int q = 0; q < n; ++q)
    if (!ok[std::size_t(q)])
      throw GpuError("p2p: rank " + std::to_string(q) + " sends a block of another size than rank " +
                     std::to_string(me) + " or another receiver expects (its error names the pair)");
  // Small own blocks ride in the kernel's work list, after the remote chunks: a side stream's fork
  // and join cost more than copying a few MiB (measured: 16 us against 20 us per exchange at 1.8 MiB).
  std::uint64_t local_bytes = 0;
  for (const auto& l : x->local_) local_bytes += l.bytes;
  if (local_bytes <= kP2pLocalInKernel) {
    for (auto l : x->local_) {
      l.first_chunk = x->chunks_;
      x->segments_.push_back(l);
      x->chunks_ += (l.bytes + p2p::kChunkBytes - 1) / p2p::kChunkBytes;
    }
    x->local_.clear();
  }
  if (!x->segments_.empty()) {
    x->device_segments_ = DeviceBuffer<p2p::Segment>(x->segments_.size(), "p2p segment table");
    OCCULT_CUDA(cudaMemcpy(x->device_segments_.get(), x->segments_.data(), x->device_segments_.bytes(),
                           cudaMemcpyHostToDevice));
  }
  boot_.barrier();  // no rank writes into a buffer before its owner has finished preparing
  return x;
}

std::string P2pTransport::failure() const {
  const int q = reinterpret_cast<volatile int*>(host_words_)[0];
  if (q == 0) return {};
  return "rank " + std::to_string(boot_.rank()) + " (GPU " + std::to_string(device_) +
         "): the p2p exchange waited more than " + std::to_string(timeout_s_) + " s for rank " +
         std::to_string(q - 1) + " (a peer stopped, or ranks disagree on the exchange)";
}

void P2pTransport::abort() noexcept {
  if (host_words_) reinterpret_cast<volatile int*>(host_words_)[1] = 1;
}

P2pExchange::~P2pExchange() {
  for (void* p : mapped_) (void)cudaIpcCloseMemHandle(p);
}

void P2pExchange::run(cudaStream_t stream) {
  P2pTransport& t = t_;
  if (reinterpret_cast<volatile int*>(t.host_words_)[1] != 0) throw GpuError("p2p exchange after an abort");
  const bool ce = t.opt_.copy == P2pCopy::CopyEngine;
  if (!local_.empty()) {
    OCCULT_CUDA(cudaEventRecord(t.fork_, stream));
    OCCULT_CUDA(cudaStreamWaitEvent(t.local_stream_, t.fork_, 0));
    for (const auto& s : local_)
      OCCULT_CUDA(cudaMemcpyAsync(s.dst, s.src, s.bytes, cudaMemcpyDeviceToDevice, t.local_stream_));
    OCCULT_CUDA(cudaEventRecord(t.join_, t.local_stream_));
  }
  if (ce)
    for (const auto& s : segments_)
      OCCULT_CUDA(cudaMemcpyAsync(s.dst, s.src, s.bytes, cudaMemcpyDeviceToDevice, stream));
  p2p::Signals sig;
  sig.peer_flag = t.peer_flag_.get();
  sig.my_flags = t.flags_.get();
  sig.blocks_done = t.blocks_done_.get();
  sig.error = t.device_words_;
  sig.abort = t.device_words_ + 1;
  sig.peers = t.boot_.size();
  p2p::launch_exchange(ce ? nullptr : device_segments_.get(), int(segments_.size()), chunks_, sig, ++t.seq_,
                       // The GPU gives up a little before the host's wait does, so the message
                       // that names the missing sender is the one reported.
                       static_cast<unsigned long long>(t.timeout_s_ * 0.9e9),
                       t.opt_.blocks > 0 ? t.opt_.blocks : t.sms_, stream);
  if (!local_.empty()) OCCULT_CUDA(cudaStreamWaitEvent(stream, t.join_, 0));
}

}  // namespace occult::gpu
