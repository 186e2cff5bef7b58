#pragma once
// Output files appear whole or not at all: the bytes go to a temporary file next to the target, which
// is flushed to disk and renamed over the target only once everything was written. A run that dies
// midway leaves the previous file (or none), never a cut-off one (docs/guarantees.md). "-" writes to
// standard output; a target that exists and is not a regular file (/dev/null, a FIFO) is written to
// directly, since renaming over it would replace the device or pipe.
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace occult {

class OutputFile {
 public:
  explicit OutputFile(const std::string& path);
  ~OutputFile();  // without commit(): the temporary file is removed, the target left as it was
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  std::ostream& stream() { return *out_; }
  // Flushes, syncs and renames into place. InputError naming the target when anything failed.
  void commit();

 private:
  std::string path_;  // the target (symbolic links resolved, so the link stays a link)
  std::string temp_;  // empty when writing in place
  std::unique_ptr<std::ofstream> file_;
  std::ostream* out_ = nullptr;
};

// InputError(output, 0, field, ...) when `output` is the same file as one of `inputs`: writing it would
// destroy an input the command is reading (trace import X -o X).
void refuse_overwriting_input(const std::string& output, const std::vector<std::string>& inputs,
                              const std::string& field);

}  // namespace occult
