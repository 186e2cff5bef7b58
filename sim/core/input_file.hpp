#pragma once
// Every input file is read through this class, so that every command treats paths the same way:
// "-" is standard input; a FIFO or a process substitution (<(cmd), /dev/fd/N) is opened once and read
// front to back, never reopened or seeked (format detection peeks at the buffered start); a directory,
// a missing or an unreadable path is an InputError. Regular files also tell their size, which readers
// use to refuse a corrupt header before allocating what it claims (docs/guarantees.md).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace occult {

class InputFile {
 public:
  explicit InputFile(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // The path as given, or "<stdin>" for "-": the name error messages use.
  const std::string& name() const { return name_; }
  bool regular() const { return size_ >= 0; }
  // Size in bytes of a regular file; -1 for pipes, terminals and devices.
  std::int64_t size() const { return size_; }
  // Bytes consumed so far.
  std::int64_t offset() const { return offset_; }

  // The next `n` bytes without consuming them (fewer at the end of the input).
  std::string_view peek(std::size_t n);
  // Reads up to `n` bytes into dst; fewer only at the end of the input.
  std::size_t read(void* dst, std::size_t n);
  bool at_end() { return peek(1).empty(); }
  // The next line, without its "\n" or "\r\n"; false at the end of the input. A line longer than
  // `max_len` bytes is an InputError at `line_no` (a stream without line breaks, such as /dev/zero,
  // must not grow one string until memory runs out).
  bool read_line(std::string& line, std::size_t max_len, long line_no);
  // Everything left. `what` names the content in the memory check ("placement file"): the text times
  // `bytes_per_byte` (what parsing it costs) must fit the memory limit.
  std::string read_all(const std::string& what, std::uint64_t bytes_per_byte = 1);

 private:
  bool fill(std::size_t want);  // makes at least `want` bytes available in buf_ if the input has them

  std::string name_;
  int fd_ = -1;
  bool owned_ = false;
  bool eof_ = false;
  std::int64_t size_ = -1, offset_ = 0;
  std::vector<char> buf_;
  std::size_t begin_ = 0, end_ = 0;  // unread bytes are buf_[begin_, end_)
};

// Whether `path` can be given to InputFile: "-", or a path that exists and is not a directory.
bool names_input(const std::string& path);

}  // namespace occult
