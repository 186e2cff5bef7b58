#include "sim/core/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "sim/core/error.hpp"

namespace occult {
namespace fs = std::filesystem;

OutputFile::OutputFile(const std::string& path) : path_(path) {
  if (path.empty()) throw InputError("", 0, "output", "empty file name");
  if (path == "-") {
    out_ = &std::cout;
    return;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw InputError(path, 0, "", "is a directory; give a file name to write");
    if (!S_ISREG(st.st_mode)) {
      file_ = std::make_unique<std::ofstream>(path, std::ios::binary);
      if (!*file_) throw InputError(path, 0, "", std::string("cannot write: ") + std::strerror(errno));
      out_ = file_.get();
      return;
    }
  }
  std::error_code ec;
  if (fs::is_symlink(path, ec)) path_ = fs::weakly_canonical(path, ec).string();
  const fs::path target(path_);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string templ = (dir / ("." + target.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkstemp(templ.data());
  if (fd < 0)
    throw InputError(path, 0, "", std::string("cannot create a file in its folder: ") + std::strerror(errno));
  // mkstemp makes the file private (0600); the result gets the usual permissions of a new file.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  ::close(fd);
  temp_ = templ;
  file_ = std::make_unique<std::ofstream>(temp_, std::ios::binary | std::ios::trunc);
  if (!*file_) {
    ::unlink(temp_.c_str());
    throw InputError(path, 0, "", "cannot write a temporary file next to it");
  }
  out_ = file_.get();
}

OutputFile::~OutputFile() {
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

void OutputFile::commit() {
  out_->flush();
  bool ok = bool(*out_);
  if (file_) {
    file_->close();
    ok = ok && !file_->fail();
  }
  if (!ok) throw InputError(path_, 0, "", "write failed (disk full?); the file was left as it was");
  if (temp_.empty()) return;
  // On disk before the rename, so that a crash right after cannot leave an empty file in place.
  if (const int fd = ::open(temp_.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    const bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (!synced) throw InputError(path_, 0, "", "write failed (disk full?); the file was left as it was");
  }
  if (::rename(temp_.c_str(), path_.c_str()) != 0)
    throw InputError(path_, 0, "", std::string("cannot replace: ") + std::strerror(errno));
  temp_.clear();
}

void refuse_overwriting_input(const std::string& output, const std::vector<std::string>& inputs,
                              const std::string& field) {
  if (output == "-") return;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (in != "-" && fs::equivalent(output, in, ec))
      throw InputError(output, 0, field,
                       "is also an input (" + in +
                           "); writing it would destroy what is being read: choose "
                           "another output file");
  }
}

}  // namespace occult
