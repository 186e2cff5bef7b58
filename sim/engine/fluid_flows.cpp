#include "sim/engine/fluid_flows.hpp"

#include <algorithm>
#include <cmath>
#include <queue>
#include <unordered_map>

namespace occult {
namespace {

// A source's port joins the class route (one class per source) unless it drains in at most this share
// of the time of the route's busiest other link: then it rarely binds, and leaving it out merges the
// node's senders (as flow_groups.cpp does for the grouped model).
constexpr double kPortSlack = 0.3;
// A pair that would finish within this share of the time it has been moving finishes with the current
// event: fewer re-solves; each pair ends early by at most this share of its own transfer time.
constexpr double kBatch = 1e-4;

// Event-driven processor-sharing classes under max-min sharing, over a chain of steps.
class FluidSolver {
 public:
  FluidSolver(FluidChain& chain, double scale) : chain_(chain), scale_(scale) {
    const std::size_t classes = chain.class_links.size();
    const std::size_t links = chain.capacity.size();
    uses_.resize(classes);
    for (std::size_t c = 0; c < classes; ++c)
      for (int l : chain.class_links[c]) uses_[c].push_back({l, -1});
    std::unordered_map<long long, int> port_slot;  // (class, port) -> counter
    pair_port_.assign(chain.pairs.size(), -1);
    joined_.assign(chain.pairs.size(), 0.0);
    steps_ = chain.ready.size();
    devices_ = steps_ == 0 ? 0 : chain.ready[0].size();
    from_.assign(steps_ * devices_, {});
    incoming_.assign(steps_ * devices_, 0);
    for (std::size_t p = 0; p < chain.pairs.size(); ++p) {
      const auto& fp = chain.pairs[p];
      from_[slot(fp.step, fp.source)].push_back(int(p));
      ++incoming_[slot(fp.step, fp.dest)];
      if (fp.port < 0) continue;
      const long long k = (long long)fp.cls * (long long)links + fp.port;
      auto [it, fresh] = port_slot.try_emplace(k, int(port_count_.size()));
      if (fresh) {
        port_count_.push_back(0);
        uses_[std::size_t(fp.cls)].push_back({fp.port, it->second});
      }
      pair_port_[p] = it->second;
    }
    users_.resize(links);
    for (std::size_t c = 0; c < classes; ++c)
      for (std::size_t i = 0; i < uses_[c].size(); ++i)
        users_[std::size_t(uses_[c][i].link)].push_back({int(c), int(i)});
    active_.assign(classes, 0);
    done_.assign(classes, 0);
    rate_.assign(classes, 0.0);
    progress_.assign(classes, 0.0);
    queue_.resize(classes);
    cap_.assign(links, 0.0);
    weight_.assign(links, 0.0);
    version_.assign(links, 0);
    reached_.assign(steps_ * devices_, 0);
    chain.gate.assign(steps_, std::vector<double>(devices_, 0.0));
    chain.end.assign(steps_, std::vector<double>(devices_, 0.0));
  }

  void run() {
    for (std::size_t d = 0; d < devices_; ++d)
      if (steps_ > 0) events_.push({chain_.ready[0][d], seq_++, Event::Gate, 0, int(d)});
    double t = 0;
    while (true) {
      while (!events_.empty() && events_.top().time <= t) {
        const Event e = events_.top();
        events_.pop();
        now_ = e.time;
        if (e.kind == Event::Gate)
          reach(e.step, e.index, e.time);
        else
          join(e.index);
      }
      if (!live_.empty()) solve();
      double t_next = events_.empty() ? INFINITY : events_.top().time;
      for (int c : live_) {
        const auto cc = std::size_t(c);
        t_next = std::min(t_next, t + (queue_[cc].top().target - progress_[cc]) / rate_[cc]);
      }
      if (t_next == INFINITY) break;
      const double dt = std::max(0.0, t_next - t);
      t = std::max(t, t_next);
      std::size_t kept = 0;
      for (int c : live_) {
        const auto cc = std::size_t(c);
        progress_[cc] += rate_[cc] * dt;
        auto& q = queue_[cc];
        // A pair finishes when its class has progressed by its bytes. When one does, the class's pairs
        // that would finish within kBatch of the time they have been moving end with it: fewer
        // re-solves, each pair early by at most that share. Decided per class, so that classes on
        // disjoint links (independent blocks) come out the same whatever else is simulated.
        bool due = false;
        while (!q.empty()) {
          const double left = q.top().target - progress_[cc];
          // Also done when what is left cannot move the clock any more (left / rate below t's
          // resolution): the next step would be dt = 0 and the loop would never end.
          const bool exact = left <= progress_[cc] * 1e-12 + 1e-9 || t + left / rate_[cc] <= t;
          if (!exact && !(due && left <= rate_[cc] * kBatch * (t - joined_[std::size_t(q.top().pair)])))
            break;
          due = true;
          const int p = q.top().pair;
          q.pop();
          leave(p, t);
          --active_[cc];
        }
        if (active_[cc] > 0) live_[kept++] = c;
      }
      live_.resize(kept);
    }
  }

 private:
  struct Use {
    int link;
    int port;  // -1: every active pair of the class crosses the link; else index into port_count_
  };
  struct Pending {
    double target;  // class progress at which the pair has moved its bytes
    int pair;
    bool operator<(const Pending& o) const { return target > o.target; }  // min-heap
  };
  struct Event {
    enum Kind { Gate, Start };
    double time;
    long long seq;  // ties in creation order: deterministic
    Kind kind;
    int step, index;  // Gate: (step, device); Start: index = pair
    bool operator<(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
  };

  std::size_t slot(int step, int device) const { return std::size_t(step) * devices_ + std::size_t(device); }

  // Device `d` is ready for `step` at `t`: its pairs start after their route latency.
  void reach(int step, int d, double t) {
    chain_.gate[std::size_t(step)][std::size_t(d)] = t;
    reached_[slot(step, d)] = 1;
    for (int p : from_[slot(step, d)])
      events_.push({t + chain_.pairs[std::size_t(p)].latency, seq_++, Event::Start, step, p});
    if (incoming_[slot(step, d)] == 0) complete(step, d, t);
  }

  void complete(int step, int d, double t) {
    chain_.end[std::size_t(step)][std::size_t(d)] = t;
    if (std::size_t(step) + 1 < steps_)
      events_.push(
          {t + chain_.ready[std::size_t(step) + 1][std::size_t(d)], seq_++, Event::Gate, step + 1, d});
  }

  void join(int p) {
    const auto& fp = chain_.pairs[std::size_t(p)];
    const auto c = std::size_t(fp.cls);
    if (active_[c]++ == 0) live_.push_back(fp.cls);
    if (pair_port_[std::size_t(p)] >= 0) ++port_count_[std::size_t(pair_port_[std::size_t(p)])];
    queue_[c].push({progress_[c] + fp.bytes * scale_, p});
    joined_[std::size_t(p)] = now_;
  }

  void leave(int p, double t) {
    const auto& fp = chain_.pairs[std::size_t(p)];
    if (pair_port_[std::size_t(p)] >= 0) --port_count_[std::size_t(pair_port_[std::size_t(p)])];
    const std::size_t k = slot(fp.step, fp.dest);
    if (--incoming_[k] == 0 && reached_[k]) complete(fp.step, fp.dest, t);
  }

  double multiplicity(std::size_t c, const Use& u) const {
    return double(u.port < 0 ? active_[c] : port_count_[std::size_t(u.port)]);
  }

  // Progressive filling: every active pair's rate rises together; the link whose remaining capacity per
  // unfrozen pair is lowest freezes its classes at that rate, and so on (max-min fairness per pair).
  void solve() {
    touched_.clear();
    for (int c : live_) {
      const auto cc = std::size_t(c);
      done_[cc] = 0;
      for (const auto& u : uses_[cc]) {
        const auto l = std::size_t(u.link);
        if (weight_[l] == 0 && cap_[l] == 0) {
          touched_.push_back(u.link);
          cap_[l] = chain_.capacity[l];
        }
        weight_[l] += multiplicity(cc, u);
      }
    }
    using Level = std::pair<double, std::pair<int, int>>;  // (rate, (link, version))
    std::priority_queue<Level, std::vector<Level>, std::greater<>> heap;
    for (int l : touched_)
      if (weight_[std::size_t(l)] > 0)
        heap.push({cap_[std::size_t(l)] / weight_[std::size_t(l)], {l, version_[std::size_t(l)]}});
    while (!heap.empty()) {
      const auto [level, lv] = heap.top();
      heap.pop();
      const auto l = std::size_t(lv.first);
      if (lv.second != version_[l] || weight_[l] <= 0) continue;
      const double r = std::max(0.0, level);
      for (const auto& [c, use] : users_[l]) {
        const auto cc = std::size_t(c);
        if (active_[cc] == 0 || done_[cc] || multiplicity(cc, uses_[cc][std::size_t(use)]) == 0) continue;
        done_[cc] = 1;
        rate_[cc] = r;
        for (const auto& u : uses_[cc]) {
          const auto l2 = std::size_t(u.link);
          const double m = multiplicity(cc, u);
          cap_[l2] -= r * m;
          weight_[l2] -= m;
          if (l2 != l && weight_[l2] > 1e-9)
            heap.push({std::max(0.0, cap_[l2]) / weight_[l2], {u.link, ++version_[l2]}});
        }
      }
      weight_[l] = 0;
    }
    for (int l : touched_) {
      cap_[std::size_t(l)] = 0;
      weight_[std::size_t(l)] = 0;
    }
  }

  FluidChain& chain_;
  double scale_;
  std::size_t steps_ = 0, devices_ = 0;
  std::vector<std::vector<Use>> uses_;                   // per class
  std::vector<std::vector<std::pair<int, int>>> users_;  // per link: (class, its use) that cross it
  std::vector<int> pair_port_;                           // per pair: its port counter, or -1
  std::vector<int> port_count_;                          // per (class, port): active pairs
  std::vector<std::vector<int>> from_;                   // per (step, device): pairs it sends
  std::vector<int> incoming_;                            // per (step, device): pairs still to arrive
  std::vector<char> reached_;                            // per (step, device): ready
  std::vector<int> active_;                              // per class: active pairs
  std::vector<int> live_;                                // classes with active pairs
  std::vector<char> done_;
  std::vector<double> rate_, progress_;  // per class: rate of each of its pairs, bytes moved by each
  std::vector<std::priority_queue<Pending>> queue_;
  std::priority_queue<Event> events_;
  long long seq_ = 0;
  double now_ = 0;
  std::vector<double> joined_;        // per pair: when it started moving
  std::vector<double> cap_, weight_;  // per link, during solve()
  std::vector<int> version_;
  std::vector<int> touched_;
};

}  // namespace

std::size_t VectorHash::operator()(const std::vector<int>& v) const {
  std::size_t h = v.size();
  for (int x : v) h = h * 1000003u ^ std::size_t(unsigned(x));
  return h;
}

void FluidChain::solve(double bytes_scale) {
  FluidSolver(*this, bytes_scale).run();
  solved_steps = ready.size();
}

FluidLoad fluid_load(const NetworkGraph& net, const StepTraffic& t, const std::vector<double>& key,
                     const std::shared_ptr<FluidChain>& shared) {
  const int n = t.rows->size();
  FluidLoad out;
  out.chain = shared ? shared : std::make_shared<FluidChain>();
  FluidChain& chain = *out.chain;
  const std::size_t links = net.links().size();
  if (chain.capacity.empty()) {
    chain.capacity.resize(links);
    for (std::size_t l = 0; l < links; ++l) chain.capacity[l] = net.links()[l].bandwidth_Bps;
  }
  // A chain built ahead (layer_dag builds the whole layer's chain before any activity): reuse its step.
  const bool reuse = shared && chain.cursor < chain.ready.size();
  out.step = reuse ? int(chain.cursor) : int(chain.ready.size());
  ++chain.cursor;
  // The keys only carry the compute between steps here: a step's key minus the previous one's.
  out.ready_after = key;
  if (!reuse) {
    std::vector<double> after = key;
    if (out.step > 0)
      for (std::size_t d = 0; d < key.size(); ++d) after[d] = std::max(0.0, key[d] - chain.last_key[d]);
    chain.ready.push_back(std::move(after));
    chain.last_key = key;
  }
  std::vector<int> slot(links, -1);
  std::vector<int> route;
  auto for_each_pair = [&](auto&& fn) {
    for_each_routed_pair(net, t, n, route, [&](int s, int d, double bytes, int) { fn(s, d, bytes); });
  };
  // Pass 1: bytes per link (accounting, and the port rule's drain times).
  for_each_pair([&](int, int, double bytes) {
    bool seen[kLinkClasses] = {false, false, false};
    for (int l : route) {
      if (slot[std::size_t(l)] < 0) {
        slot[std::size_t(l)] = int(out.link_ids.size());
        out.link_ids.push_back(l);
        out.bytes.emplace_back(1, 0.0);
      }
      out.bytes[std::size_t(slot[std::size_t(l)])][0] += bytes;
      seen[int(net.links()[std::size_t(l)].cls)] = true;
    }
    for (int c = 0; c < kLinkClasses; ++c)
      if (seen[c]) out.class_bytes[c] += bytes;
  });
  auto drain = [&](int l) {
    return out.bytes[std::size_t(slot[std::size_t(l)])][0] / chain.capacity[std::size_t(l)];
  };
  if (reuse) return out;
  // Pass 2: classes (shared with the chain's earlier steps: one route, one rate).
  for_each_pair([&](int s, int d, double bytes) {
    double busiest = 0;
    for (std::size_t i = 1; i < route.size(); ++i) busiest = std::max(busiest, drain(route[i]));
    const bool split_port = route.size() > 1 && drain(route[0]) <= kPortSlack * busiest;
    std::vector<int> path(route.begin() + (split_port ? 1 : 0), route.end());
    auto [it, fresh] = chain.class_index.try_emplace(std::move(path), int(chain.class_links.size()));
    if (fresh) chain.class_links.push_back(it->first);
    chain.pairs.push_back(
        {s, d, it->second, out.step, split_port ? route[0] : -1, net.route_latency(route), bytes});
  });
  return out;
}

std::vector<int> fluid_step(SgBackend& sg, const FluidLoad& load, double scale,
                            const std::vector<int>& gate) {
  FluidChain& chain = *load.chain;
  if (chain.solved_steps < chain.ready.size()) chain.solve();
  std::vector<double> start = chain.gate[std::size_t(load.step)], end = chain.end[std::size_t(load.step)];
  if (scale != 1.0) {
    FluidChain scaled = chain;
    scaled.solve(scale);
    start = scaled.gate[std::size_t(load.step)];
    end = scaled.end[std::size_t(load.step)];
  }
  // The solution's receive time, counted from the device's own readiness in SimGrid.
  std::vector<int> out(gate.size());
  for (std::size_t d = 0; d < gate.size(); ++d) {
    out[d] = sg.delay(int(d), std::max(0.0, end[d] - start[d]));
    sg.depends(out[d], gate[d]);
  }
  return out;
}

}  // namespace occult
