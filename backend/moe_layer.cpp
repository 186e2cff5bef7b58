#include "backend/moe_layer.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "backend/device_buffer.hpp"
#include "backend/gpu_error.hpp"
#include "backend/p2p_transport.hpp"
#include "backend/synthetic.hpp"
#include "sim/core/error.hpp"

namespace occult::gpu {

using kernels::Bf16;
using kernels::DispatchMode;

const char* phase_name(Phase p) {
  static constexpr std::array<const char*, kPhases> names = {
      "layout", "counts",    "pack",          "dispatch",        "expert",       "combine",
      "unpack", "grad_pack", "grad_dispatch", "expert_backward", "grad_combine", "grad_unpack"};
  return names[std::size_t(p)];
}

struct MoeLayerRank::Buffers {
  // routing of the local tokens and the placement
  DeviceBuffer<std::int32_t> experts, device_of, local_index;
  DeviceBuffer<float> weights;
  // layout
  DeviceBuffer<std::int32_t> counts;  // [2 x devices]: rows sent to each peer, then rows received
  DeviceBuffer<std::int32_t> send_offsets, pair_row, pair_slot, row_token;
  DeviceBuffer<unsigned char> layout_ws;
  // forward
  DeviceBuffer<Bf16> x, send_rows, recv_rows, expert_out, back_rows, y;
  DeviceBuffer<std::int32_t> send_expert, recv_expert;
  DeviceBuffer<float> send_weight, recv_weight;
  DeviceBuffer<Bf16> gate, up, down;
  DeviceBuffer<unsigned char> ffn_ws;
  // backward
  DeviceBuffer<Bf16> dy, dy_send, dy_recv, d_rows, dx_back, dx;
  DeviceBuffer<float> d_weight, dw_back, d_weights, d_gate, d_up, d_down;
  DeviceBuffer<unsigned char> bwd_ws;
  // Pinned, so that reading the counts back is an asynchronous copy, not a host stall.
  std::int32_t* host_counts = nullptr;
  // Fused counts: read back on a side stream after the dispatch, off the layer's critical path.
  cudaStream_t aside = nullptr;
  cudaEvent_t dispatched = nullptr, counts_read = nullptr;

  Buffers() = default;
  Buffers(const Buffers&) = delete;
  Buffers& operator=(const Buffers&) = delete;
  ~Buffers() {
    if (host_counts) (void)cudaFreeHost(host_counts);
    if (dispatched) (void)cudaEventDestroy(dispatched);
    if (counts_read) (void)cudaEventDestroy(counts_read);
    if (aside) (void)cudaStreamDestroy(aside);
  }
};

namespace {

std::vector<std::int64_t> plan_row(const PairMatrix& m, int src) {
  std::vector<std::int64_t> v(std::size_t(m.size()));
  for (int d = 0; d < m.size(); ++d) v[std::size_t(d)] = m.at(src, d);
  return v;
}
std::vector<std::int64_t> plan_col(const PairMatrix& m, int dst) {
  std::vector<std::int64_t> v(std::size_t(m.size()));
  for (int s = 0; s < m.size(); ++s) v[std::size_t(s)] = m.at(s, dst);
  return v;
}
std::int64_t sum(const std::vector<std::int64_t>& v) {
  std::int64_t s = 0;
  for (auto x : v) s += x;
  return s;
}

// A buffer other ranks write into. For the P2P transport it is at least kP2pMinShared bytes, so it
// is an allocation of its own that a CUDA IPC handle names alone (small allocations share pages).
template <class T>
DeviceBuffer<T> receive_buffer(std::size_t count, const char* what, Transport t) {
  if (t == Transport::P2p) count = std::max(count, (kP2pMinShared + sizeof(T) - 1) / sizeof(T));
  return DeviceBuffer<T>(count, what);
}

template <class T>
void upload(DeviceBuffer<T>& dst, const std::vector<T>& src, const char* what, cudaStream_t s) {
  dst = DeviceBuffer<T>(std::max<std::size_t>(src.size(), 1), what);
  if (!src.empty())
    OCCULT_CUDA(cudaMemcpyAsync(dst.get(), src.data(), src.size() * sizeof(T), cudaMemcpyHostToDevice, s));
}

}  // namespace

MoeLayerRank::MoeLayerRank(Communicator& comm, const LayerOptions& opt, const LayerRouting& routing,
                           const LayerPlacement& placement, const CommPlan& plan)
    : comm_(comm), opt_(opt), plan_(plan), b_(std::make_unique<Buffers>()) {
  const ModelConfig& m = opt_.model;
  const int D = plan.shape.devices, r = comm.rank(), k = m.top_k;
  if (plan.strategy != Strategy::Standard && plan.strategy != Strategy::Occult)
    throw InputError("", 0, "strategy", "the GPU backend runs standard and occult plans");
  if (plan.stages.size() != 1) throw InputError("", 0, "strategy", "the GPU backend runs single-stage plans");
  if (D != comm.size())
    throw InputError("", 0, "devices",
                     "the plan is for " + std::to_string(D) + " GPUs but " + std::to_string(comm.size()) +
                         " ranks joined; launch one rank per planned GPU");
  if (!placement.replicas.empty() &&
      std::any_of(placement.replicas.begin(), placement.replicas.end(), [](auto& v) { return !v.empty(); }))
    throw InputError("", 0, "placement", "the GPU backend does not run replicated experts");
  if (m.hidden % 64 != 0 || m.ffn % 64 != 0)
    throw InputError("", 0, "model",
                     "hidden and ffn must be multiples of 64 on the GPU (got " + std::to_string(m.hidden) +
                         ", " + std::to_string(m.ffn) + ")");
  if (k > kernels::kMaxTopK) throw InputError("", 0, "top_k", "the GPU kernels take top-k up to 16");
  mode_ = plan.strategy == Strategy::Standard ? DispatchMode::Standard : DispatchMode::Occult;
  slots_ = kernels::meta_slots(mode_, k);

  const std::int64_t T = routing.tokens();
  first_token_ = (std::int64_t(r) * T + D - 1) / D;  // tokens go to devices in contiguous blocks
  tokens_ = (std::int64_t(r + 1) * T + D - 1) / D - first_token_;
  if (plan.tokens_per_device.size() != std::size_t(D) || plan.tokens_per_device[std::size_t(r)] != tokens_)
    throw GpuError("the plan's token block of rank " + std::to_string(r) + " differs from the routing's");

  std::int64_t cap = opt_.max_tokens > 0
                         ? opt_.max_tokens
                         : *std::max_element(plan.tokens_per_device.begin(), plan.tokens_per_device.end());
  if (tokens_ > cap)
    throw InputError("", 0, "tokens",
                     "rank " + std::to_string(r) + " has " + std::to_string(tokens_) +
                         " tokens but its buffers take " + std::to_string(cap) +
                         " (--max-tokens); raise the capacity or lower the tokens per GPU");
  const int local_experts = m.experts / D;
  // Worst case per buffer: every token sends to every device, one row per local expert (standard).
  const std::int64_t send_cap = std::max<std::int64_t>(cap * k, 1);
  const std::int64_t recv_cap =
      std::max<std::int64_t>(cap * D * (mode_ == DispatchMode::Standard ? std::min(k, local_experts) : 1), 1);

  const auto out_rows = plan_row(plan.stages[0].rows, r);
  const auto in_rows = plan_col(plan.stages[0].rows, r);
  send_total_ = sum(out_rows);
  recv_total_ = sum(in_rows);
  if (send_total_ > send_cap || recv_total_ > recv_cap)
    throw InputError("", 0, "tokens",
                     "rank " + std::to_string(r) + " must send " + std::to_string(send_total_) +
                         " and receive " + std::to_string(recv_total_) + " rows but its buffers take " +
                         std::to_string(send_cap) + " and " + std::to_string(recv_cap));
  const std::size_t h = std::size_t(m.hidden), f = std::size_t(m.ffn);
  rows_out_ = Exchange::from_rows(out_rows, h * sizeof(Bf16));
  rows_in_ = Exchange::from_rows(in_rows, h * sizeof(Bf16));
  meta_out_ = Exchange::from_rows(out_rows, std::size_t(slots_) * 4);
  meta_in_ = Exchange::from_rows(in_rows, std::size_t(slots_) * 4);
  // counts[q] goes to peer q and peer q's count lands at counts[D + q]: one int per remote peer at a
  // fixed place; a rank's count to itself stays where the layout wrote it.
  for (int q = 0; q < D; ++q) {
    counts_out_.offset.push_back(std::size_t(q) * sizeof(std::int32_t));
    counts_in_.offset.push_back(std::size_t(D + q) * sizeof(std::int32_t));
    counts_out_.bytes.push_back(q == r ? 0 : sizeof(std::int32_t));
  }
  counts_in_.bytes = counts_out_.bytes;

  cudaStream_t s = comm.stream();
  Buffers& b = *b_;
  // Routing of this rank's block, weights made explicit (empty means uniform 1/k).
  std::vector<std::int32_t> ex(routing.experts.begin() + first_token_ * k,
                               routing.experts.begin() + (first_token_ + tokens_) * k);
  std::vector<float> wt(std::size_t(tokens_ * k));
  for (std::int64_t t = 0; t < tokens_; ++t)
    for (int j = 0; j < k; ++j) wt[std::size_t(t * k + j)] = routing.weight(first_token_ + t, j);
  std::vector<std::int32_t> dev(placement.device_of.begin(), placement.device_of.end());
  std::vector<std::int32_t> local(dev.size());
  {
    std::vector<std::int32_t> next(std::size_t(D), 0);
    for (std::size_t e = 0; e < dev.size(); ++e) local[e] = next[std::size_t(dev[e])]++;
    for (int d = 0; d < D; ++d)
      if (next[std::size_t(d)] != local_experts)
        throw InputError("", 0, "placement",
                         "device " + std::to_string(d) + " holds " + std::to_string(next[std::size_t(d)]) +
                             " experts, expected " + std::to_string(local_experts));
  }
  upload(b.experts, ex, "routing experts", s);
  upload(b.weights, wt, "routing weights", s);
  upload(b.device_of, dev, "placement", s);
  upload(b.local_index, local, "placement", s);

  const std::size_t pairs = std::size_t(std::max<std::int64_t>(tokens_ * k, 1));
  b.counts = receive_buffer<std::int32_t>(2 * std::size_t(D), "layout counts", opt_.transport);
  b.send_offsets = DeviceBuffer<std::int32_t>(std::size_t(D) + 1, "layout offsets");
  b.pair_row = DeviceBuffer<std::int32_t>(pairs, "layout");
  b.pair_slot = DeviceBuffer<std::int32_t>(pairs, "layout");
  b.row_token = DeviceBuffer<std::int32_t>(pairs, "layout");
  b.layout_ws = DeviceBuffer<unsigned char>(
      std::max<std::size_t>(kernels::layout_workspace_bytes(tokens_, D), 1), "layout workspace");
  OCCULT_CUDA(cudaMallocHost(&b.host_counts, 2 * std::size_t(D) * sizeof(std::int32_t)));
  OCCULT_CUDA(cudaStreamCreateWithFlags(&b.aside, cudaStreamNonBlocking));
  OCCULT_CUDA(cudaEventCreateWithFlags(&b.dispatched, cudaEventDisableTiming));
  OCCULT_CUDA(cudaEventCreateWithFlags(&b.counts_read, cudaEventDisableTiming));
  OCCULT_CUDA(cudaEventRecord(b.counts_read, b.aside));  // run() waits on it before rewriting counts

  b.x = DeviceBuffer<Bf16>(std::max<std::size_t>(std::size_t(tokens_) * h, 1), "input x");
  fill_synthetic_bf16(b.x.get(), std::size_t(tokens_) * h, opt_.seed, kInputStream,
                      std::uint64_t(first_token_) * h, 1.0f, s);
  b.send_rows = DeviceBuffer<Bf16>(std::size_t(send_cap) * h, "dispatch send buffer");
  b.send_expert = DeviceBuffer<std::int32_t>(std::size_t(send_cap * slots_), "dispatch metadata");
  b.send_weight = DeviceBuffer<float>(std::size_t(send_cap * slots_), "dispatch metadata");
  b.recv_rows = receive_buffer<Bf16>(std::size_t(recv_cap) * h, "dispatch receive buffer", opt_.transport);
  b.recv_expert =
      receive_buffer<std::int32_t>(std::size_t(recv_cap * slots_), "dispatch metadata", opt_.transport);
  b.recv_weight = receive_buffer<float>(std::size_t(recv_cap * slots_), "dispatch metadata", opt_.transport);
  b.back_rows = receive_buffer<Bf16>(std::size_t(send_cap) * h, "combine receive buffer", opt_.transport);
  b.y = DeviceBuffer<Bf16>(std::max<std::size_t>(std::size_t(tokens_) * h, 1), "output y");

  kernels::RecvView cap_view{b.recv_rows.get(), b.recv_expert.get(), b.recv_weight.get(), recv_cap, slots_};
  if (!opt_.comm_only) {
    b.expert_out = DeviceBuffer<Bf16>(std::size_t(recv_cap) * h, "expert output");
    const std::size_t wsz = std::size_t(local_experts) * f * h;
    b.gate = DeviceBuffer<Bf16>(wsz, "expert gate weights");
    b.up = DeviceBuffer<Bf16>(wsz, "expert up weights");
    b.down = DeviceBuffer<Bf16>(wsz, "expert down weights");
    const float sh = std::sqrt(3.0f / float(m.hidden)), sf = std::sqrt(3.0f / float(m.ffn));
    for (std::size_t e = 0; e < dev.size(); ++e) {
      if (dev[e] != r) continue;
      const std::size_t at = std::size_t(local[e]) * f * h;
      const std::uint64_t base = kExpertStream + 3 * std::uint64_t(e);
      fill_synthetic_bf16(b.gate.get() + at, f * h, opt_.seed, base + 0, 0, sh, s);
      fill_synthetic_bf16(b.up.get() + at, f * h, opt_.seed, base + 1, 0, sh, s);
      fill_synthetic_bf16(b.down.get() + at, f * h, opt_.seed, base + 2, 0, sf, s);
    }
    kernels::ExpertWeights w{b.gate.get(), b.up.get(), b.down.get(), local_experts, m.hidden, m.ffn};
    b.ffn_ws = DeviceBuffer<unsigned char>(
        std::max<std::size_t>(kernels::expert_ffn_workspace_bytes(cap_view, w), 1), "expert workspace");
    if (opt_.training) {
      b.d_gate = DeviceBuffer<float>(wsz, "weight gradients");
      b.d_up = DeviceBuffer<float>(wsz, "weight gradients");
      b.d_down = DeviceBuffer<float>(wsz, "weight gradients");
      b.bwd_ws = DeviceBuffer<unsigned char>(
          std::max<std::size_t>(kernels::expert_ffn_backward_workspace_bytes(cap_view, w), 1),
          "backward workspace");
    }
  }
  if (opt_.training) {
    b.dy = DeviceBuffer<Bf16>(std::max<std::size_t>(std::size_t(tokens_) * h, 1), "output gradient dy");
    fill_synthetic_bf16(b.dy.get(), std::size_t(tokens_) * h, opt_.seed, kGradStream,
                        std::uint64_t(first_token_) * h, 1.0f, s);
    b.dy_send = DeviceBuffer<Bf16>(std::size_t(send_cap) * h, "gradient send buffer");
    b.dy_recv = receive_buffer<Bf16>(std::size_t(recv_cap) * h, "gradient receive buffer", opt_.transport);
    b.d_rows = DeviceBuffer<Bf16>(std::size_t(recv_cap) * h, "input gradient rows");
    b.d_weight = DeviceBuffer<float>(std::size_t(recv_cap * slots_), "gate gradient rows");
    b.dx_back =
        receive_buffer<Bf16>(std::size_t(send_cap) * h, "input gradient receive buffer", opt_.transport);
    b.dw_back =
        receive_buffer<float>(std::size_t(send_cap * slots_), "gate gradient receive buffer", opt_.transport);
    b.dx = DeviceBuffer<Bf16>(std::max<std::size_t>(std::size_t(tokens_) * h, 1), "input gradient dx");
    b.d_weights = DeviceBuffer<float>(pairs, "gate weight gradients");
  }
  comm_.wait();

  const Transport tr = opt_.transport;
  const Communicator::Part counts{b.counts.get(), &counts_out_, b.counts.get(), &counts_in_};
  std::vector<Communicator::Part> dispatch = {
      {b.send_rows.get(), &rows_out_, b.recv_rows.get(), &rows_in_},
      {b.send_expert.get(), &meta_out_, b.recv_expert.get(), &meta_in_},
      {b.send_weight.get(), &meta_out_, b.recv_weight.get(), &meta_in_}};
  if (opt_.counts_sync) {
    counts_op_ = AllToAll(comm_, tr, opt_.p2p, {counts});
  } else {
    dispatch.push_back(counts);
  }
  dispatch_op_ = AllToAll(comm_, tr, opt_.p2p, dispatch);
  const Bf16* combine_src = opt_.comm_only ? b.recv_rows.get() : b.expert_out.get();
  combine_op_ = AllToAll(comm_, tr, opt_.p2p, {{combine_src, &rows_in_, b.back_rows.get(), &rows_out_}});
  if (opt_.training) {
    grad_dispatch_op_ =
        AllToAll(comm_, tr, opt_.p2p, {{b.dy_send.get(), &rows_out_, b.dy_recv.get(), &rows_in_}});
    std::vector<Communicator::Part> grad = {
        {opt_.comm_only ? b.dy_recv.get() : b.d_rows.get(), &rows_in_, b.dx_back.get(), &rows_out_}};
    if (!opt_.comm_only) grad.push_back({b.d_weight.get(), &meta_in_, b.dw_back.get(), &meta_out_});
    grad_combine_op_ = AllToAll(comm_, tr, opt_.p2p, grad);
  }
}

MoeLayerRank::~MoeLayerRank() { comm_.quiesce(); }

WireBytes MoeLayerRank::wire_bytes(Phase p) const {
  const int r = comm_.rank();
  auto remote = [&](const Exchange& e) {
    std::int64_t s = 0;
    for (std::size_t q = 0; q < e.bytes.size(); ++q)
      if (int(q) != r) s += std::int64_t(e.bytes[q]);
    return s;
  };
  const bool grads = opt_.training && !opt_.comm_only;
  switch (p) {
    case Phase::Counts:
      return {0, opt_.counts_sync ? remote(counts_out_) : 0};
    case Phase::Dispatch:
      return {remote(rows_out_), 2 * remote(meta_out_) + (opt_.counts_sync ? 0 : remote(counts_out_))};
    case Phase::Combine:
      return {remote(rows_in_), 0};
    case Phase::GradDispatch:
      return {remote(rows_out_), 0};
    case Phase::GradCombine:
      return {remote(rows_in_), grads ? remote(meta_in_) : 0};
    default:
      return {};
  }
}

void MoeLayerRank::poison_outputs() {
  const std::size_t n = std::size_t(tokens_) * std::size_t(opt_.model.hidden);
  poison_bf16(b_->y.get(), n, comm_.stream());
  if (opt_.training) {
    poison_bf16(b_->dx.get(), n, comm_.stream());
    OCCULT_CUDA(cudaMemsetAsync(b_->d_weights.get(), 0xFF, b_->d_weights.bytes(), comm_.stream()));
  }
}

void MoeLayerRank::check_counts() const {
  const int D = comm_.size(), r = comm_.rank();
  const auto& m = plan_.stages[0].rows;
  for (int p = 0; p < D; ++p) {
    const auto sent = b_->host_counts[std::size_t(p)];
    const auto got = p == r ? sent : b_->host_counts[std::size_t(D + p)];  // own block: not exchanged
    if (sent != m.at(r, p) || got != m.at(p, r)) {
      std::ostringstream os;
      os << "rank " << r << ": the GPU layout disagrees with the plan for peer " << p << ": sends " << sent
         << " rows (plan " << m.at(r, p) << "), receives " << got << " (plan " << m.at(p, r) << ")";
      throw GpuError(os.str());
    }
  }
}

void MoeLayerRank::verify_counts() const {
  if (!opt_.counts_sync) OCCULT_CUDA(cudaEventSynchronize(b_->counts_read));
  check_counts();
}

void MoeLayerRank::run(cudaEvent_t* ev) {
  const ModelConfig& m = opt_.model;
  const int D = comm_.size(), k = m.top_k, h = m.hidden;
  cudaStream_t s = comm_.stream();
  Buffers& b = *b_;
  int at = 0;
  auto mark = [&] {
    if (ev) OCCULT_CUDA(cudaEventRecord(ev[at], s));
    ++at;
  };
  kernels::RoutingView routing{b.experts.get(), b.weights.get(), tokens_, k};
  kernels::PlacementView place{b.device_of.get(), b.local_index.get(), m.experts, D};
  kernels::Layout layout{b.counts.get(), b.send_offsets.get(), b.pair_row.get(), b.pair_slot.get(),
                         b.row_token.get()};
  const kernels::ExpertWeights w{b.gate.get(), b.up.get(), b.down.get(), m.experts / D, h, m.ffn};
  const kernels::RecvView recv{b.recv_rows.get(), b.recv_expert.get(), b.recv_weight.get(), recv_total_,
                               slots_};
  const std::size_t counts_bytes = 2 * std::size_t(D) * sizeof(std::int32_t);

  // The previous run's read-back of the counts must finish before the layout rewrites them.
  OCCULT_CUDA(cudaStreamWaitEvent(s, b.counts_read, 0));
  mark();
  kernels::compute_layout(mode_, routing, place, layout, b.layout_ws.get(), s);
  mark();
  if (opt_.counts_sync) {
    // The receivers' sizes: one count per peer, exchanged and read back before NCCL can be told them.
    counts_op_.run();
    OCCULT_CUDA(cudaMemcpyAsync(b.host_counts, b.counts.get(), counts_bytes, cudaMemcpyDeviceToHost, s));
    comm_.wait();
    check_counts();
  }
  mark();
  kernels::pack_rows(mode_, b.x.get(), h, routing, place, layout,
                     {b.send_rows.get(), b.send_expert.get(), b.send_weight.get()}, s);
  mark();
  dispatch_op_.run();
  if (!opt_.counts_sync) {
    // (p2p: the next dispatch may rewrite these ints before this read; both writes come from the
    // same plan and an aligned int is never torn, so the check sees the same counts either way.)
    OCCULT_CUDA(cudaEventRecord(b.dispatched, s));
    OCCULT_CUDA(cudaStreamWaitEvent(b.aside, b.dispatched, 0));
    OCCULT_CUDA(
        cudaMemcpyAsync(b.host_counts, b.counts.get(), counts_bytes, cudaMemcpyDeviceToHost, b.aside));
    OCCULT_CUDA(cudaEventRecord(b.counts_read, b.aside));
  }
  mark();
  if (!opt_.comm_only) kernels::expert_ffn_forward(recv, w, b.expert_out.get(), b.ffn_ws.get(), s);
  mark();
  combine_op_.run();
  mark();
  kernels::unpack_reduce(b.back_rows.get(), h, tokens_, k, layout, b.y.get(), s);
  mark();
  if (!opt_.training) return;

  kernels::pack_rows_only(b.dy.get(), h, routing, layout, b.dy_send.get(), s);
  mark();
  grad_dispatch_op_.run();
  mark();
  if (!opt_.comm_only)
    kernels::expert_ffn_backward(
        recv, w, b.dy_recv.get(),
        {b.d_rows.get(), b.d_weight.get(), b.d_gate.get(), b.d_up.get(), b.d_down.get()}, b.bwd_ws.get(), s);
  mark();
  grad_combine_op_.run();
  mark();
  kernels::unpack_reduce(b.dx_back.get(), h, tokens_, k, layout, b.dx.get(), s);
  if (!opt_.comm_only)
    kernels::unpack_weight_grad(b.dw_back.get(), slots_, tokens_, k, layout, b.d_weights.get(), s);
  mark();
}

namespace {
template <class T>
std::vector<T> download(const DeviceBuffer<T>& d, std::size_t n) {
  std::vector<T> h(n);
  if (n) OCCULT_CUDA(cudaMemcpy(h.data(), d.get(), n * sizeof(T), cudaMemcpyDeviceToHost));
  return h;
}
}  // namespace

std::vector<std::uint16_t> MoeLayerRank::output() const {
  return download(b_->y, std::size_t(tokens_) * std::size_t(opt_.model.hidden));
}
std::vector<std::uint16_t> MoeLayerRank::input_grad() const {
  return opt_.training ? download(b_->dx, std::size_t(tokens_) * std::size_t(opt_.model.hidden))
                       : std::vector<std::uint16_t>{};
}
std::vector<float> MoeLayerRank::gate_weight_grad() const {
  return opt_.training && !opt_.comm_only ? download(b_->d_weights, std::size_t(tokens_ * opt_.model.top_k))
                                          : std::vector<float>{};
}

PlainExchange::PlainExchange(Communicator& comm, const CommPlan& plan, std::int64_t row_bytes) : comm_(comm) {
  const int r = comm.rank();
  out_ = Exchange::from_rows(plan_row(plan.stages[0].rows, r), std::size_t(row_bytes));
  in_ = Exchange::from_rows(plan_col(plan.stages[0].rows, r), std::size_t(row_bytes));
  send_ =
      device_alloc(std::max<std::size_t>(std::max(out_.total(), in_.total()), 1), "plain all-to-all buffer");
  recv_ =
      device_alloc(std::max<std::size_t>(std::max(out_.total(), in_.total()), 1), "plain all-to-all buffer");
  // Random bytes, not zeros: the transport should see real data.
  const std::size_t n = std::max(out_.total(), in_.total()) / 2;
  fill_synthetic_bf16(static_cast<std::uint16_t*>(send_), n, 7, kInputStream, 0, 1.0f, comm.stream());
  comm.wait();
}

PlainExchange::~PlainExchange() {
  comm_.quiesce();
  device_free(send_);
  device_free(recv_);
}

void PlainExchange::run(cudaEvent_t* ev) {
  cudaStream_t s = comm_.stream();
  OCCULT_CUDA(cudaEventRecord(ev[0], s));
  comm_.alltoallv({{send_, &out_, recv_, &in_}});
  OCCULT_CUDA(cudaEventRecord(ev[1], s));
  comm_.alltoallv({{recv_, &in_, send_, &out_}});
  OCCULT_CUDA(cudaEventRecord(ev[2], s));
}

WireBytes PlainExchange::wire_bytes() const {
  std::int64_t s = 0;
  for (std::size_t q = 0; q < out_.bytes.size(); ++q)
    if (int(q) != comm_.rank()) s += std::int64_t(out_.bytes[q]);
  return {s, 0};
}

}  // namespace occult::gpu
