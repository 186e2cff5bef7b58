#include "sim/cli/host/fork_pool.hpp"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <optional>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "sim/core/error.hpp"

namespace occult::cli {
namespace {

// What a child writes on its pipe: one JSON document, {"ok": result} or {"input_error": {...}} or
// {"error": "..."}.
std::string encode_child(int i, const std::function<std::string(int)>& job) {
  try {
    return nlohmann::json{{"ok", job(i)}}.dump();
  } catch (const InputError& e) {
    return nlohmann::json{
        {"input_error",
         {{"file", e.file()}, {"line", e.line()}, {"field", e.field()}, {"message", e.message()}}}}
        .dump();
  } catch (const std::exception& e) {
    return nlohmann::json{{"error", e.what()}}.dump();
  }
}

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t w = ::write(fd, s.data() + off, s.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    off += std::size_t(w);
  }
}

struct Child {
  pid_t pid = -1;
  int fd = -1;
  std::string out;
};

}  // namespace

void run_forked(int n, int parallel, const std::function<std::string(int)>& job,
                const std::function<void(int, const std::string&)>& done) {
  if (parallel <= 1) {
    for (int i = 0; i < n; ++i) done(i, job(i));
    return;
  }
  std::map<int, Child> running;  // by job index
  std::optional<InputError> input_error;
  std::optional<std::runtime_error> other_error;
  int next = 0;
  while (next < n || !running.empty()) {
    while (next < n && int(running.size()) < parallel && !input_error && !other_error) {
      int fds[2];
      if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
      std::fflush(stdout);
      std::fflush(stderr);
      pid_t pid = ::fork();
      if (pid < 0) throw std::runtime_error("fork failed");
      if (pid == 0) {
        ::close(fds[0]);
        for (auto& [j, c] : running) ::close(c.fd);
        write_all(fds[1], encode_child(next, job));
        ::close(fds[1]);
        std::fflush(stderr);
        ::_exit(0);
      }
      ::close(fds[1]);
      running[next] = {pid, fds[0], {}};
      ++next;
    }
    if (running.empty()) break;
    std::vector<pollfd> pfds;
    std::vector<int> ids;
    for (auto& [i, c] : running) pfds.push_back({c.fd, POLLIN, 0}), ids.push_back(i);
    if (::poll(pfds.data(), nfds_t(pfds.size()), -1) < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("poll failed");
    }
    for (std::size_t k = 0; k < pfds.size(); ++k) {
      if (!(pfds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Child& c = running[ids[k]];
      char buf[65536];
      ssize_t r = ::read(c.fd, buf, sizeof buf);
      if (r > 0) {
        c.out.append(buf, std::size_t(r));
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      // EOF: the child is done.
      ::close(c.fd);
      int status = 0;
      while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
      }
      const int i = ids[k];
      const std::string out = std::move(c.out);
      running.erase(i);
      nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || j.is_discarded()) {
        if (!other_error)
          other_error.emplace("job " + std::to_string(i) + " crashed (status " + std::to_string(status) +
                              ")");
      } else if (j.contains("input_error")) {
        const auto& e = j["input_error"];
        if (!input_error)
          input_error.emplace(e["file"].get<std::string>(), e["line"].get<long>(),
                              e["field"].get<std::string>(), e["message"].get<std::string>());
      } else if (j.contains("error")) {
        if (!other_error)
          other_error.emplace("job " + std::to_string(i) + ": " + j["error"].get<std::string>());
      } else if (!input_error && !other_error) {
        done(i, j["ok"].get<std::string>());
      }
    }
  }
  if (input_error) throw *input_error;
  if (other_error) throw *other_error;
}

}  // namespace occult::cli
