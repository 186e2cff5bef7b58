#pragma once
// The results file of a sweep, kept so that no row it holds is ever lost or corrupted, whenever the
// process dies (docs/guarantees.md):
// - it is an append-only log: the rows of a finished point go in with one write, synced to disk before
//   the point counts as done; nothing rewrites the file while rows are being added;
// - opening it takes an exclusive lock (one sweep per file) and reads it back: a row counts as done
//   only when it is complete and `occult report` would accept it, and its run_id was not seen before;
// - damage left by a process that died is repaired before anything is added: an unfinished last line
//   (a write cut short) is cut off, which leaves every complete row where it was; lines that are not
//   rows of this sweep (garbage, rows cut short and then continued, repeated run_ids, CRLF line ends)
//   are removed by writing the good rows to a temporary file that is renamed over the original, after
//   saving the removed lines to FILE.rejected. At every moment the path holds either the old file or
//   the complete new one.
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace occult::cli {

// What reading a results file back found (no changes made).
struct ResultsScan {
  bool empty = false;          // no complete first line: the header is still to be written
  std::string header_line;     // the first line as found (without its line break)
  bool header_crlf = false;    // the header matched once CRLF line ends or a byte-order mark were set aside
  std::set<std::string> done;  // run_ids of the good rows
  // Byte ranges [begin, end) of the good rows' content (no line break), in file order.
  std::vector<std::pair<std::size_t, std::size_t>> rows;
  struct Rejected {
    long line;
    std::string why, text;
  };
  std::vector<Rejected> rejected;                // complete lines that are not good rows
  std::size_t torn_at = std::string_view::npos;  // where an unfinished last line starts, if any
  std::size_t header_end = 0;                    // byte after the header line's break
};

// Reads `text` as a results file of the sweep whose header is `header`. InputError when its first line
// is the header of another sweep (naming the columns that differ).
ResultsScan scan_results(std::string_view text, const std::string& header, const std::string& file);

class ResultsLog {
 public:
  // Opens (or creates) `path`, locks it, reads it back and repairs it; InputError when it is not a
  // regular file, holds another sweep's results, or another sweep is writing it.
  ResultsLog(const std::string& path, const std::string& header);
  ~ResultsLog();
  ResultsLog(const ResultsLog&) = delete;
  ResultsLog& operator=(const ResultsLog&) = delete;

  const std::set<std::string>& done() const { return done_; }
  // What the repair did, one line each, for the user.
  const std::vector<std::string>& notes() const { return notes_; }
  // Appends complete lines with one write and syncs them to disk.
  void append(std::string_view rows);

 private:
  void open_locked();
  void repair(const std::string& text, const ResultsScan& scan);

  std::string path_, header_;
  int fd_ = -1;
  bool created_ = false, wrote_rows_ = false;
  std::set<std::string> done_;
  std::vector<std::string> notes_;
};

}  // namespace occult::cli
