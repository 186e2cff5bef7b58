#include "sim/engine/sg_backend.hpp"

#include <xbt/log.h>
#include <simgrid/s4u.hpp>

#include <stdexcept>

namespace sg4 = simgrid::s4u;

namespace occult {
namespace {
// Delays run as CPU work bounded to kRate on a host of speed kHostSpeed, so that any number of them can
// overlap on one host without slowing each other down.
constexpr double kRate = 1e9;
constexpr double kHostSpeed = 1e18;
}  // namespace

struct SgBackend::Impl {
  std::unique_ptr<sg4::Engine> engine;
  Routing routing;
  sg4::NetZone* zone = nullptr;
  std::vector<sg4::Host*> hosts;
  std::vector<sg4::Link*> links;
  std::vector<sg4::Host*> link_endpoint;  // LinkEndpoint routing: endpoint host of each link
  sg4::Host* sink = nullptr;
  std::vector<sg4::ActivityPtr> acts;
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

void SgBackend::seal() { impl_->zone->seal(); }

int SgBackend::flow(int src, int dst, double bytes) {
  auto c = sg4::Comm::sendto_init(impl_->hosts[src], impl_->hosts[dst]);
  c->set_payload_size(static_cast<std::uint64_t>(bytes + 0.5));
  impl_->acts.push_back(c);
  return int(impl_->acts.size()) - 1;
}

int SgBackend::link_flow(int link, double bytes) {
  auto c = sg4::Comm::sendto_init(impl_->link_endpoint[link], impl_->sink);
  c->set_payload_size(static_cast<std::uint64_t>(bytes + 0.5));
  impl_->acts.push_back(c);
  return int(impl_->acts.size()) - 1;
}

int SgBackend::delay(int host, double seconds) {
  auto e = sg4::Exec::init();
  e->set_host(impl_->hosts[host]);
  e->set_flops_amount(seconds > 0 ? seconds * kRate : 0.0);
  e->set_bound(kRate);
  impl_->acts.push_back(e);
  return int(impl_->acts.size()) - 1;
}

void SgBackend::depends(int after, int before) {
  // add_successor is only public on the typed activity classes.
  sg4::Activity* b = impl_->acts[before].get();
  if (auto* c = dynamic_cast<sg4::Comm*>(b))
    c->add_successor(impl_->acts[after]);
  else
    static_cast<sg4::Exec*>(b)->add_successor(impl_->acts[after]);
}

double SgBackend::run() {
  for (auto& a : impl_->acts) a->vetoable_start();
  impl_->engine->run();
  for (auto& a : impl_->acts)
    if (a->get_state() != sg4::Activity::State::FINISHED)
      throw std::logic_error("simulation ended with an unfinished activity (dependency cycle?)");
  return sg4::Engine::get_clock();
}

double SgBackend::start_time(int a) const { return impl_->acts[a]->get_start_time(); }
double SgBackend::finish_time(int a) const { return impl_->acts[a]->get_finish_time(); }
std::size_t SgBackend::activities() const { return impl_->acts.size(); }

}  // namespace occult
