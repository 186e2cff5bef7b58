#include "sim/engine/fluid_solver.hpp"

#include <algorithm>
#include <cmath>
#include <queue>
#include <stdexcept>
#include <string>

namespace occult {
namespace {

// A pair that would finish within this share of the time it has been moving finishes with the current
// event: fewer re-solves; each pair ends early by at most this share of its own transfer time.
constexpr double kBatch = 1e-4;

class FluidSolver {
 public:
  explicit FluidSolver(FluidChain& chain);
  void run();

 private:
  struct Use {
    int link;
    int port;  // -1: every active pair of the class crosses the link; else index into port_count_
  };
  struct Pending {
    double target;  // class progress at which the pair has moved its bytes
    int pair;
  };
  struct Event {
    enum Kind { Gate, Start };
    double time;
    long long seq;  // ties in creation order: deterministic
    Kind kind;
    int node, index;  // Gate: (node, device); Start: index = pair
    bool operator<(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
  };
  struct Finish {  // when the first class of a link's group has its next pair done
    double time;
    int link;
    long long version;
    bool operator<(const Finish& o) const { return time != o.time ? time > o.time : link > o.link; }
  };

  // --- the graph of nodes ---
  std::size_t slot(int node, int device) const { return std::size_t(node) * devices_ + std::size_t(device); }
  void reach(int n, int d, double t);
  double least_end(int n, int d, double t) const;
  void complete(int n, int d, double t);

  // --- classes and links ---
  std::span<const Use> uses(int c) const {
    const auto k = std::size_t(c);
    return {use_.data() + cls_[k].use_begin, cls_[k + 1].use_begin - cls_[k].use_begin};
  }
  double mult(int c, const Use& u) const {
    return double(u.port < 0 ? cls_[std::size_t(c)].active : port_count_[std::size_t(u.port)]);
  }
  // A link's virtual clock: the bytes each pair of its group has moved since the last solve.
  double vnow(int l, double t) const {
    const auto k = std::size_t(l);
    return V_[k] + lam_[k] * (t - vt_[k]);
  }
  void advance(int l, double t) {
    V_[std::size_t(l)] = vnow(l, t);
    vt_[std::size_t(l)] = t;
  }
  double progress(int c, double t) const {
    const auto k = std::size_t(c);
    return cls_[k].bott < 0 ? cls_[k].base : cls_[k].base + vnow(cls_[k].bott, t) - cls_[k].vb;
  }
  void set_lambda(int l) {
    const auto k = std::size_t(l);
    lam_[k] = N_[k] > 0 ? std::max(0.0, cap_[k] - O_[k]) / N_[k] : 0.0;
  }
  void reschedule(int l);
  void change(int c, int port, int delta, double t);
  void rehome(int c, double t);
  double offer(int c, const Use& u) const;
  void join(int p, double t);
  void leave(int p, double t);
  void finish(int l, double t);
  bool solve_due(double t) const;
  void solve(double t);

  // --- per class: a min-heap of its pairs by target, flat in pool_ ---
  bool pair_less(const Pending& a, const Pending& b) const {
    return a.target != b.target ? a.target < b.target : a.pair < b.pair;
  }
  const Pending& top_pair(int c) const { return pool_[cls_[std::size_t(c)].heap_begin]; }
  void push_pair(int c, Pending e);
  void pop_pair(int c);
  double key_of(int c) const {
    return cls_[std::size_t(c)].vb + top_pair(c).target - cls_[std::size_t(c)].base;
  }

  // --- per link: an indexed min-heap of its group's classes by key_ ---
  bool class_less(int a, int b) const {
    return cls_[std::size_t(a)].key != cls_[std::size_t(b)].key
               ? cls_[std::size_t(a)].key < cls_[std::size_t(b)].key
               : a < b;
  }
  void sift_up(std::vector<int>& h, std::size_t i);
  void sift_down(std::vector<int>& h, std::size_t i);
  void group_add(int l, int c);
  void group_remove(int l, int c);
  void group_fix(int l, int c);

  FluidChain& chain_;
  std::size_t nodes_ = 0, devices_ = 0;

  std::vector<std::vector<int>> succs_;  // per node: the nodes that wait for it
  std::vector<int> waiting_;             // per (node, device): predecessors not ended
  std::vector<double> gate_at_;          // per (node, device): latest predecessor end
  std::vector<std::size_t> from_begin_;  // per (node, device): its pairs in from_
  std::vector<int> from_;
  std::vector<int> incoming_;  // per (node, device): pairs still to arrive
  std::vector<char> reached_;  // per (node, device): started

  // Per class, in one cache line: a solve walks thousands of classes in no particular order.
  struct Class {
    std::size_t use_begin = 0;   // its first entry in use_ (the next class's is its end)
    std::size_t heap_begin = 0;  // its pairs' heap in pool_
    // Progress (bytes per pair) `base` when its bottleneck's clock read `vb`; the rate its other links
    // are charged at (`rec`); its key in its group's heap (vb + next target - base).
    double base = 0, vb = 0, rec = 0, key = 0;
    int active = 0;     // active pairs
    int bott = -1;      // the link whose group it is in (during a solve: -1 until frozen)
    int hpos = -1;      // position in its group's heap
    int heap_size = 0;  // pairs in its heap
  };
  std::vector<Class> cls_;       // one more than there are classes (its use_begin ends the last one's)
  std::vector<Use> use_;         // the links each class crosses, class by class
  std::vector<int> pair_port_;   // per pair: its port counter, or -1
  std::vector<int> port_count_;  // per (class, port): active pairs
  std::vector<double> joined_;   // per pair: when it started moving
  std::vector<Pending> pool_;

  std::vector<int> live_;     // classes with active pairs
  std::vector<int> live_at_;  // per class: its index in live_, or -1

  // Per link: capacity; what classes of other groups take (O_); active pairs of its group (N_); the
  // group's per-pair rate lam_ = (cap_ - O_) / N_; its virtual clock V_ (at vt_); its group's heap.
  std::vector<double> cap_, O_, N_, lam_, V_, vt_;
  std::vector<long long> ver_;
  std::vector<std::vector<int>> group_;
  std::vector<int> dirty_;  // links whose state changed since the last solve
  std::vector<char> is_dirty_;

  std::priority_queue<Event> events_;
  long long seq_ = 0;
  std::priority_queue<Finish> finishes_;
  long long changes_ = 0, live_pairs_ = 0;  // pair starts and ends since the last solve; active pairs
  bool forced_ = false;                     // a group has no capacity left: re-solve when time moves
  double last_solve_ = -1;

  // Solve scratch, per link and per class.
  std::vector<double> rem_, weight_;
  std::vector<int> inc_count_, touched_;
  std::vector<std::size_t> inc_begin_;
  std::vector<std::pair<int, int>> inc_;  // (class, use index) live on each link, link by link
};

FluidSolver::FluidSolver(FluidChain& chain) : chain_(chain) {
  const std::size_t classes = chain.classes();
  const std::size_t links = chain.capacity.size();
  const std::size_t pairs = chain.pairs.size();
  nodes_ = chain.nodes.size();
  devices_ = std::size_t(chain.devices);

  // Graph.
  succs_.assign(nodes_, {});
  waiting_.assign(nodes_ * devices_, 0);
  for (std::size_t n = 0; n < nodes_; ++n)
    for (int pred : chain.nodes[n].preds) {
      succs_[std::size_t(pred)].push_back(int(n));
      for (std::size_t d = 0; d < devices_; ++d) ++waiting_[slot(int(n), int(d))];
    }
  gate_at_.assign(nodes_ * devices_, 0.0);
  incoming_.assign(nodes_ * devices_, 0);
  reached_.assign(nodes_ * devices_, 0);
  from_begin_.assign(nodes_ * devices_ + 1, 0);
  for (const auto& fp : chain.pairs) {
    ++from_begin_[slot(fp.node, fp.source) + 1];
    ++incoming_[slot(fp.node, fp.dest)];
  }
  for (std::size_t k = 0; k < nodes_ * devices_; ++k) from_begin_[k + 1] += from_begin_[k];
  from_.resize(pairs);
  {
    std::vector<std::size_t> fill(from_begin_.begin(), from_begin_.end() - 1);
    for (std::size_t p = 0; p < pairs; ++p) {
      const auto& fp = chain.pairs[p];
      from_[fill[slot(fp.node, fp.source)]++] = int(p);
    }
  }

  // Ports: one counter per (class, port link) that some pair uses, found by sorting the keys.
  std::vector<long long> port_keys;
  for (const auto& fp : chain.pairs)
    if (fp.port >= 0) port_keys.push_back((long long)fp.cls * (long long)links + fp.port);
  std::sort(port_keys.begin(), port_keys.end());
  port_keys.erase(std::unique(port_keys.begin(), port_keys.end()), port_keys.end());
  port_count_.assign(port_keys.size(), 0);
  pair_port_.assign(pairs, -1);
  for (std::size_t p = 0; p < pairs; ++p) {
    const auto& fp = chain.pairs[p];
    if (fp.port < 0) continue;
    const long long k = (long long)fp.cls * (long long)links + fp.port;
    pair_port_[p] = int(std::lower_bound(port_keys.begin(), port_keys.end(), k) - port_keys.begin());
  }
  cls_.assign(classes + 1, {});
  for (std::size_t c = 0; c < classes; ++c) cls_[c + 1].use_begin = chain.class_links(int(c)).size();
  for (long long k : port_keys) ++cls_[std::size_t(k / (long long)links) + 1].use_begin;
  for (std::size_t c = 0; c < classes; ++c) cls_[c + 1].use_begin += cls_[c].use_begin;
  use_.resize(cls_[classes].use_begin);
  {
    std::vector<std::size_t> fill(classes);
    for (std::size_t c = 0; c < classes; ++c) fill[c] = cls_[c].use_begin;
    for (std::size_t c = 0; c < classes; ++c)
      for (int l : chain.class_links(int(c))) use_[fill[c]++] = {l, -1};
    for (std::size_t i = 0; i < port_keys.size(); ++i) {
      const auto c = std::size_t(port_keys[i] / (long long)links);
      use_[fill[c]++] = {int(port_keys[i] % (long long)links), int(i)};
    }
  }

  // Per class pair heaps: room for every pair of the class.
  for (const auto& fp : chain.pairs) ++cls_[std::size_t(fp.cls) + 1].heap_begin;
  for (std::size_t c = 0; c < classes; ++c) cls_[c + 1].heap_begin += cls_[c].heap_begin;
  pool_.resize(pairs);
  joined_.assign(pairs, 0.0);
  live_at_.assign(classes, -1);

  cap_ = chain.capacity;
  O_.assign(links, 0.0);
  N_.assign(links, 0.0);
  lam_.assign(links, 0.0);
  V_.assign(links, 0.0);
  vt_.assign(links, 0.0);
  ver_.assign(links, 0);
  is_dirty_.assign(links, 0);
  group_.assign(links, {});
  rem_.assign(links, 0.0);
  weight_.assign(links, 0.0);
  inc_count_.assign(links, 0);
  inc_begin_.assign(links + 1, 0);

  chain.gate.assign(nodes_, std::vector<double>(devices_, 0.0));
  chain.end.assign(nodes_, std::vector<double>(devices_, 0.0));
  chain.solves = chain.live_class_solves = 0;
}

void FluidSolver::run() {
  for (std::size_t n = 0; n < nodes_; ++n)
    if (chain_.nodes[n].preds.empty())
      for (std::size_t d = 0; d < devices_; ++d) events_.push({0.0, seq_++, Event::Gate, int(n), int(d)});
  double t = 0;
  while (true) {
    const double t_event = events_.empty() ? INFINITY : events_.top().time;
    while (!finishes_.empty() && finishes_.top().version != ver_[std::size_t(finishes_.top().link)])
      finishes_.pop();
    const double t_finish = finishes_.empty() ? INFINITY : finishes_.top().time;
    const double t_next = std::min(t_event, t_finish);
    // Re-solve once everything due at t has been taken in.
    if (t_next > t && solve_due(t)) {
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
      const int l = finishes_.top().link;
      finishes_.pop();
      finish(l, t);
    }
  }
  // Every device must have ended every node; a pair stuck at rate 0 (a link without capacity) would
  // otherwise leave its receiver's times at 0, silently too short.
  for (std::size_t k = 0; k < waiting_.size(); ++k)
    if (waiting_[k] != 0 || incoming_[k] != 0)
      throw std::runtime_error("fluid flow model: node " + std::to_string(k / devices_) + " of device " +
                               std::to_string(k % devices_) + " never ended (a route without bandwidth?)");
}

// Device `d` starts node `n` at `t`: an exchange's pairs start after their route latency.
void FluidSolver::reach(int n, int d, double t) {
  chain_.gate[std::size_t(n)][std::size_t(d)] = t;
  const FluidNode& node = chain_.nodes[std::size_t(n)];
  if (!node.exchange) {
    complete(n, d, t + node.duration[std::size_t(d)]);
    return;
  }
  const std::size_t k = slot(n, d);
  reached_[k] = 1;
  for (std::size_t i = from_begin_[k]; i < from_begin_[k + 1]; ++i)
    events_.push({t + chain_.pairs[std::size_t(from_[i])].latency, seq_++, Event::Start, n, from_[i]});
  if (incoming_[k] == 0) complete(n, d, least_end(n, d, t));
}

// An exchange ends no earlier than its own-block copies, which start with it.
double FluidSolver::least_end(int n, int d, double t) const {
  const auto& least = chain_.nodes[std::size_t(n)].duration;
  return least.empty() ? t : std::max(t, chain_.gate[std::size_t(n)][std::size_t(d)] + least[std::size_t(d)]);
}

// Device `d` ends node `n` at `t` (now, or later for compute): its successors may start.
void FluidSolver::complete(int n, int d, double t) {
  chain_.end[std::size_t(n)][std::size_t(d)] = t;
  for (int next : succs_[std::size_t(n)]) {
    const std::size_t k = slot(next, d);
    gate_at_[k] = std::max(gate_at_[k], t);
    if (--waiting_[k] == 0) events_.push({gate_at_[k], seq_++, Event::Gate, next, d});
  }
}

void FluidSolver::push_pair(int c, Pending e) {
  Pending* h = pool_.data() + cls_[std::size_t(c)].heap_begin;
  std::size_t i = std::size_t(cls_[std::size_t(c)].heap_size++);
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!pair_less(e, h[parent])) break;
    h[i] = h[parent];
    i = parent;
  }
  h[i] = e;
}

void FluidSolver::pop_pair(int c) {
  Pending* h = pool_.data() + cls_[std::size_t(c)].heap_begin;
  const std::size_t n = std::size_t(--cls_[std::size_t(c)].heap_size);
  const Pending last = h[n];
  std::size_t i = 0;
  while (true) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && pair_less(h[child + 1], h[child])) ++child;
    if (!pair_less(h[child], last)) break;
    h[i] = h[child];
    i = child;
  }
  if (n > 0) h[i] = last;
}

void FluidSolver::sift_up(std::vector<int>& h, std::size_t i) {
  const int c = h[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!class_less(c, h[parent])) break;
    h[i] = h[parent];
    cls_[std::size_t(h[i])].hpos = int(i);
    i = parent;
  }
  h[i] = c;
  cls_[std::size_t(c)].hpos = int(i);
}

void FluidSolver::sift_down(std::vector<int>& h, std::size_t i) {
  const int c = h[i];
  const std::size_t n = h.size();
  while (true) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && class_less(h[child + 1], h[child])) ++child;
    if (!class_less(h[child], c)) break;
    h[i] = h[child];
    cls_[std::size_t(h[i])].hpos = int(i);
    i = child;
  }
  h[i] = c;
  cls_[std::size_t(c)].hpos = int(i);
}

void FluidSolver::group_add(int l, int c) {
  auto& h = group_[std::size_t(l)];
  h.push_back(c);
  sift_up(h, h.size() - 1);
}

void FluidSolver::group_remove(int l, int c) {
  auto& h = group_[std::size_t(l)];
  const auto i = std::size_t(cls_[std::size_t(c)].hpos);
  cls_[std::size_t(c)].hpos = -1;
  const int last = h.back();
  h.pop_back();
  if (i == h.size()) return;
  h[i] = last;
  cls_[std::size_t(last)].hpos = int(i);
  sift_up(h, i);
  sift_down(h, std::size_t(cls_[std::size_t(last)].hpos));
}

void FluidSolver::group_fix(int l, int c) {
  auto& h = group_[std::size_t(l)];
  sift_up(h, std::size_t(cls_[std::size_t(c)].hpos));
  sift_down(h, std::size_t(cls_[std::size_t(c)].hpos));
}

// Files when the first class of link l's group has its next pair done, at the group's current rate
// (older entries go stale).
void FluidSolver::reschedule(int l) {
  const auto k = std::size_t(l);
  ++ver_[k];
  if (group_[k].empty()) return;
  if (lam_[k] <= 0) {
    // No capacity left for the group (N_ 0: its class is about to move on, see change()).
    forced_ = forced_ || N_[k] > 0;
    return;
  }
  const double left = std::max(0.0, cls_[std::size_t(group_[k].front())].key - V_[k]);
  finishes_.push({vt_[k] + left / lam_[k], l, ver_[k]});
}

// Class c gains (delta = 1) or loses (-1) an active pair whose port counter is `port` (-1: none). Its
// group's rate follows at once; what its other links are charged follows its new rate.
void FluidSolver::change(int c, int port, int delta, double t) {
  const int b = cls_[std::size_t(c)].bott;
  const auto us = uses(c);
  for (const Use& u : us) {
    advance(u.link, t);
    if (!is_dirty_[std::size_t(u.link)]) {
      is_dirty_[std::size_t(u.link)] = 1;
      dirty_.push_back(u.link);
    }
  }
  for (const Use& u : us) {
    const double m = mult(c, u);
    if (u.link == b)
      N_[std::size_t(b)] -= m;
    else
      O_[std::size_t(u.link)] -= cls_[std::size_t(c)].rec * m;
  }
  cls_[std::size_t(c)].active += delta;
  if (port >= 0) port_count_[std::size_t(port)] += delta;
  live_pairs_ += delta;
  for (const Use& u : us)
    if (u.link == b) N_[std::size_t(b)] += mult(c, u);
  if (b >= 0) set_lambda(b);
  if (cls_[std::size_t(c)].rec == 0 && b >= 0)
    cls_[std::size_t(c)].rec = lam_[std::size_t(b)];  // provisional
  for (const Use& u : us) {
    if (u.link != b) {
      O_[std::size_t(u.link)] += cls_[std::size_t(c)].rec * mult(c, u);
      set_lambda(u.link);
    }
    reschedule(u.link);
  }
  ++changes_;
  // A class whose bottleneck was the port of a source that has no active pair left in it moves on.
  // (Moving a class whenever a new pair makes another of its links offer less was tried: with the
  // other classes' charges kept at their solved rates it made a 128-GPU layer 1.4% fast at tolerance
  // 0.1, against 0.03% without.)
  if (b < 0 || cls_[std::size_t(c)].active == 0) return;
  for (const Use& u : us)
    if (u.link == b && mult(c, u) == 0) {
      rehome(c, t);
      return;
    }
}

// What link u.link would give class c per pair if c joined its group.
double FluidSolver::offer(int c, const Use& u) const {
  const auto l = std::size_t(u.link);
  const double m = mult(c, u);
  return std::max(0.0, cap_[l] - (O_[l] - cls_[std::size_t(c)].rec * m)) / (N_[l] + m);
}

// Class c (active) moves to the group of the link of its route that would give it the least.
void FluidSolver::rehome(int c, double t) {
  const auto cc = std::size_t(c);
  const int b = cls_[cc].bott;
  const double moved = progress(c, t);
  int best = -1;
  double best_rate = INFINITY;
  for (const Use& u : uses(c)) {
    if (mult(c, u) == 0 || u.link == b) continue;
    const double r = offer(c, u);
    if (r < best_rate) best_rate = r, best = u.link;
  }
  group_remove(b, c);
  // Out of b's group, into best's: its charges on the other links follow its new rate.
  for (const Use& u : uses(c)) {
    const double m = mult(c, u);
    advance(u.link, t);
    if (u.link == b)
      N_[std::size_t(b)] -= m;
    else if (u.link != best)
      O_[std::size_t(u.link)] -= cls_[cc].rec * m;
    else
      O_[std::size_t(best)] -= cls_[cc].rec * m, N_[std::size_t(best)] += m;
  }
  set_lambda(best);
  cls_[cc].rec = lam_[std::size_t(best)];
  for (const Use& u : uses(c)) {
    if (u.link != best) {
      O_[std::size_t(u.link)] += cls_[cc].rec * mult(c, u);
      set_lambda(u.link);
    }
  }
  cls_[cc].bott = best;
  cls_[cc].base = moved;
  cls_[cc].vb = V_[std::size_t(best)];
  cls_[cc].key = key_of(c);
  group_add(best, c);
  for (const Use& u : uses(c)) reschedule(u.link);
}

void FluidSolver::join(int p, double t) {
  const auto& fp = chain_.pairs[std::size_t(p)];
  const int c = fp.cls;
  const auto cc = std::size_t(c);
  const int port = pair_port_[std::size_t(p)];
  joined_[std::size_t(p)] = t;
  if (cls_[cc].active == 0) {
    live_at_[cc] = int(live_.size());
    live_.push_back(c);
    // Until the next solve, the class joins the group of the link of its route that would give it the
    // least (capacity the other groups leave, shared with the group's pairs and this one).
    int best = -1;
    double best_rate = INFINITY;
    for (const Use& u : uses(c)) {
      if (u.port >= 0 && u.port != port) continue;
      const auto l = std::size_t(u.link);
      const double r = std::max(0.0, cap_[l] - O_[l]) / (N_[l] + 1);
      if (r < best_rate) best_rate = r, best = u.link;
    }
    advance(best, t);
    cls_[cc].bott = best;
    cls_[cc].base = 0;
    cls_[cc].vb = V_[std::size_t(best)];
    cls_[cc].rec = 0;
    push_pair(c, {fp.bytes, p});
    cls_[cc].key = key_of(c);
    group_add(best, c);
  } else {
    const int b = cls_[cc].bott;
    advance(b, t);
    cls_[cc].base = progress(c, t);
    cls_[cc].vb = V_[std::size_t(b)];
    push_pair(c, {cls_[cc].base + fp.bytes, p});
    cls_[cc].key = key_of(c);
    group_fix(b, c);
  }
  change(c, port, +1, t);
}

void FluidSolver::leave(int p, double t) {
  const auto& fp = chain_.pairs[std::size_t(p)];
  const int c = fp.cls;
  const auto cc = std::size_t(c);
  change(c, pair_port_[std::size_t(p)], -1, t);
  if (cls_[cc].active == 0) {
    const int b = cls_[cc].bott;
    group_remove(b, c);
    reschedule(b);
    cls_[cc].bott = -1;
    const int at = live_at_[cc];
    live_at_[std::size_t(live_.back())] = at;
    live_[std::size_t(at)] = live_.back();
    live_.pop_back();
    live_at_[cc] = -1;
  }
  const std::size_t k = slot(fp.node, fp.dest);
  if (--incoming_[k] == 0 && reached_[k]) complete(fp.node, fp.dest, least_end(fp.node, fp.dest, t));
}

// The first class of link l's group has its next pair done at t. The class's pairs that would finish
// within kBatch of the time they have been moving end with it: fewer re-solves, each pair early by at
// most that share. Decided per class, so that classes on disjoint links (independent blocks) come out
// the same whatever else is simulated.
void FluidSolver::finish(int l, double t) {
  advance(l, t);
  const int c = group_[std::size_t(l)].front();
  const auto cc = std::size_t(c);
  cls_[cc].base = progress(c, t);
  cls_[cc].vb = V_[std::size_t(l)];
  const double rate = lam_[std::size_t(l)];
  bool due = false;
  while (cls_[cc].heap_size > 0) {
    const Pending& top = top_pair(c);
    const double left = top.target - cls_[cc].base;
    // Also done when what is left cannot move the clock any more (left / rate below t's resolution).
    const bool exact = left <= cls_[cc].base * 1e-12 + 1e-9 || (rate > 0 && t + left / rate <= t);
    if (due && !exact && !(left <= rate * kBatch * (t - joined_[std::size_t(top.pair)]))) break;
    due = true;
    const int p = top.pair;
    pop_pair(c);
    leave(p, t);
  }
  if (cls_[cc].heap_size > 0) {
    cls_[cc].key = key_of(c);
    group_fix(l, c);
  }
  reschedule(l);
}

bool FluidSolver::solve_due(double t) const {
  if (live_.empty()) return false;
  if (forced_ && t > last_solve_) return true;  // once per instant: a solve gives every class a rate
  if (changes_ == 0) return false;
  return chain_.tolerance <= 0 || double(changes_) >= chain_.tolerance * double(live_pairs_);
}

// Progressive filling over the live classes; then each class joins the group of the link that froze it.
void FluidSolver::solve(double t) {
  ++chain_.solves;
  chain_.live_class_solves += std::int64_t(live_.size());
  changes_ = 0;
  forced_ = false;
  last_solve_ = t;
  // In class order: the class data is then read front to back.
  std::sort(live_.begin(), live_.end());
  for (std::size_t i = 0; i < live_.size(); ++i) {
    auto& k = cls_[std::size_t(live_[i])];
    k.base = progress(live_[i], t);
    k.bott = -1;  // not frozen yet
    live_at_[std::size_t(live_[i])] = int(i);
  }
  // Which live classes cross each link (with a multiplicity): flat, link by link.
  touched_.clear();
  for (int c : live_)
    for (const Use& u : uses(c)) {
      if (mult(c, u) == 0) continue;
      const auto l = std::size_t(u.link);
      if (inc_count_[l]++ == 0) touched_.push_back(u.link);
    }
  std::size_t total = 0;
  for (int l : touched_) {
    inc_begin_[std::size_t(l)] = total;
    total += std::size_t(inc_count_[std::size_t(l)]);
    inc_count_[std::size_t(l)] = 0;
    rem_[std::size_t(l)] = cap_[std::size_t(l)];
    weight_[std::size_t(l)] = 0;
  }
  inc_.resize(total);
  for (int c : live_) {
    const auto us = uses(c);
    for (std::size_t i = 0; i < us.size(); ++i) {
      const double m = mult(c, us[i]);
      if (m == 0) continue;
      const auto l = std::size_t(us[i].link);
      inc_[inc_begin_[l] + std::size_t(inc_count_[l]++)] = {c, int(i)};
      weight_[l] += m;
    }
  }
  // A link's level (remaining capacity per unfrozen pair) only rises as classes freeze below it, so an
  // entry is refreshed when it comes up rather than at every change.
  using Level = std::pair<double, int>;  // (rate, link)
  std::priority_queue<Level, std::vector<Level>, std::greater<>> heap;
  auto level = [&](std::size_t l) { return std::max(0.0, rem_[l]) / weight_[l]; };
  for (int l : touched_) heap.push({level(std::size_t(l)), l});
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
    for (std::size_t k = inc_begin_[l]; k < inc_begin_[l] + std::size_t(inc_count_[l]); ++k) {
      const int c = inc_[k].first;
      const auto cc = std::size_t(c);
      if (cls_[cc].bott >= 0) continue;
      cls_[cc].bott = link;
      cls_[cc].rec = r;
      for (const Use& u : uses(c)) {
        const double m = mult(c, u);
        rem_[std::size_t(u.link)] -= r * m;
        weight_[std::size_t(u.link)] -= m;
      }
    }
    weight_[l] = 0;
  }
  // The groups start again from the solution: every link's clock at 0.
  for (int l : touched_) inc_count_[std::size_t(l)] = 0;
  for (const auto* list : {&dirty_, &touched_})
    for (int l : *list) {
      const auto k = std::size_t(l);
      group_[k].clear();
      N_[k] = O_[k] = V_[k] = lam_[k] = 0;
      vt_[k] = t;
      ++ver_[k];
      is_dirty_[k] = 0;
    }
  dirty_.clear();
  for (int c : live_) {
    const auto cc = std::size_t(c);
    const int b = cls_[cc].bott;
    cls_[cc].vb = 0;
    for (const Use& u : uses(c)) {
      const double m = mult(c, u);
      if (u.link == b)
        N_[std::size_t(b)] += m;
      else
        O_[std::size_t(u.link)] += cls_[cc].rec * m;
    }
    cls_[cc].key = key_of(c);
    group_[std::size_t(b)].push_back(c);
  }
  finishes_ = {};
  for (int l : touched_) {
    const auto k = std::size_t(l);
    set_lambda(l);
    auto& h = group_[k];
    if (h.empty()) continue;
    for (std::size_t i = 0; i < h.size(); ++i) cls_[std::size_t(h[i])].hpos = int(i);
    for (std::size_t i = h.size() / 2; i-- > 0;) sift_down(h, i);
    reschedule(l);
  }
}

}  // namespace

void solve_fluid_chain(FluidChain& chain) { FluidSolver(chain).run(); }

}  // namespace occult
