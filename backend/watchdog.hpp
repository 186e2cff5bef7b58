#pragma once
// The timeout of NCCL calls that block the host (a blocking communicator's init, first connection and
// group launch). Such a call cannot be interrupted safely from another thread (ncclCommAbort would
// free the communicator under it), so when one outlives its deadline the watchdog says which rank,
// GPU and call, and ends the process with status 1: a clear message instead of a hang. Waits on the
// GPU (the common way a lost peer shows) are not its business: Communicator::wait() polls those and
// aborts the communicator cleanly.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace occult::gpu {

class Watchdog {
 public:
  Watchdog(std::string who, double timeout_s);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Arms the deadline for one host-blocking call; disarms when the guard leaves scope. Arming costs
  // two atomic stores (it sits on the small-message path).
  class Guard {
   public:
    Guard(Watchdog& w, const char* what);
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    Watchdog& w_;
  };

 private:
  void watch();

  std::string who_;
  double timeout_s_;
  std::atomic<const char*> what_{nullptr};
  std::atomic<long long> since_ns_{0};  // steady clock; 0: nothing armed
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace occult::gpu
