#include "sim/engine/sg_backend.hpp"

#include <xbt/log.h>
#include <simgrid/kernel/Timer.hpp>
#include <simgrid/s4u.hpp>

#include <cstdint>
#include <stdexcept>

namespace sg4 = simgrid::s4u;

namespace occult {
namespace {
// Hosts only anchor flows (delays are kernel timers), so their speed is never used.
constexpr double kHostSpeed = 1e18;
}  // namespace

struct SgBackend::Impl {
  std::unique_ptr<sg4::Engine> engine;
  Routing routing;
  sg4::NetZone* zone = nullptr;
  std::vector<sg4::Host*> hosts;
  std::vector<sg4::Link*> links;
  std::vector<sg4::Host*> link_endpoint;  // LinkEndpoint routing: endpoint host of each link
  std::vector<sg4::Host*> endpoints;      // LinkEndpoint routing: add_endpoint's hosts
  sg4::Host* sink = nullptr;

  // The DAG is kept here and a SimGrid activity is only created once all its predecessors have finished:
  // SimGrid 3.32 registers every activity in its creating actor's list (here the maestro's) and removes
  // it with a full std::list scan when it finishes, so creating all of them up front costs O(n^2).
  // Zero-length delays and empty flows never reach SimGrid: they finish when their last predecessor
  // does, as a zero-length SimGrid activity would.
  enum class Kind : std::uint8_t { Flow, LinkFlow, EndpointFlow, Delay };
  struct Node {
    Kind kind = Kind::Delay;
    int a = -1, b = -1;  // hosts (Flow), link (LinkFlow), endpoints (EndpointFlow), host (Delay)
    double amount = 0;   // bytes, or seconds for a delay
    int pending = 0;     // predecessors not finished yet
    double start = -1, finish = -1;
    std::vector<int> succ;
    sg4::ActivityPtr act;  // while running
  };
  std::vector<Node> nodes;
  std::vector<int> ready;  // finished nodes whose successors are still to be released
  // Activities that finished: SimGrid still uses one after its completion signal, so it is dropped at the
  // next signal instead.
  std::vector<sg4::ActivityPtr> retired;
  bool draining = false;

  int add(Kind kind, int a, int b, double amount) {
    Node& n = nodes.emplace_back();
    n.kind = kind;
    n.a = a;
    n.b = b;
    n.amount = amount;
    return int(nodes.size()) - 1;
  }
  void launch(int id);
  void finished(int id, double when);
  void drain();
};

SgBackend::SgBackend(Routing routing) : impl_(std::make_unique<Impl>()) {
  int argc = 1;
  char name[] = "occult";
  char* argv[] = {name, nullptr};
  // SimGrid logs configuration changes at INFO level on stderr; the CLI's stderr is for progress only.
  xbt_log_control_set("root.thresh:critical");
  impl_->engine = std::make_unique<sg4::Engine>(&argc, argv);
  // CM02: plain max-min fair sharing of link bandwidth (no TCP correction factors), crosstraffic off so a
  // flow does not load the reverse direction (all our links are unidirectional), weight-S 0 so sharing
  // does not depend on a flow's latency, and no TCP window bound (RDMA/NVLink have none).
  sg4::Engine::set_config("network/model:CM02");
  sg4::Engine::set_config("network/crosstraffic:0");
  sg4::Engine::set_config("network/weight-S:0");
  sg4::Engine::set_config("network/TCP-gamma:0");
  impl_->routing = routing;
  impl_->zone =
      routing == Routing::PerHostPair ? sg4::create_full_zone("cluster") : sg4::create_star_zone("cluster");
  if (routing == Routing::LinkEndpoint) {
    impl_->sink = impl_->zone->create_host("sink", kHostSpeed)->seal();
    impl_->zone->add_route(nullptr, impl_->sink->get_netpoint(), nullptr, nullptr, {}, false);
  }
}

SgBackend::~SgBackend() = default;

int SgBackend::add_host(const std::string& name) {
  impl_->hosts.push_back(impl_->zone->create_host(name, kHostSpeed)->seal());
  return int(impl_->hosts.size()) - 1;
}

int SgBackend::add_link(const std::string& name, double bandwidth_Bps, double latency_s) {
  sg4::Link* l = impl_->zone->create_link(name, bandwidth_Bps)->set_latency(latency_s)->seal();
  impl_->links.push_back(l);
  if (impl_->routing == Routing::LinkEndpoint) {
    sg4::Host* h = impl_->zone->create_host("via:" + name, kHostSpeed)->seal();
    impl_->zone->add_route(h->get_netpoint(), nullptr, nullptr, nullptr, {sg4::LinkInRoute(l)}, false);
    impl_->link_endpoint.push_back(h);
  }
  return int(impl_->links.size()) - 1;
}

void SgBackend::add_route(int src, int dst, const std::vector<int>& links) {
  std::vector<sg4::LinkInRoute> r;
  r.reserve(links.size());
  for (int id : links) r.emplace_back(impl_->links[id]);
  impl_->zone->add_route(impl_->hosts[src]->get_netpoint(), impl_->hosts[dst]->get_netpoint(), nullptr,
                         nullptr, r, false);
}

void SgBackend::seal() {
  if (impl_->routing == Routing::PerHostPair) impl_->zone->seal();
}

int SgBackend::add_endpoint(const std::vector<int>& up, const std::vector<int>& down) {
  auto to_route = [&](const std::vector<int>& ids) {
    std::vector<sg4::LinkInRoute> r;
    r.reserve(ids.size());
    for (int id : ids) r.emplace_back(impl_->links[id]);
    return r;
  };
  sg4::Host* h = impl_->zone->create_host("ep" + std::to_string(impl_->endpoints.size()), kHostSpeed)->seal();
  impl_->zone->add_route(h->get_netpoint(), nullptr, nullptr, nullptr, to_route(up), false);
  impl_->zone->add_route(nullptr, h->get_netpoint(), nullptr, nullptr, to_route(down), false);
  impl_->endpoints.push_back(h);
  return int(impl_->endpoints.size()) - 1;
}

int SgBackend::flow(int src, int dst, double bytes) { return impl_->add(Impl::Kind::Flow, src, dst, bytes); }

int SgBackend::link_flow(int link, double bytes) { return impl_->add(Impl::Kind::LinkFlow, link, -1, bytes); }

int SgBackend::endpoint_flow(int from, int to, double bytes) {
  return impl_->add(Impl::Kind::EndpointFlow, from, to, bytes);
}

int SgBackend::delay(int host, double seconds) { return impl_->add(Impl::Kind::Delay, host, -1, seconds); }

void SgBackend::depends(int after, int before) {
  impl_->nodes[before].succ.push_back(after);
  ++impl_->nodes[after].pending;
}

void SgBackend::Impl::launch(int id) {
  Node& n = nodes[id];
  n.start = sg4::Engine::get_clock();
  const auto bytes = static_cast<std::uint64_t>(n.amount + 0.5);
  sg4::ActivityPtr act;
  switch (n.kind) {
    case Kind::Delay:
      // A kernel timer, not an Exec: no activity in the maestro's list (see above), no CPU model.
      if (n.amount > 0) {
        const double end = n.start + n.amount;
        simgrid::kernel::timer::Timer::set(end, [this, id, end] { finished(id, end); });
        return;
      }
      break;
    case Kind::Flow:
      if (bytes > 0) act = sg4::Comm::sendto_init(hosts[n.a], hosts[n.b])->set_payload_size(bytes);
      break;
    case Kind::LinkFlow:
      if (bytes > 0) act = sg4::Comm::sendto_init(link_endpoint[n.a], sink)->set_payload_size(bytes);
      break;
    case Kind::EndpointFlow:
      if (bytes > 0) act = sg4::Comm::sendto_init(endpoints[n.a], endpoints[n.b])->set_payload_size(bytes);
      break;
  }
  if (!act) {
    finished(id, n.start);
    return;
  }
  act->set_data(&n);
  n.act = act;
  act->vetoable_start();
}

void SgBackend::Impl::finished(int id, double when) {
  nodes[id].finish = when;
  if (!draining) retired.clear();
  if (nodes[id].act) retired.push_back(std::move(nodes[id].act));
  ready.push_back(id);
  drain();
}

// Releases successors; launching one may finish it at once (and re-enter through finished()), so the
// outermost call owns the loop.
void SgBackend::Impl::drain() {
  if (draining) return;
  draining = true;
  while (!ready.empty()) {
    const int id = ready.back();
    ready.pop_back();
    for (int s : nodes[id].succ)
      if (--nodes[s].pending == 0) launch(s);
  }
  draining = false;
}

double SgBackend::run() {
  Impl& m = *impl_;
  if (m.routing == Routing::LinkEndpoint) m.zone->seal();
  Impl* self = &m;
  sg4::Activity::on_completion_cb([self](const sg4::Activity& a) {
    auto* n = a.get_data<Impl::Node>();
    if (n == nullptr || a.get_state() != sg4::Activity::State::FINISHED) return;
    self->finished(int(n - self->nodes.data()), a.get_finish_time());
  });
  std::vector<int> roots;  // collected first: launching a root may make later nodes ready
  for (int id = 0; id < int(m.nodes.size()); ++id)
    if (m.nodes[id].pending == 0) roots.push_back(id);
  for (int id : roots) m.launch(id);
  m.engine->run();
  for (const auto& n : m.nodes)
    if (n.finish < 0)
      throw std::logic_error("simulation ended with an unfinished activity (dependency cycle?)");
  return sg4::Engine::get_clock();
}

double SgBackend::start_time(int a) const { return impl_->nodes[a].start; }
double SgBackend::finish_time(int a) const { return impl_->nodes[a].finish; }
std::size_t SgBackend::activities() const { return impl_->nodes.size(); }

}  // namespace occult
