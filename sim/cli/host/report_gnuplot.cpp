#include "sim/cli/host/report_gnuplot.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "sim/cli/host/report_plot_script.hpp"
#include "sim/core/error.hpp"

extern char** environ;

namespace occult::report {
namespace fs = std::filesystem;
namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// The last lines of gnuplot's output, for the report's note.
std::string tail(const std::string& text, std::size_t max_chars) {
  if (text.size() <= max_chars) return text;
  return "..." + text.substr(text.size() - max_chars);
}

class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "occult-report-XXXXXX").string();
    if (!mkdtemp(templ.data()))
      throw InputError(templ, 0, "",
                       std::string("cannot create a temporary folder: ") + std::strerror(errno));
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `gnuplot script` with its output in log; returns -1 with errno_out set when it could not start.
int run_gnuplot(const std::string& script, const std::string& log, int& errno_out) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::string prog = "gnuplot";
  char* argv[] = {prog.data(), const_cast<char*>(script.c_str()), nullptr};
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, prog.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    errno_out = rc;
    return -1;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

PlotOutcome render_in(const std::function<PlotScript(const std::string&)>& build, const std::string& dir) {
  PlotScript script = build(dir);
  std::string script_path = dir + "/report.gp", log_path = dir + "/gnuplot.log";
  {
    std::ofstream out(script_path, std::ios::binary);
    out << script.text;
    if (!out) throw InputError(script_path, 0, "--plots-dir", "cannot write the gnuplot script");
  }
  PlotOutcome outcome;
  int err = 0;
  int rc = run_gnuplot(script_path, log_path, err);
  if (rc < 0) {
    outcome.note = err == ENOENT ? "gnuplot was not found on PATH, so this report has tables but no plots "
                                   "(install it: apt-get install gnuplot-nox)."
                                 : std::string("gnuplot could not be started: ") + std::strerror(err);
    return outcome;
  }
  if (rc != 0)
    outcome.note = "gnuplot exited with status " + std::to_string(rc) +
                   "; plots it did not finish are missing. " +
                   "Its output: " + tail(read_file(log_path), 600);
  std::size_t n = 0;
  for (const PlotSpec& spec : script.plots) {
    std::string svg = read_file(spec.file);
    if (svg.find("</svg>") == std::string::npos) continue;
    outcome.plots.push_back({spec.kind, spec.panel, inline_svg(svg, "p" + std::to_string(n++) + "_")});
  }
  return outcome;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

}  // namespace

std::string inline_svg(std::string_view svg_file, const std::string& id_prefix) {
  std::size_t start = svg_file.find("<svg");
  std::size_t end = svg_file.rfind("</svg>");
  if (start == std::string_view::npos || end == std::string_view::npos || end < start) return "";
  std::string svg(svg_file.substr(start, end + 6 - start));
  for (const char* q : {"\"", "'"}) {
    replace_all(svg, std::string("id=") + q, std::string("id=") + q + id_prefix);
    replace_all(svg, std::string("href=") + q + "#", std::string("href=") + q + "#" + id_prefix);
  }
  replace_all(svg, "url(#", "url(#" + id_prefix);
  return svg;
}

PlotOutcome render_script(const std::function<PlotScript(const std::string&)>& build,
                          const std::string& plots_dir) {
  if (plots_dir.empty()) {
    TempDir tmp;
    return render_in(build, tmp.path());
  }
  std::error_code ec;
  fs::create_directories(plots_dir, ec);
  if (ec || !fs::is_directory(plots_dir))
    throw InputError(plots_dir, 0, "--plots-dir", "cannot create the folder: " + ec.message());
  return render_in(build, fs::absolute(plots_dir).string());
}

PlotOutcome render_plots(const Results& res, const Analysis& a, const std::string& plots_dir) {
  return render_script([&](const std::string& dir) { return build_plot_script(res, a, dir); }, plots_dir);
}

}  // namespace occult::report
