#pragma once
// The only file that talks to SimGrid (3.32 s4u): platform creation, activity creation, dependencies and
// running. Everything above it works with plain integer handles, so a SimGrid API change stays here.
// SimGrid's engine is a process-wide singleton: construct at most one SgBackend per process (the engine
// runs each simulation in a forked child, see fork_run.hpp).
#include <memory>
#include <string>
#include <vector>

namespace occult {

class SgBackend {
 public:
  enum class Routing {
    PerHostPair,  // hosts talk over explicit per-pair routes (add_route)
    LinkEndpoint  // every link gets an endpoint host whose only route is that link (aggregated flows)
  };
  explicit SgBackend(Routing routing);
  ~SgBackend();
  SgBackend(const SgBackend&) = delete;
  SgBackend& operator=(const SgBackend&) = delete;

  // Platform (before seal()).
  int add_host(const std::string& name);
  int add_link(const std::string& name, double bandwidth_Bps, double latency_s);
  void add_route(int src_host, int dst_host, const std::vector<int>& links);  // PerHostPair only
  void seal();

  // Activities (after seal()). A flow moves bytes; a delay takes a fixed time on a host and never slows
  // other activities down (a join is a zero-length delay). The handles name nodes of a DAG kept here:
  // SimGrid activities are created only when their predecessors have finished, and zero-length ones
  // never reach SimGrid (see sg_backend.cpp for why), so dependencies cost O(1) each at any fan-out.
  int flow(int src_host, int dst_host, double bytes);  // PerHostPair
  int link_flow(int link, double bytes);               // LinkEndpoint: the bytes cross that one link
  // LinkEndpoint: an extra endpoint whose route as a sender is `up` and as a receiver is `down` (a star
  // zone: a flow from A to B crosses A's up links, then B's down links). Allowed until run(): in this
  // mode seal() is deferred to run(), because group flows (comm_step) create endpoints as they go.
  int add_endpoint(const std::vector<int>& up, const std::vector<int>& down);
  int endpoint_flow(int from_endpoint, int to_endpoint, double bytes);
  int delay(int host, double seconds);
  void depends(int after, int before);  // `after` starts once `before` has finished (no duplicates check)

  double run();  // starts everything, runs to completion, returns the simulated makespan
  double start_time(int activity) const;
  double finish_time(int activity) const;
  std::size_t activities() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace occult
