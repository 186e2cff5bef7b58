#pragma once
// Running work in forked child processes, with the result piped back: SimGrid's engine is a
// process-wide singleton that cannot be restarted, so every simulation gets a fresh process, and a
// crash in one job must not take the others down. An InputError thrown in a child is rethrown in the
// parent as an InputError; any other failure (exception, crash) as std::runtime_error.
//
// Children are forked from the calling thread only, never from helper threads: a child forked while
// another thread holds an allocator lock (seen with ASan's) waits on that lock forever.
#include <functional>
#include <string>

namespace occult {

// One child: the constructor forks, result() waits for the child and returns (or throws) what fn
// returned (threw).
class ChildRun {
 public:
  explicit ChildRun(const std::function<std::string()>& fn);
  ~ChildRun();
  ChildRun(const ChildRun&) = delete;
  ChildRun& operator=(const ChildRun&) = delete;
  std::string result();
  int fd() const { return fd_; }  // readable (or closed) once the child has written its result

 private:
  int pid_ = -1;
  int fd_ = -1;
};

std::string run_in_child(const std::function<std::string()>& fn);

// Runs job(i) for i in [0, n), each in its own child, at most `parallel` at once (parallel <= 1: in
// this process, in order, without forking); done(i, result) is called in the parent in completion order.
// After a failure no further job starts; the running ones finish, then the failure is rethrown (an
// InputError first), a runtime_error naming the job.
void run_jobs(int n, int parallel, const std::function<std::string(int)>& job,
              const std::function<void(int, const std::string&)>& done);

}  // namespace occult
