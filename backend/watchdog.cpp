#include "backend/watchdog.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace occult::gpu {
namespace {

long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Watchdog::Watchdog(std::string who, double timeout_s)
    : who_(std::move(who)), timeout_s_(timeout_s), thread_([this] { watch(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(m_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

Watchdog::Guard::Guard(Watchdog& w, const char* what) : w_(w) {
  w_.what_.store(what, std::memory_order_relaxed);
  w_.since_ns_.store(now_ns(), std::memory_order_release);
}

Watchdog::Guard::~Guard() { w_.since_ns_.store(0, std::memory_order_release); }

void Watchdog::watch() {
  // A tenth of the timeout (at most a second) between looks: overshoot stays small, cost stays nil.
  const auto period = std::chrono::duration<double>(std::min(1.0, timeout_s_ / 10));
  std::unique_lock lock(m_);
  while (!cv_.wait_for(lock, period, [this] { return stop_; })) {
    const long long since = since_ns_.load(std::memory_order_acquire);
    if (since == 0 || double(now_ns() - since) * 1e-9 <= timeout_s_) continue;
    std::fprintf(stderr,
                 "occult: %s: %s did not return within %g s (a peer is missing or stopped; "
                 "--nccl-mode nonblocking can abort instead); exiting\n",
                 who_.c_str(), what_.load(std::memory_order_relaxed), timeout_s_);
    std::fflush(stderr);
    std::_Exit(1);
  }
}

}  // namespace occult::gpu
