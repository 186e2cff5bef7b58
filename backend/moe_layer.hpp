#pragma once
// One MoE layer on one rank, executing a CommPlan built by the core (sim/core/plan.hpp):
// layout -> count exchange (checked against the plan) -> pack -> dispatch all-to-all-v -> sparse
// expert FFN -> combine all-to-all-v -> unpack-reduce, and for training the mirror backward.
// Inputs, expert weights and output gradients are synthetic (backend/synthetic.hpp) so any rank and
// the CPU reference can regenerate them from the seed.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/all_to_all.hpp"
#include "backend/communicator.hpp"
#include "kernels/moe_kernels.hpp"
#include "sim/core/model.hpp"
#include "sim/core/plan.hpp"

namespace occult::gpu {

enum class Phase {
  Layout,
  Counts,
  Pack,
  Dispatch,
  Expert,
  Combine,
  Unpack,
  // backward (training)
  GradPack,  // combine backward = dispatch of dy
  GradDispatch,
  ExpertBackward,
  GradCombine,  // dispatch backward = combine of the input gradients
  GradUnpack,
  Count
};
inline constexpr int kPhases = int(Phase::Count);
const char* phase_name(Phase p);

struct LayerOptions {
  ModelConfig model;
  std::uint64_t seed = 1;
  bool training = false;        // also run the backward pass
  bool comm_only = false;       // no expert FFN: combine returns the received rows (communication benchmark)
  std::int64_t max_tokens = 0;  // buffer capacity in tokens per GPU; 0: this plan's largest block
  // How the receivers learn their row counts. false (fused): NCCL is sized from the host-side plan
  // (the contract this backend executes) and the counts the GPU layout produced travel inside the
  // dispatch group, checked against the plan once the host next waits. true (sync): a separate count
  // all-to-all read back by the host before the pack, what a runtime without a host-side plan pays.
  bool counts_sync = false;
  // NCCL, or the direct intranode P2P path (peer-mapped receive buffers; every GPU on one node).
  Transport transport = Transport::Nccl;
  P2pOptions p2p;
};

// Bytes this rank puts on the wire (remote peers only) per phase of one iteration.
struct WireBytes {
  std::int64_t rows = 0;  // token rows (hidden * 2 bytes each)
  std::int64_t meta = 0;  // expert ids and gate weights that travel with them
};

class MoeLayerRank {
 public:
  // Checks the plan against the communicator (device count) and the capacity (InputError), then
  // allocates and fills every buffer.
  MoeLayerRank(Communicator& comm, const LayerOptions& opt, const LayerRouting& routing,
               const LayerPlacement& placement, const CommPlan& plan);
  ~MoeLayerRank();
  MoeLayerRank(const MoeLayerRank&) = delete;
  MoeLayerRank& operator=(const MoeLayerRank&) = delete;

  // One forward (and backward when training) pass, enqueued on the communicator's stream, with an
  // event recorded at every phase boundary when `events` is given (kPhases + 1 events).
  void run(cudaEvent_t* events = nullptr);
  // Fills the outputs with NaN so a check after the next run() sees every unwritten element.
  void poison_outputs();
  // After Communicator::wait(): the last run's device-side counts against the plan (GpuError naming
  // the peer on a mismatch). The sync mode also checks inside run(), before the dispatch.
  void verify_counts() const;

  std::int64_t tokens() const { return tokens_; }
  std::int64_t first_token() const { return first_token_; }
  const LayerOptions& options() const { return opt_; }
  kernels::DispatchMode mode() const { return mode_; }
  WireBytes wire_bytes(Phase p) const;

  // Host copies (after wait()): y [tokens x hidden], dx [tokens x hidden] (bf16 bits), d_weights [tokens x
  // k].
  std::vector<std::uint16_t> output() const;
  std::vector<std::uint16_t> input_grad() const;
  std::vector<float> gate_weight_grad() const;

 private:
  struct Buffers;
  void check_counts() const;  // host_counts against the plan

  Communicator& comm_;
  LayerOptions opt_;
  const CommPlan& plan_;
  kernels::DispatchMode mode_;
  int slots_ = 1;
  std::int64_t tokens_ = 0, first_token_ = 0;
  std::int64_t send_total_ = 0, recv_total_ = 0;
  Exchange rows_out_, rows_in_, meta_out_, meta_in_, counts_out_, counts_in_;
  std::unique_ptr<Buffers> b_;
  // The layer's exchanges over its fixed buffers, prepared once on the chosen transport.
  AllToAll counts_op_, dispatch_op_, combine_op_, grad_dispatch_op_, grad_combine_op_;
};

// The same rows as a plan's dispatch and combine, exchanged with no layout, pack or metadata: what a
// plain NCCL all-to-all of that payload costs. Events: start, after dispatch, after combine.
class PlainExchange {
 public:
  PlainExchange(Communicator& comm, const CommPlan& plan, std::int64_t row_bytes);
  ~PlainExchange();
  void run(cudaEvent_t* events);
  WireBytes wire_bytes() const;

 private:
  Communicator& comm_;
  Exchange out_, in_;
  void* send_ = nullptr;
  void* recv_ = nullptr;
};

}  // namespace occult::gpu
