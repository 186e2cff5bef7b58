// Single-process fallback: one thread per GPU. The exchange buffer and barrier are shared; a rank that
// throws marks the group failed so the others leave their barrier instead of hanging.
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "backend/bootstrap.hpp"
#include "backend/gpu_error.hpp"

namespace occult::gpu {
namespace {

// Thrown in the ranks that were waiting when another rank failed; the failing rank's error is the one
// worth reporting.
struct PeerFailed : GpuError {
  PeerFailed() : GpuError("another rank failed; leaving the run") {}
};

struct Shared {
  explicit Shared(int n) : ranks(n), reserved(std::size_t(n), -1) {}
  int ranks;
  // The order in which ranks failed: taken when the failure shows (a rank's communicator released
  // while an exception unwinds), before its consequences reach the peers.
  std::atomic<long> next{0};
  std::vector<long> reserved;  // per rank, written by its own thread only
  std::mutex m;
  std::condition_variable cv;
  int arrived = 0;
  long generation = 0;
  std::atomic<bool> failed{false};
  std::vector<unsigned char> scratch;

  void barrier() {
    std::unique_lock lock(m);
    if (failed) throw PeerFailed();
    long gen = generation;
    if (++arrived == ranks) {
      arrived = 0;
      ++generation;
      cv.notify_all();
      return;
    }
    cv.wait(lock, [&] { return generation != gen || failed; });
    if (failed) throw PeerFailed();
  }
  void fail() {
    std::lock_guard lock(m);
    failed = true;
    cv.notify_all();
  }
};

class ThreadBootstrap final : public Bootstrap {
 public:
  ThreadBootstrap(Shared& s, int rank) : s_(s), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return s_.ranks; }
  int local_rank() const override { return rank_; }
  const char* kind() const override { return "threads"; }
  bool peer_failed() const override { return s_.failed.load(); }
  void failing() noexcept override {
    if (s_.reserved[std::size_t(rank_)] < 0) s_.reserved[std::size_t(rank_)] = s_.next++;
    s_.fail();
  }
  void barrier() override { s_.barrier(); }

  void broadcast(void* data, std::size_t bytes, int root) override {
    if (rank_ == root) {
      std::lock_guard lock(s_.m);
      s_.scratch.assign(static_cast<unsigned char*>(data), static_cast<unsigned char*>(data) + bytes);
    }
    s_.barrier();
    if (rank_ != root) std::memcpy(data, s_.scratch.data(), bytes);
    s_.barrier();  // nobody may overwrite scratch before every rank has read it
  }

  void allgather(const void* in, void* out, std::size_t bytes) override {
    {
      std::lock_guard lock(s_.m);
      if (s_.scratch.size() < bytes * std::size_t(s_.ranks)) s_.scratch.resize(bytes * std::size_t(s_.ranks));
    }
    s_.barrier();
    {
      std::lock_guard lock(s_.m);
      std::memcpy(s_.scratch.data() + bytes * std::size_t(rank_), in, bytes);
    }
    s_.barrier();
    std::memcpy(out, s_.scratch.data(), bytes * std::size_t(s_.ranks));
    s_.barrier();
  }

 private:
  Shared& s_;
  int rank_;
};

}  // namespace

void run_on_threads(int ranks, const std::function<void(Bootstrap&)>& body) {
  Shared shared(ranks);
  // Each rank's error and when it happened: the first failure is the cause, later ones (a peer's
  // NCCL timeout, a barrier left early) are consequences.
  struct Failure {
    std::exception_ptr error;
    long order = -1;
    bool follower = false;
  };
  std::vector<Failure> failures(static_cast<std::size_t>(ranks));
  std::vector<std::thread> threads;
  threads.reserve(std::size_t(ranks));
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      Failure& f = failures[std::size_t(r)];
      auto order = [&] {
        const long o = shared.reserved[std::size_t(r)];
        return o >= 0 ? o : shared.next++;
      };
      try {
        ThreadBootstrap b(shared, r);
        body(b);
      } catch (const PeerFailed&) {
        f = {std::current_exception(), order(), true};
      } catch (...) {
        f = {std::current_exception(), order(), false};
        shared.fail();
      }
    });
  }
  for (auto& t : threads) t.join();
  const Failure* cause = nullptr;
  for (const Failure& f : failures) {
    if (!f.error) continue;
    const bool better = !cause || (cause->follower && !f.follower) ||
                        (cause->follower == f.follower && f.order < cause->order);
    if (better) cause = &f;
  }
  if (cause) std::rethrow_exception(cause->error);
}

}  // namespace occult::gpu
