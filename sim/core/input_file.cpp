#include "sim/core/input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sim/core/error.hpp"
#include "sim/core/memory_budget.hpp"

namespace occult {
namespace {
constexpr std::size_t kChunk = std::size_t(1) << 16;
}  // namespace

InputFile::InputFile(const std::string& path) : name_(path == "-" ? "<stdin>" : path) {
  if (path.empty()) throw InputError("", 0, "", "empty file name");
  if (path == "-") {
    fd_ = 0;
  } else {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      const int err = errno;
      throw InputError(path, 0, "", std::string("cannot open: ") + std::strerror(err));
    }
    owned_ = true;
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    if (owned_) ::close(fd_);
    throw InputError(name_, 0, "", std::string("cannot read: ") + std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) {
    if (owned_) ::close(fd_);
    throw InputError(name_, 0, "", "is a directory, not a file");
  }
  if (S_ISREG(st.st_mode)) size_ = std::int64_t(st.st_size);
}

InputFile::~InputFile() {
  if (owned_) ::close(fd_);
}

bool InputFile::fill(std::size_t want) {
  if (end_ - begin_ >= want) return true;
  if (begin_ > 0) {  // keep the unread bytes at the front
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buf_.size() < std::max(want, kChunk)) buf_.resize(std::max(want, kChunk));
  while (end_ < want && !eof_) {
    const ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw InputError(name_, 0, "", std::string("read error: ") + std::strerror(errno));
    }
    if (n == 0) eof_ = true;
    end_ += std::size_t(n);
  }
  return end_ - begin_ >= want;
}

std::string_view InputFile::peek(std::size_t n) {
  fill(n);
  return {buf_.data() + begin_, std::min(n, end_ - begin_)};
}

std::size_t InputFile::read(void* dst, std::size_t n) {
  char* out = static_cast<char*>(dst);
  std::size_t done = 0;
  while (done < n) {
    if (begin_ == end_) {
      // Large reads skip the buffer.
      if (n - done >= kChunk && !eof_) {
        const ssize_t r = ::read(fd_, out + done, n - done);
        if (r < 0) {
          if (errno == EINTR) continue;
          throw InputError(name_, 0, "", std::string("read error: ") + std::strerror(errno));
        }
        if (r == 0) eof_ = true;
        done += std::size_t(r);
        if (r == 0) break;
        continue;
      }
      if (!fill(1)) break;
    }
    const std::size_t take = std::min(n - done, end_ - begin_);
    std::memcpy(out + done, buf_.data() + begin_, take);
    begin_ += take;
    done += take;
  }
  offset_ += std::int64_t(done);
  return done;
}

bool InputFile::read_line(std::string& line, std::size_t max_len, long line_no) {
  line.clear();
  bool any = false;
  for (;;) {
    if (begin_ == end_ && !fill(1)) break;
    any = true;
    const char* start = buf_.data() + begin_;
    const auto* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
    const std::size_t take = nl ? std::size_t(nl - start) : end_ - begin_;
    if (line.size() + take > max_len)
      throw InputError(name_, line_no, "",
                       "line longer than " + format_bytes(max_len) +
                           " (no line break): not a text file of records (binary data, or /dev/zero?)");
    line.append(start, take);
    begin_ += take + (nl ? 1 : 0);
    offset_ += std::int64_t(take + (nl ? 1 : 0));
    if (nl) break;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return any;
}

std::string InputFile::read_all(const std::string& what, std::uint64_t bytes_per_byte) {
  std::string text;
  if (regular()) {
    const auto left = std::uint64_t(std::max<std::int64_t>(0, size_ - offset_));
    check_memory(sat_mul(left, bytes_per_byte),
                 "reading " + what + " " + name_ + " (" + format_bytes(left) + ")", name_);
    text.reserve(std::size_t(left));
  }
  std::vector<char> chunk(kChunk);
  for (;;) {
    const std::size_t n = read(chunk.data(), chunk.size());
    if (n == 0) break;
    text.append(chunk.data(), n);
    // Pipes tell no size up front: check as the text grows.
    if (!regular())
      check_memory(sat_mul(text.size(), bytes_per_byte),
                   "reading " + what + " " + name_ + " (" + format_bytes(text.size()) + " so far)", name_);
  }
  return text;
}

bool names_input(const std::string& path) {
  if (path == "-") return true;
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
}

}  // namespace occult
