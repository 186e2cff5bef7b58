#pragma once
// Runs a function in a forked child process and returns what it returned. SimGrid's engine is a
// process-wide singleton that cannot be restarted, so every simulation gets a fresh process; this also
// lets callers run simulations from several threads at once. An InputError thrown in the child is
// rethrown in the parent as an InputError; any other failure (exception or crash) as std::runtime_error.
#include <functional>
#include <string>

namespace occult {

std::string run_in_child(const std::function<std::string()>& fn);

// The same, split in two so that one thread can keep several children running: the constructor forks,
// result() waits for the child and returns (or throws) what run_in_child would. Forking from one thread
// is also what keeps a sanitizer build alive: a child forked while another thread holds an allocator
// lock waits on that lock forever.
class ChildRun {
 public:
  explicit ChildRun(const std::function<std::string()>& fn);
  ~ChildRun();
  ChildRun(const ChildRun&) = delete;
  ChildRun& operator=(const ChildRun&) = delete;
  std::string result();

 private:
  int pid_ = -1;
  int fd_ = -1;
};

}  // namespace occult
