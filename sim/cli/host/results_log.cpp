#include "sim/cli/host/results_log.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "sim/cli/host/report_csv.hpp"
#include "sim/cli/host/report_results.hpp"
#include "sim/core/error.hpp"
#include "sim/core/memory_budget.hpp"
#include "sim/core/results_columns.hpp"

namespace occult::cli {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail_errno(const std::string& path, const std::string& what) {
  throw InputError(path, 0, "", what + ": " + std::strerror(errno));
}

void write_all(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(path, "write failed (the rows written before are intact)");
    }
    bytes.remove_prefix(std::size_t(n));
  }
}

std::string read_all(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail_errno(path, "cannot read");
  // The text, and the run ids and row ranges kept from it.
  check_memory(sat_mul(std::uint64_t(st.st_size), 3), "reading the results file", path);
  std::string text(std::size_t(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::pread(fd, text.data() + got, text.size() - got, off_t(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno(path, "cannot read");
    if (n == 0) break;
    got += std::size_t(n);
  }
  text.resize(got);
  return text;
}

bool hex_id(const std::string& s) {
  if (s.size() != 16) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
  return out.empty() ? "none" : out;
}

// Why `found` (a file's first line) is not `header`, in terms of the sweep axes when both are results
// headers.
std::string header_mismatch(std::string_view found, const std::string& header, const std::string& file) {
  std::vector<std::string> have;
  try {
    have = report::parse_csv(found, file).header;
  } catch (const InputError&) {
  }
  const auto& contract = results_csv_columns();
  const auto want = report::parse_csv(header, file).header;
  const bool results =
      have.size() >= contract.size() && std::equal(contract.begin(), contract.end(), have.begin());
  if (!results)
    return "its first line is not a header of occult's results (results of another sweep in an older "
           "format, or not a results file); write to a new file with -o";
  const std::vector<std::string> axes(have.begin() + std::ptrdiff_t(contract.size()), have.end());
  const std::vector<std::string> ours(want.begin() + std::ptrdiff_t(contract.size()), want.end());
  return "this file holds the results of another sweep: its sweep axes are " + join(axes) +
         ", this sweep's are " + join(ours) + "; write to a new file with -o";
}

}  // namespace

ResultsScan scan_results(std::string_view text, const std::string& header, const std::string& file) {
  ResultsScan scan;
  const std::size_t bom = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  const std::size_t nl = text.find('\n');
  if (nl == std::string_view::npos) {  // nothing, or a header whose write was cut short
    scan.empty = true;
    if (!text.empty()) scan.torn_at = 0;
    return scan;
  }
  std::string_view first = text.substr(bom, nl - bom);
  const bool cr = first.ends_with('\r');
  if (cr) first.remove_suffix(1);
  scan.header_line = std::string(first);
  if (first != header) throw InputError(file, 1, "header", header_mismatch(first, header, file));
  scan.header_crlf = cr || bom > 0;
  scan.header_end = nl + 1;

  const report::ResultRowReader reader(report::parse_csv(header, file).header, file);
  // A bad record that spans lines (a stray quote opened a field that a later line closed) is only its
  // first line: the scan starts again on the next one, so damage cannot swallow the rows after it.
  std::size_t base = scan.header_end;
  long line_base = 1;  // lines before `base`
  while (base < text.size()) {
    std::size_t restart = std::string_view::npos;
    long restart_lines = 0;
    report::scan_csv_records(text.substr(base), file, [&](const report::CsvSpan& span) {
      const long line = line_base + span.record.line;
      if (!span.complete) {  // the text ends inside it: a write cut short, whatever it looks like
        scan.torn_at = base + span.begin;
        return true;
      }
      const std::string_view content = text.substr(base + span.begin, span.content_end - span.begin);
      auto reject = [&](const std::string& why) {
        const std::size_t line_end = content.find('\n');
        if (line_end == std::string_view::npos) {
          scan.rejected.push_back({line, why, std::string(content)});
          return true;
        }
        scan.rejected.push_back({line, why, std::string(content.substr(0, line_end))});
        restart = base + span.begin + line_end + 1;
        restart_lines = line;
        return false;
      };
      if (!span.error.empty()) return reject(span.error);
      report::CsvRecord rec = span.record;
      rec.line = line;
      try {
        reader.read(rec);
      } catch (const InputError& e) {
        return reject((e.field().empty() ? "" : e.field() + ": ") + e.message());
      }
      const std::string& id = rec.fields.front();
      if (!hex_id(id)) return reject("run_id '" + id + "' is not 16 hexadecimal digits");
      if (!scan.done.insert(id).second) return reject("repeats the run_id of an earlier row");
      scan.rows.emplace_back(base + span.begin, base + span.content_end);
      return true;
    });
    if (restart == std::string_view::npos) break;
    base = restart;
    line_base = restart_lines;
  }
  return scan;
}

ResultsLog::ResultsLog(const std::string& path, const std::string& header) : path_(path), header_(header) {
  if (path == "-")
    throw InputError("-", 0, "output", "a sweep reads its results file back to resume: give a file name");
  std::error_code ec;
  // The repair renames a new file into place: that must replace the file a link points to, not the link.
  if (fs::is_symlink(path_, ec)) path_ = fs::weakly_canonical(path_, ec).string();
  open_locked();
  const std::string text = read_all(fd_, path_);
  const ResultsScan scan = scan_results(text, header_, path_);
  done_ = scan.done;
  repair(text, scan);
}

ResultsLog::~ResultsLog() {
  // A sweep that failed before its first row (a bad point) leaves no file behind that it created.
  if (created_ && !wrote_rows_) ::unlink(path_.c_str());
  if (fd_ >= 0) ::close(fd_);
}

void ResultsLog::open_locked() {
  for (int attempt = 0;; ++attempt) {
    struct stat st {};
    if (::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
      throw InputError(path_, 0, "output",
                       S_ISDIR(st.st_mode) ? "is a directory; give a file name for the results"
                                           : "is not a regular file (a pipe or a device): a sweep reads its "
                                             "results file back to resume; give a file name");
    fd_ = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    created_ = fd_ >= 0;
    if (fd_ < 0 && errno == EEXIST) fd_ = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
    if (fd_ < 0) fail_errno(path_, "cannot open the results file for writing");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd_);
      fd_ = -1;
      errno = err;
      if (err == EWOULDBLOCK)
        throw InputError(
            path_, 0, "output",
            "another occult sweep is writing this file (one sweep per results file: wait for it, "
            "or give this one another -o)");
      fail_errno(path_, "cannot lock the results file");
    }
    // A repair by another sweep may have renamed a new file into place between open and lock: hold the
    // lock on the file the path names now.
    struct stat mine {
    }, now{};
    if (::fstat(fd_, &mine) == 0 && ::stat(path_.c_str(), &now) == 0 && mine.st_ino == now.st_ino &&
        mine.st_dev == now.st_dev)
      return;
    ::close(fd_);
    fd_ = -1;
    if (attempt == 100)
      throw InputError(path_, 0, "output", "the file keeps being replaced while opening it");
  }
}

void ResultsLog::repair(const std::string& text, const ResultsScan& scan) {
  if (scan.empty) {
    if (!text.empty()) {
      if (::ftruncate(fd_, 0) != 0) fail_errno(path_, "cannot repair");
      notes_.push_back("removed an unfinished header line (a write cut short)");
    }
    write_all(fd_, header_ + "\n", path_);
    if (::fdatasync(fd_) != 0) fail_errno(path_, "cannot sync the results file");
    return;
  }
  if (scan.rejected.empty() && !scan.header_crlf) {
    if (scan.torn_at != std::string_view::npos) {
      // Cuts off only the bytes of the unfinished line: every complete row stays where it is.
      if (::ftruncate(fd_, off_t(scan.torn_at)) != 0 || ::fsync(fd_) != 0) fail_errno(path_, "cannot repair");
      notes_.push_back("removed an unfinished last line (" + std::to_string(text.size() - scan.torn_at) +
                       " bytes, a write cut short); its point runs again");
    }
    return;
  }
  // Lines to remove in the middle: save them, write the good rows to a new file, rename it into place.
  if (!scan.rejected.empty()) {
    std::string saved;
    for (const auto& r : scan.rejected)
      saved += "# " + path_ + " line " + std::to_string(r.line) + ": " + r.why + "\n" + r.text + "\n";
    const std::string side = path_ + ".rejected";
    const int sfd = ::open(side.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (sfd < 0) fail_errno(side, "cannot save the lines removed from the results file");
    write_all(sfd, saved, side);
    const bool synced = ::fsync(sfd) == 0;
    ::close(sfd);
    if (!synced) fail_errno(side, "cannot save the lines removed from the results file");
    std::string what;
    for (std::size_t i = 0; i < scan.rejected.size() && i < 3; ++i)
      what += (i ? "; " : "") + std::string("line ") + std::to_string(scan.rejected[i].line) + ": " +
              scan.rejected[i].why;
    notes_.push_back("set aside " + std::to_string(scan.rejected.size()) +
                     " line(s) that are not rows of this sweep, into " + side + " (" + what +
                     (scan.rejected.size() > 3 ? "; ..." : "") +
                     "); the points of rows among them run again");
  }
  if (scan.header_crlf)
    notes_.push_back("rewrote CRLF line ends (or a byte-order mark) as occult writes them");
  std::string rows = header_ + "\n";
  for (const auto& [b, e] : scan.rows) rows.append(text, b, e - b).push_back('\n');
  const fs::path target(path_);
  std::string temp = ((target.has_parent_path() ? target.parent_path() : fs::path(".")) /
                      ("." + target.filename().string() + ".XXXXXX"))
                         .string();
  const int tfd = ::mkstemp(temp.data());
  if (tfd < 0) fail_errno(path_, "cannot repair (no temporary file next to it)");
  struct stat st {};
  if (::fstat(fd_, &st) == 0) ::fchmod(tfd, st.st_mode & 07777);
  try {
    write_all(tfd, rows, temp);
    if (::fsync(tfd) != 0) fail_errno(temp, "cannot repair");
    ::flock(tfd, LOCK_EX);  // a new file nobody else has: held before it takes the path
    if (::rename(temp.c_str(), path_.c_str()) != 0) fail_errno(path_, "cannot repair (rename)");
  } catch (...) {
    ::close(tfd);
    ::unlink(temp.c_str());
    throw;
  }
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);  // the rename itself on disk
    ::close(dfd);
  }
  ::close(fd_);
  fd_ = tfd;
  ::fcntl(fd_, F_SETFL, O_APPEND);
}

void ResultsLog::append(std::string_view rows) {
  wrote_rows_ = true;
  write_all(fd_, rows, path_);
  if (::fdatasync(fd_) != 0) fail_errno(path_, "cannot sync the results file");
}

}  // namespace occult::cli
