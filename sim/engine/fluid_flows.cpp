#include "sim/engine/fluid_flows.hpp"

#include <algorithm>
#include <cmath>
#include <queue>
#include <span>
#include <stdexcept>
#include <string>
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

// Event-driven processor-sharing classes under max-min sharing, over the layer's graph of nodes.
class FluidSolver {
 public:
  explicit FluidSolver(FluidChain& chain) : chain_(chain) {
    const std::size_t classes = chain.class_links.size();
    const std::size_t links = chain.capacity.size();
    std::vector<std::vector<Use>> uses(classes);
    for (std::size_t c = 0; c < classes; ++c)
      for (int l : chain.class_links[c]) uses[c].push_back({l, -1});
    std::unordered_map<long long, int> port_slot;  // (class, port) -> counter
    pair_port_.assign(chain.pairs.size(), -1);
    joined_.assign(chain.pairs.size(), 0.0);
    nodes_ = chain.nodes.size();
    devices_ = std::size_t(chain.devices);
    from_.assign(nodes_ * devices_, {});
    incoming_.assign(nodes_ * devices_, 0);
    succs_.assign(nodes_, {});
    waiting_.assign(nodes_ * devices_, 0);
    for (std::size_t n = 0; n < nodes_; ++n)
      for (int pred : chain.nodes[n].preds) {
        succs_[std::size_t(pred)].push_back(int(n));
        for (std::size_t d = 0; d < devices_; ++d) ++waiting_[slot(int(n), int(d))];
      }
    gate_at_.assign(nodes_ * devices_, 0.0);
    for (std::size_t p = 0; p < chain.pairs.size(); ++p) {
      const auto& fp = chain.pairs[p];
      from_[slot(fp.node, fp.source)].push_back(int(p));
      ++incoming_[slot(fp.node, fp.dest)];
      if (fp.port < 0) continue;
      const long long k = (long long)fp.cls * (long long)links + fp.port;
      auto [it, fresh] = port_slot.try_emplace(k, int(port_count_.size()));
      if (fresh) {
        port_count_.push_back(0);
        uses[std::size_t(fp.cls)].push_back({fp.port, it->second});
      }
      pair_port_[p] = it->second;
    }
    // Flat arrays (one per class, one per link): the solver walks them thousands of times.
    use_begin_.assign(classes + 1, 0);
    for (std::size_t c = 0; c < classes; ++c) {
      use_begin_[c + 1] = use_begin_[c] + uses[c].size();
      use_.insert(use_.end(), uses[c].begin(), uses[c].end());
    }
    user_begin_.assign(links + 1, 0);
    for (const auto& u : use_) ++user_begin_[std::size_t(u.link) + 1];
    for (std::size_t l = 0; l < links; ++l) user_begin_[l + 1] += user_begin_[l];
    user_.resize(use_.size());
    std::vector<std::size_t> fill(user_begin_.begin(), user_begin_.end() - 1);
    for (std::size_t c = 0; c < classes; ++c)
      for (std::size_t i = use_begin_[c]; i < use_begin_[c + 1]; ++i)
        user_[fill[std::size_t(use_[i].link)]++] = {int(c), int(i)};
    active_.assign(classes, 0);
    done_.assign(classes, 0);
    rate_.assign(classes, 0.0);
    progress_.assign(classes, 0.0);
    since_.assign(classes, 0.0);
    version_of_.assign(classes, 0);
    live_at_.assign(classes, -1);
    queue_.resize(classes);
    cap_.assign(links, 0.0);
    weight_.assign(links, 0.0);
    reached_.assign(nodes_ * devices_, 0);
    chain.gate.assign(nodes_, std::vector<double>(devices_, 0.0));
    chain.end.assign(nodes_, std::vector<double>(devices_, 0.0));
    if (chain.quantum > 0) {
      // The shortest exchange's natural length: the drain time of its busiest link.
      std::vector<std::unordered_map<int, double>> load(nodes_);
      for (const auto& fp : chain.pairs) {
        for (int l : chain.class_links[std::size_t(fp.cls)]) load[std::size_t(fp.node)][l] += fp.bytes;
        if (fp.port >= 0) load[std::size_t(fp.node)][fp.port] += fp.bytes;
      }
      double shortest = INFINITY;
      for (const auto& node : load) {
        double busiest = 0;
        for (const auto& [l, bytes] : node)
          busiest = std::max(busiest, bytes / chain.capacity[std::size_t(l)]);
        if (busiest > 0) shortest = std::min(shortest, busiest);
      }
      // Rounded down to a power of two and solved on a grid of absolute times, so that blocks on disjoint
      // links (block_split.hpp) that get the same quantum are solved at the same times, alone or together.
      if (shortest < INFINITY) quantum_ = std::exp2(std::floor(std::log2(chain.quantum * shortest)));
    }
  }

  void run() {
    for (std::size_t n = 0; n < nodes_; ++n)
      if (chain_.nodes[n].preds.empty())
        for (std::size_t d = 0; d < devices_; ++d) events_.push({0.0, seq_++, Event::Gate, int(n), int(d)});
    double t = 0;
    while (true) {
      const double t_event = events_.empty() ? INFINITY : events_.top().time;
      while (!finishes_.empty() && finishes_.top().version != version_of_[std::size_t(finishes_.top().cls)])
        finishes_.pop();
      const double t_finish = finishes_.empty() ? INFINITY : finishes_.top().time;
      const double t_next = std::min(t_event, t_finish);
      if (live_.empty()) pending_ = false;
      // Re-solve once everything due at t has been taken in: at once without a quantum, else at the first
      // grid point at or after the first change since the last solve.
      const double t_solve = !pending_      ? INFINITY
                             : quantum_ > 0 ? std::ceil(pending_since_ / quantum_) * quantum_
                                            : t;
      if (t_next > t && t_solve < t_next) {
        t = std::max(t, t_solve);
        solve(t);
        continue;
      }
      if (t_next == INFINITY) break;
      t = std::max(t, t_next);
      if (t_event <= t_finish) {
        while (!events_.empty() && events_.top().time <= t) {
          const Event e = events_.top();
          events_.pop();
          if (e.kind == Event::Gate)
            reach(e.node, e.index, t);
          else
            join(e.index, t);
        }
      } else {
        const int c = finishes_.top().cls;
        finishes_.pop();
        finish(std::size_t(c), t);
      }
    }
    // Every device must have ended every node; a pair stuck at rate 0 (a link without capacity) would
    // otherwise leave its receiver's times at 0, silently too short.
    for (std::size_t k = 0; k < waiting_.size(); ++k)
      if (waiting_[k] != 0 || incoming_[k] != 0)
        throw std::runtime_error("fluid flow model: node " + std::to_string(k / devices_) + " of device " +
                                 std::to_string(k % devices_) + " never ended (a route without bandwidth?)");
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
    int node, index;  // Gate: (node, device); Start: index = pair
    bool operator<(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
  };

  std::size_t slot(int node, int device) const { return std::size_t(node) * devices_ + std::size_t(device); }

  // A class's per-pair progress moves linearly between rate changes.
  double progress(std::size_t c, double t) const { return progress_[c] + rate_[c] * (t - since_[c]); }

  void set_rate(std::size_t c, double r, double t) {
    progress_[c] = progress(c, t);
    since_[c] = t;
    rate_[c] = r;
    schedule(c);
  }

  // Files the time the class's next pair ends under its current rate (older entries go stale).
  void schedule(std::size_t c) {
    ++version_of_[c];
    if (queue_[c].empty() || rate_[c] <= 0) return;
    const double left = std::max(0.0, queue_[c].top().target - progress_[c]);
    finishes_.push({since_[c] + left / rate_[c], int(c), version_of_[c]});
  }

  // The class's first pair has moved its bytes at t. A pair finishes when its class has progressed by
  // its bytes; the class's pairs that would finish within kBatch of the time they have been moving end
  // with it: fewer re-solves, each pair early by at most that share. Decided per class, so that classes
  // on disjoint links (independent blocks) come out the same whatever else is simulated.
  void finish(std::size_t c, double t) {
    progress_[c] = progress(c, t);
    since_[c] = t;
    auto& q = queue_[c];
    bool due = false;
    while (!q.empty()) {
      const double left = q.top().target - progress_[c];
      // Also done when what is left cannot move the clock any more (left / rate below t's resolution).
      const bool exact = left <= progress_[c] * 1e-12 + 1e-9 || (rate_[c] > 0 && t + left / rate_[c] <= t);
      if (due && !exact && !(left <= rate_[c] * kBatch * (t - joined_[std::size_t(q.top().pair)]))) break;
      due = true;
      const int p = q.top().pair;
      q.pop();
      leave(p, t);
      if (--active_[c] == 0) unlive(c);
    }
    schedule(c);
  }

  void unlive(std::size_t c) {
    const int at = live_at_[c];
    live_at_[std::size_t(live_.back())] = at;
    live_[std::size_t(at)] = live_.back();
    live_.pop_back();
    live_at_[c] = -1;
  }

  // Device `d` starts node `n` at `t`: an exchange's pairs start after their route latency.
  void reach(int n, int d, double t) {
    chain_.gate[std::size_t(n)][std::size_t(d)] = t;
    const FluidNode& node = chain_.nodes[std::size_t(n)];
    if (!node.exchange) {
      complete(n, d, t + node.duration[std::size_t(d)]);
      return;
    }
    reached_[slot(n, d)] = 1;
    for (int p : from_[slot(n, d)])
      events_.push({t + chain_.pairs[std::size_t(p)].latency, seq_++, Event::Start, n, p});
    if (incoming_[slot(n, d)] == 0) complete(n, d, least_end(n, d, t));
  }

  // An exchange ends no earlier than its own-block copies, which start with it.
  double least_end(int n, int d, double t) const {
    const auto& least = chain_.nodes[std::size_t(n)].duration;
    return least.empty() ? t : std::max(t, chain_.gate[std::size_t(n)][std::size_t(d)] + least[std::size_t(d)]);
  }

  // Device `d` ends node `n` at `t` (now, or later for compute): its successors may start.
  void complete(int n, int d, double t) {
    chain_.end[std::size_t(n)][std::size_t(d)] = t;
    for (int next : succs_[std::size_t(n)]) {
      const std::size_t k = slot(next, d);
      gate_at_[k] = std::max(gate_at_[k], t);
      if (--waiting_[k] == 0) events_.push({gate_at_[k], seq_++, Event::Gate, next, d});
    }
  }

  void join(int p, double t) {
    const auto& fp = chain_.pairs[std::size_t(p)];
    const auto c = std::size_t(fp.cls);
    const bool fresh = active_[c]++ == 0;
    if (fresh) {
      live_at_[c] = int(live_.size());
      live_.push_back(fp.cls);
    }
    if (pair_port_[std::size_t(p)] >= 0) ++port_count_[std::size_t(pair_port_[std::size_t(p)])];
    mark(t);
    if (fresh) set_rate(c, 0.0, t);  // no share until the next solve
    const double target = progress(c, t) + fp.bytes;
    const bool first = queue_[c].empty() || target < queue_[c].top().target;
    queue_[c].push({target, p});
    if (first) schedule(c);
    joined_[std::size_t(p)] = t;
  }

  void leave(int p, double t) {
    const auto& fp = chain_.pairs[std::size_t(p)];
    mark(t);
    if (pair_port_[std::size_t(p)] >= 0) --port_count_[std::size_t(pair_port_[std::size_t(p)])];
    const std::size_t k = slot(fp.node, fp.dest);
    if (--incoming_[k] == 0 && reached_[k]) complete(fp.node, fp.dest, least_end(fp.node, fp.dest, t));
  }

  void mark(double t) {
    if (!pending_) pending_since_ = t;
    pending_ = true;
  }

  double multiplicity(std::size_t c, const Use& u) const {
    return double(u.port < 0 ? active_[c] : port_count_[std::size_t(u.port)]);
  }

  // Progressive filling: every active pair's rate rises together; the link whose remaining capacity per
  // unfrozen pair is lowest freezes its classes at that rate, and so on (max-min fairness per pair).
  void solve(double t) {
    pending_ = false;
    touched_.clear();
    for (int c : live_) {
      const auto cc = std::size_t(c);
      done_[cc] = 0;
      for (const auto& u : uses(cc)) {
        const auto l = std::size_t(u.link);
        if (weight_[l] == 0 && cap_[l] == 0) {
          touched_.push_back(u.link);
          cap_[l] = chain_.capacity[l];
        }
        weight_[l] += multiplicity(cc, u);
      }
    }
    // A link's level (remaining capacity per unfrozen pair) only rises as classes freeze below it, so an
    // entry is refreshed when it comes up rather than at every change.
    using Level = std::pair<double, int>;  // (rate, link)
    std::priority_queue<Level, std::vector<Level>, std::greater<>> heap;
    auto level = [&](std::size_t l) { return std::max(0.0, cap_[l]) / weight_[l]; };
    for (int l : touched_)
      if (weight_[std::size_t(l)] > 0) heap.push({level(std::size_t(l)), l});
    while (!heap.empty()) {
      const auto [old, link] = heap.top();
      heap.pop();
      const auto l = std::size_t(link);
      if (weight_[l] <= 1e-9) continue;
      const double r = level(l);
      if (r > old) {
        heap.push({r, link});
        continue;
      }
      for (std::size_t k = user_begin_[l]; k < user_begin_[l + 1]; ++k) {
        const auto cc = std::size_t(user_[k].first);
        if (active_[cc] == 0 || done_[cc] || multiplicity(cc, use_[std::size_t(user_[k].second)]) == 0)
          continue;
        done_[cc] = 1;
        if (r != rate_[cc]) set_rate(cc, r, t);
        for (const auto& u : uses(cc)) {
          const auto l2 = std::size_t(u.link);
          const double m = multiplicity(cc, u);
          cap_[l2] -= r * m;
          weight_[l2] -= m;
        }
      }
      weight_[l] = 0;
    }
    // Drop the finish entries that rate changes left stale once they outnumber the live ones.
    if (finishes_.size() > 4 * live_.size() + 64) {
      std::priority_queue<Finish> fresh;
      for (int c : live_)
        if (rate_[std::size_t(c)] > 0 && !queue_[std::size_t(c)].empty()) {
          const auto cc = std::size_t(c);
          fresh.push({since_[cc] + std::max(0.0, queue_[cc].top().target - progress_[cc]) / rate_[cc], c,
                      version_of_[cc]});
        }
      finishes_ = std::move(fresh);
    }
    for (int l : touched_) {
      cap_[std::size_t(l)] = 0;
      weight_[std::size_t(l)] = 0;
    }
  }

  FluidChain& chain_;
  bool pending_ = false;                    // pairs started or ended since the last solve
  double pending_since_ = 0, quantum_ = 0;  // quantum_: seconds between solves (0: at every change)
  std::size_t nodes_ = 0, devices_ = 0;
  std::span<const Use> uses(std::size_t c) const {
    return {use_.data() + use_begin_[c], use_begin_[c + 1] - use_begin_[c]};
  }
  std::vector<Use> use_;                   // the links each class crosses, class by class
  std::vector<std::size_t> use_begin_;     // per class: its first entry in use_
  std::vector<std::pair<int, int>> user_;  // (class, index into use_) crossing each link, link by link
  std::vector<std::size_t> user_begin_;    // per link: its first entry in user_
  std::vector<int> pair_port_;             // per pair: its port counter, or -1
  std::vector<int> port_count_;            // per (class, port): active pairs
  std::vector<std::vector<int>> succs_;    // per node: the nodes that wait for it
  std::vector<int> waiting_;               // per (node, device): predecessors not ended
  std::vector<double> gate_at_;            // per (node, device): latest predecessor end
  std::vector<std::vector<int>> from_;     // per (node, device): pairs it sends
  std::vector<int> incoming_;              // per (node, device): pairs still to arrive
  std::vector<char> reached_;              // per (node, device): ready
  std::vector<int> active_;                // per class: active pairs
  std::vector<int> live_;                  // classes with active pairs
  std::vector<char> done_;
  std::vector<double> rate_, progress_;  // per class: rate of each of its pairs, bytes each moved by since_
  std::vector<std::priority_queue<Pending>> queue_;
  std::priority_queue<Event> events_;
  long long seq_ = 0;
  struct Finish {
    double time;
    int cls;
    long long version;
    bool operator<(const Finish& o) const { return time != o.time ? time > o.time : cls > o.cls; }
  };
  std::priority_queue<Finish> finishes_;  // per class with a rate: when its next pair ends
  std::vector<long long> version_of_;     // per class: the finish entry that is current
  std::vector<double> since_;             // per class: when progress_ was last brought up to date
  std::vector<int> live_at_;              // per class: its index in live_, or -1
  std::vector<double> joined_;            // per pair: when it started moving
  std::vector<double> cap_, weight_;      // per link, during solve()
  std::vector<int> touched_;
};

}  // namespace

std::size_t VectorHash::operator()(const std::vector<int>& v) const {
  std::size_t h = v.size();
  for (int x : v) h = h * 1000003u ^ std::size_t(unsigned(x));
  return h;
}

void FluidChain::solve() {
  FluidSolver(*this).run();
  solved = true;
}

int FluidChain::add_compute(std::vector<int> preds, std::vector<double> duration) {
  devices = int(duration.size());
  nodes.push_back({std::move(preds), std::move(duration), false});
  solved = false;
  return int(nodes.size()) - 1;
}

namespace {

// Bytes of one step per link (the port rule's drain times and the report's accounting).
struct StepBytes {
  std::vector<int> slot;  // per link: index into link_ids, or -1
  FluidLoad load;
};

StepBytes step_bytes(const NetworkGraph& net, const StepTraffic& t) {
  StepBytes out;
  out.slot.assign(net.links().size(), -1);
  std::vector<int> route;
  for_each_routed_pair(net, t, t.rows->size(), route, [&](int, int, double bytes, int) {
    bool seen[kLinkClasses] = {false, false, false};
    for (int l : route) {
      auto& k = out.slot[std::size_t(l)];
      if (k < 0) {
        k = int(out.load.link_ids.size());
        out.load.link_ids.push_back(l);
        out.load.bytes.emplace_back(1, 0.0);
      }
      out.load.bytes[std::size_t(k)][0] += bytes;
      seen[int(net.links()[std::size_t(l)].cls)] = true;
    }
    for (int c = 0; c < kLinkClasses; ++c)
      if (seen[c]) out.load.class_bytes[c] += bytes;
  });
  return out;
}

}  // namespace

int FluidChain::add_exchange(const NetworkGraph& net, const StepTraffic& t, double scale,
                             std::vector<int> preds) {
  const std::size_t links = net.links().size();
  if (capacity.empty()) {
    capacity.resize(links);
    for (std::size_t l = 0; l < links; ++l) capacity[l] = net.links()[l].bandwidth_Bps;
  }
  const int node = int(nodes.size());
  devices = t.rows->size();
  std::vector<double> least;
  if (t.local_s)
    for (double x : *t.local_s) least.push_back(x * scale);
  nodes.push_back({std::move(preds), std::move(least), true});
  solved = false;
  const StepBytes sb = step_bytes(net, t);
  auto drain = [&](int l) {
    return sb.load.bytes[std::size_t(sb.slot[std::size_t(l)])][0] / capacity[std::size_t(l)];
  };
  // Classes are shared with the graph's other exchanges: one route, one rate.
  std::vector<int> route;
  for_each_routed_pair(net, t, t.rows->size(), route, [&](int s, int d, double bytes, int) {
    double busiest = 0;
    for (std::size_t i = 1; i < route.size(); ++i) busiest = std::max(busiest, drain(route[i]));
    const bool split_port = route.size() > 1 && drain(route[0]) <= kPortSlack * busiest;
    std::vector<int> path(route.begin() + (split_port ? 1 : 0), route.end());
    auto [it, fresh] = class_index.try_emplace(std::move(path), int(class_links.size()));
    if (fresh) class_links.push_back(it->first);
    pairs.push_back(
        {s, d, it->second, node, split_port ? route[0] : -1, net.route_latency(route, t.messages), bytes * scale});
  });
  return node;
}

FluidLoad fluid_load(const NetworkGraph& net, const StepTraffic& t, const std::vector<double>& key) {
  FluidLoad out = step_bytes(net, t).load;
  out.ready_after = key;
  return out;
}

std::vector<int> fluid_step(SgBackend& sg, FluidChain& chain, int node, const std::vector<int>& gate) {
  if (!chain.solved) chain.solve();
  const auto& start = chain.gate[std::size_t(node)];
  const auto& end = chain.end[std::size_t(node)];
  std::vector<int> out(gate.size());
  for (std::size_t d = 0; d < gate.size(); ++d) {
    out[d] = sg.delay(int(d), std::max(0.0, end[d] - start[d]));
    sg.depends(out[d], gate[d]);
  }
  return out;
}

}  // namespace occult
