#pragma once
// One all-to-all-v of fixed buffers (a layer's dispatch, combine or their backward mirrors) on the
// transport the run chose: grouped ncclSend/ncclRecv enqueued each time, or the direct P2P exchange,
// prepared once when the layer is built (collective: every rank builds its exchanges in one order).
#include <memory>
#include <vector>

#include "backend/communicator.hpp"

namespace occult::gpu {

class P2pExchange;

class AllToAll {
 public:
  AllToAll();
  AllToAll(Communicator& comm, Transport transport, const P2pOptions& options,
           std::vector<Communicator::Part> parts);
  AllToAll(AllToAll&&) noexcept;
  AllToAll& operator=(AllToAll&&) noexcept;
  ~AllToAll();
  // Enqueued on the communicator's stream.
  void run();

 private:
  Communicator* comm_ = nullptr;
  std::vector<Communicator::Part> parts_;
  std::unique_ptr<P2pExchange> p2p_;
};

}  // namespace occult::gpu
