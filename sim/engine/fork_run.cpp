#include "sim/engine/fork_run.hpp"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/error.hpp"

namespace occult {
namespace {

void write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += std::size_t(n);
  }
}

std::string read_all(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, std::size_t(n));
  }
  return out;
}

}  // namespace

std::string run_in_child(const std::function<std::string()>& fn) { return ChildRun(fn).result(); }

ChildRun::ChildRun(const std::function<std::string()>& fn) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  std::fflush(nullptr);  // buffered output must not be written twice
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(fds[0]);
    std::string msg;
    try {
      msg = "O" + fn();
    } catch (const InputError& e) {
      msg = "I" +
            nlohmann::json{
                {"file", e.file()}, {"line", e.line()}, {"field", e.field()}, {"message", e.message()}}
                .dump();
    } catch (const std::bad_alloc&) {  // an input too large for this machine: the parent says so (exit 2)
      msg = "M";
    } catch (const std::exception& e) {
      msg = std::string("E") + e.what();
    } catch (...) {
      msg = "Eunknown error in the child process";
    }
    write_all(fds[1], msg);
    ::close(fds[1]);
    std::fflush(nullptr);
    ::_exit(0);  // skip static destructors: SimGrid's singletons are not meant to be torn down
  }
  ::close(fds[1]);
  pid_ = pid;
  fd_ = fds[0];
}

ChildRun::~ChildRun() {
  if (pid_ < 0) return;
  ::close(fd_);  // a child still writing gets EPIPE and exits
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

std::string ChildRun::result() {
  std::string msg = read_all(fd_);
  ::close(fd_);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  if (msg.empty()) {
    if (WIFSIGNALED(status))
      throw std::runtime_error("child process died with signal " + std::to_string(WTERMSIG(status)));
    throw std::runtime_error("child process exited without a result");
  }
  const char tag = msg[0];
  msg.erase(0, 1);
  if (tag == 'O') return msg;
  if (tag == 'I') {
    const auto j = nlohmann::json::parse(msg);
    throw InputError(j.at("file").get<std::string>(), j.at("line").get<long>(),
                     j.at("field").get<std::string>(), j.at("message").get<std::string>());
  }
  if (tag == 'M') throw std::bad_alloc();
  throw std::runtime_error(msg);
}

void run_jobs(int n, int parallel, const std::function<std::string(int)>& job,
              const std::function<void(int, const std::string&)>& done) {
  if (parallel <= 1) {
    for (int i = 0; i < n; ++i) done(i, job(i));
    return;
  }
  std::map<int, std::unique_ptr<ChildRun>> running;  // by job index
  std::optional<InputError> input_error;
  std::optional<std::runtime_error> other_error;
  bool out_of_memory = false;
  int next = 0;
  while (true) {
    while (next < n && int(running.size()) < parallel && !input_error && !other_error && !out_of_memory) {
      const int i = next++;
      running.emplace(i, std::make_unique<ChildRun>([&] { return job(i); }));
    }
    if (running.empty()) break;
    std::vector<pollfd> fds;
    for (const auto& [i, c] : running) fds.push_back({c->fd(), POLLIN, 0});
    if (::poll(fds.data(), nfds_t(fds.size()), -1) < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    }
    // The first ready child: result() reads until it exits (it writes its whole result, then exits).
    auto it = running.begin();
    for (const pollfd& p : fds) {
      if (p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) break;  // NVAL: result() reports it
      ++it;
    }
    if (it == running.end()) continue;
    const int i = it->first;
    std::unique_ptr<ChildRun> child = std::move(it->second);
    running.erase(it);
    try {
      const std::string out = child->result();
      if (!input_error && !other_error && !out_of_memory) done(i, out);
    } catch (const InputError& e) {
      if (!input_error) input_error.emplace(e);
    } catch (const std::bad_alloc&) {
      out_of_memory = true;
    } catch (const std::exception& e) {
      if (!other_error) other_error.emplace("job " + std::to_string(i) + ": " + e.what());
    }
  }
  if (input_error) throw *input_error;
  if (out_of_memory) throw std::bad_alloc();
  if (other_error) throw *other_error;
}

}  // namespace occult
