#include "backend/all_to_all.hpp"

#include "backend/gpu_error.hpp"
#include "backend/p2p_transport.hpp"

namespace occult::gpu {

AllToAll::AllToAll() = default;
AllToAll::AllToAll(AllToAll&&) noexcept = default;
AllToAll& AllToAll::operator=(AllToAll&&) noexcept = default;
AllToAll::~AllToAll() = default;

AllToAll::AllToAll(Communicator& comm, Transport transport, const P2pOptions& options,
                   std::vector<Communicator::Part> parts)
    : comm_(&comm), parts_(std::move(parts)) {
  if (transport == Transport::P2p) p2p_ = comm.p2p(options).prepare(parts_);
}

void AllToAll::run() {
  if (!comm_) throw GpuError("an all-to-all that was never prepared");
  if (p2p_) {
    p2p_->run(comm_->stream());
  } else {
    comm_->alltoallv(parts_);
  }
}

}  // namespace occult::gpu
