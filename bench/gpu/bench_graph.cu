// One GPU, the kernels of one MoE layer (layout, pack, expert FFN, unpack-reduce; training adds the
// combine backward's pack, the fused expert backward and the unpacks) captured in a CUDA graph for a
// fixed capacity, against the same kernels launched one by one. Nothing in this sequence reads back
// to the host (fused counts, BackwardPath::Fused), which is what makes it capturable. On one GPU the
// all-to-alls are the identity (every expert local), so the send buffers are the receive buffers.
//   occult_bench_gpu --benchmark_filter='^graph/' --benchmark_counters_tabular=true
// Counters (means over the iterations):
//   stream_us  one layer launched op by op, cudaEvent around it (host launch gaps included)
//   graph_us   one layer as one cudaGraphLaunch, cudaEvent around it; Time is this
//   kernels_us the sum over the layer's ops of each op's GPU time, each op measured as kRepeat
//              back-to-back copies in a graph of its own (so its launch cost is hidden) divided
//              by kRepeat: the "sum of the kernels' times"
//   graph_over_kernels, stream_over_kernels: the ratios.
#include <benchmark/benchmark.h>
#include <cuda_bf16.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/gpu/bench_gpu_util.cuh"
#include "kernels/expert_ffn_backward.hpp"
#include "kernels/moe_kernels.hpp"

namespace occult::kernels {
namespace {

using namespace occult::kernels::bench;

constexpr int kRepeat = 20;

struct Layer {
  std::int64_t tokens = 0;
  int k = 0, experts = 0;
  Shape shape{};
  std::vector<std::unique_ptr<DevicePtr<char>>> mem;
  template <class T>
  T* alloc(std::size_t n) {
    mem.push_back(std::make_unique<DevicePtr<char>>(std::max<std::size_t>(n, 1) * sizeof(T)));
    return reinterpret_cast<T*>(mem.back()->p);
  }
  template <class T>
  T* upload(const std::vector<T>& v) {
    T* p = alloc<T>(v.size());
    ok(cudaMemcpy(p, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice));
    return p;
  }
  Bf16* random(std::size_t n, float scale, unsigned seed) {
    Bf16* p = alloc<Bf16>(n);
    fill_bf16<<<1024, 256>>>(reinterpret_cast<__nv_bfloat16*>(p), n, scale, seed);
    ok(cudaGetLastError());
    return p;
  }

  RoutingView routing;
  PlacementView place;
  Layout layout;
  void* layout_ws = nullptr;
  SendBuffers send;
  ExpertWeights w;
  RecvView recv;
  const Bf16* x = nullptr;
  const Bf16* dy = nullptr;
  Bf16 *expert_out = nullptr, *y = nullptr, *dy_send = nullptr, *dx = nullptr;
  ExpertGrads grads;
  float* d_weights = nullptr;
  void *ffn_ws = nullptr, *bwd_ws = nullptr;
};

// Standard dispatch on one device: one row per (token, choice), every expert local; choice j of token t
// is expert (7 t + j E / k) % E (distinct within a token).
std::unique_ptr<Layer> make_layer(Shape s, std::int64_t tokens, int experts, int k) {
  auto l = std::make_unique<Layer>();
  l->tokens = tokens, l->k = k, l->experts = experts, l->shape = s;
  const std::size_t pairs = std::size_t(tokens) * std::size_t(k), h = std::size_t(s.hidden);
  std::vector<std::int32_t> ex(pairs), dev(static_cast<std::size_t>(experts), 0),
      local(static_cast<std::size_t>(experts));
  std::vector<float> wt(pairs, 1.0f / float(k));
  for (std::int64_t t = 0; t < tokens; ++t)
    for (int j = 0; j < k; ++j)
      ex[std::size_t(t * k + j)] = std::int32_t((7 * t + j * (experts / k)) % experts);
  for (int e = 0; e < experts; ++e) local[std::size_t(e)] = e;
  l->routing = RoutingView{l->upload(ex), l->upload(wt), tokens, k};
  l->place = PlacementView{l->upload(dev), l->upload(local), experts, 1};
  l->layout = Layout{l->alloc<std::int32_t>(1), l->alloc<std::int32_t>(2), l->alloc<std::int32_t>(pairs),
                     l->alloc<std::int32_t>(pairs), l->alloc<std::int32_t>(pairs)};
  l->layout_ws = l->alloc<char>(layout_workspace_bytes(tokens, 1));
  l->send = SendBuffers{l->alloc<Bf16>(pairs * h), l->alloc<std::int32_t>(pairs), l->alloc<float>(pairs)};
  const std::size_t fh = std::size_t(experts) * h * std::size_t(s.ffn);
  l->w = ExpertWeights{
      l->random(fh, 0.05f, 2), l->random(fh, 0.05f, 3), l->random(fh, 0.05f, 4), experts, s.hidden, s.ffn};
  l->recv = RecvView{l->send.rows, l->send.expert, l->send.weight, std::int64_t(pairs), 1};
  l->x = l->random(std::size_t(tokens) * h, 1.0f, 1);
  l->dy = l->random(std::size_t(tokens) * h, 1.0f, 5);
  l->expert_out = l->alloc<Bf16>(pairs * h);
  l->y = l->alloc<Bf16>(std::size_t(tokens) * h);
  l->dy_send = l->alloc<Bf16>(pairs * h);
  l->dx = l->alloc<Bf16>(std::size_t(tokens) * h);
  l->grads = ExpertGrads{l->alloc<Bf16>(pairs * h), l->alloc<float>(pairs), l->alloc<float>(fh),
                         l->alloc<float>(fh), l->alloc<float>(fh)};
  l->d_weights = l->alloc<float>(pairs);
  l->ffn_ws = l->alloc<char>(expert_ffn_workspace_bytes(l->recv, l->w));
  l->bwd_ws = l->alloc<char>(expert_ffn_backward_workspace_bytes(l->recv, l->w, BackwardPath::Fused));
  ok(cudaDeviceSynchronize());
  return l;
}

// The layer's ops in order, each a callable that enqueues on `s`.
std::vector<std::function<void(cudaStream_t)>> layer_ops(Layer& l, bool training) {
  std::vector<std::function<void(cudaStream_t)>> ops;
  const int h = l.shape.hidden;
  ops.push_back([&l](cudaStream_t s) {
    compute_layout(DispatchMode::Standard, l.routing, l.place, l.layout, l.layout_ws, s);
  });
  ops.push_back([&l, h](cudaStream_t s) {
    pack_rows(DispatchMode::Standard, l.x, h, l.routing, l.place, l.layout, l.send, s);
  });
  ops.push_back([&l](cudaStream_t s) { expert_ffn_forward(l.recv, l.w, l.expert_out, l.ffn_ws, s); });
  ops.push_back([&l, h](cudaStream_t s) { unpack_reduce(l.expert_out, h, l.tokens, l.k, l.layout, l.y, s); });
  if (!training) return ops;
  ops.push_back([&l, h](cudaStream_t s) { pack_rows_only(l.dy, h, l.routing, l.layout, l.dy_send, s); });
  ops.push_back([&l](cudaStream_t s) {
    expert_ffn_backward(nullptr, BackwardPath::Fused, l.recv, l.w, l.dy_send, l.grads, l.bwd_ws, s);
  });
  ops.push_back([&l, h](cudaStream_t s) {
    unpack_reduce(l.grads.d_rows, h, l.tokens, l.k, l.layout, l.dx, s);
    unpack_weight_grad(l.grads.d_weight, 1, l.tokens, l.k, l.layout, l.d_weights, s);
  });
  return ops;
}

class Graph {
 public:
  Graph(cudaStream_t s, const std::function<void()>& enqueue) {
    ok(cudaStreamBeginCapture(s, cudaStreamCaptureModeRelaxed));
    try {
      enqueue();
    } catch (...) {
      cudaGraph_t g = nullptr;
      cudaStreamEndCapture(s, &g);  // leave the stream usable; the capture is void anyway
      if (g) cudaGraphDestroy(g);
      throw;
    }
    ok(cudaStreamEndCapture(s, &graph_));
    ok(cudaGraphInstantiate(&exec_, graph_, 0));
  }
  ~Graph() {
    if (exec_) cudaGraphExecDestroy(exec_);
    if (graph_) cudaGraphDestroy(graph_);
  }
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  void launch(cudaStream_t s) const { ok(cudaGraphLaunch(exec_, s)); }

 private:
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

class StreamTimer {
 public:
  explicit StreamTimer(cudaStream_t s) : s_(s) {
    ok(cudaEventCreate(&a_));
    ok(cudaEventCreate(&b_));
  }
  ~StreamTimer() {
    cudaEventDestroy(a_);
    cudaEventDestroy(b_);
  }
  StreamTimer(const StreamTimer&) = delete;
  StreamTimer& operator=(const StreamTimer&) = delete;
  template <class F>
  double seconds(F&& run) {
    ok(cudaEventRecord(a_, s_));
    run();
    ok(cudaEventRecord(b_, s_));
    ok(cudaEventSynchronize(b_));
    float ms = 0;
    ok(cudaEventElapsedTime(&ms, a_, b_));
    return ms * 1e-3;
  }

 private:
  cudaStream_t s_;
  cudaEvent_t a_ = nullptr, b_ = nullptr;
};

void bm_graph(benchmark::State& state, Shape shape, std::int64_t tokens, int experts, int k, bool training) {
  cudaStream_t s = nullptr;
  ok(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  {
    const auto l = make_layer(shape, tokens, experts, k);
    const auto ops = layer_ops(*l, training);
    const auto eager = [&] {
      for (const auto& op : ops) op(s);
    };
    eager();  // warm-up: lazy module loading, function attributes
    ok(cudaStreamSynchronize(s));
    const Graph layer(s, eager);
    std::vector<std::unique_ptr<Graph>> op_graphs;
    for (const auto& op : ops)
      op_graphs.push_back(std::make_unique<Graph>(s, [&] {
        for (int i = 0; i < kRepeat; ++i) op(s);
      }));
    layer.launch(s);
    for (const auto& g : op_graphs) g->launch(s);
    ok(cudaStreamSynchronize(s));
    StreamTimer t(s);
    double stream = 0, graph = 0, kernels = 0;
    for (auto _ : state) {
      stream += t.seconds(eager);
      const double g = t.seconds([&] { layer.launch(s); });
      graph += g;
      for (const auto& og : op_graphs) kernels += t.seconds([&] { og->launch(s); }) / kRepeat;
      state.SetIterationTime(g);
    }
    const double n = double(state.iterations());
    state.counters["stream_us"] = stream / n * 1e6;
    state.counters["graph_us"] = graph / n * 1e6;
    state.counters["kernels_us"] = kernels / n * 1e6;
    state.counters["graph_over_kernels"] = graph / kernels;
    state.counters["stream_over_kernels"] = stream / kernels;
  }
  ok(cudaStreamDestroy(s));
}

void register_all() {
  const Shape& olmoe = kShapes[0];
  for (std::int64_t tokens : {128, 4096})
    for (bool training : {false, true}) {
      const std::string name = std::string("graph/") + olmoe.name + "/tokens:" + std::to_string(tokens) +
                               (training ? "/training" : "/forward");
      // OLMoE on one GPU: all 64 experts local, top-8.
      benchmark::RegisterBenchmark(name.c_str(), bm_graph, olmoe, tokens, 64, 8, training)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond)
          ->Iterations(50);
    }
}

const bool registered = (register_all(), true);

}  // namespace
}  // namespace occult::kernels
