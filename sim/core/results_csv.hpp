#pragma once
// The results CSV (docs/formats/results-csv.md), a contract between `occult sweep`, which writes it,
// and `occult report`, which reads it: fixed columns, then one column per sweep axis; one row per
// (sweep point, strategy, placement), keyed by run_id. A row is a RunResult (sim/core/run_result.hpp)
// with the configuration it ran in; the CSV keeps of its phases only the slowest device's time in the
// forward phases and the backward total. One column table serves writing and reading.
//
// The text layer is RFC 4180: quoted fields with "" escapes, commas and line breaks inside quotes, LF or
// CRLF line ends, an optional UTF-8 byte-order mark, blank lines skipped. Spaces around an unquoted
// field are dropped (hand-edited files often have "a, b"). Every record keeps the line on which it
// starts so that later checks can point at the input.
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/core/run_result.hpp"

namespace occult {

// ---- the rows ----------------------------------------------------------------------------------

inline constexpr double kNotApplicable =
    std::numeric_limits<double>::quiet_NaN();  // a numeric cell the CSV left empty where allowed

struct ResultRow {
  long line = 0;  // line in the CSV, for messages (0: not read from a file)
  // The configuration the run belongs to.
  std::string run_id, scenario, model, mode, topology, overlap, profile;
  double devices = 0, gpus_per_node = 0, nodes = 0, tokens_per_device = 0;
  std::vector<std::string> axis_values;  // aligned with Results::axis_names
  RunResult run;
};

struct Results {
  std::string file;
  std::vector<std::string> axis_names;  // extra columns, in CSV order
  std::vector<ResultRow> rows;
};

// The fixed columns, in the order `occult sweep` writes them.
const std::vector<std::string>& results_csv_columns();

// The header line (no line break) with the sweep's axis columns after the fixed ones.
std::string results_csv_header(const std::vector<std::string>& axis_keys);
// One row as a line (no line break); `axis_values` are written as given (quoted when needed).
std::string results_csv_line(const ResultRow& r);

// ---- the text ----------------------------------------------------------------------------------

struct CsvRecord {
  long line = 0;  // 1-based line of the record's first character
  std::vector<std::string> fields;
};

struct CsvTable {
  std::string file;                 // for error messages
  std::vector<std::string> header;  // column names, unique and non-empty
  std::vector<CsvRecord> records;   // each has header.size() fields

  // Index of a column, or -1.
  long column(std::string_view name) const;
};

// One record of a lenient scan: its fields, or why it is malformed; where it lies in the text.
struct CsvSpan {
  CsvRecord record;             // fields empty when `error` is set
  std::string error;            // non-empty: the record is malformed (bad quoting)
  std::size_t begin = 0;        // first byte
  std::size_t content_end = 0;  // end of its content, before the line break
  std::size_t end = 0;          // after its line break (or the end of the text)
  bool complete = false;        // a line break follows it (false: the text ends inside it)
};
// Visits every record without stopping at errors: a malformed record ends at its first line break and
// the scan goes on from the next line, so one damaged line cannot swallow the rows after it. Blank
// lines are skipped. `visit` returns false to stop. For reading back a file that may have been
// damaged (the sweep's resume).
void scan_csv_records(std::string_view text, const std::string& file,
                      const std::function<bool(const CsvSpan&)>& visit);

// Throws InputError(file, line, column, message) for: no header, an empty or repeated column name, an
// unterminated quote, a quote inside an unquoted field, text after a closing quote, or a record whose
// field count differs from the header's.
CsvTable parse_csv(std::string_view text, const std::string& file);

// Reads a whole file (InputError when it cannot be read; "-" is standard input) and parses it.
CsvTable read_csv_file(const std::string& path);

// ---- reading rows back -------------------------------------------------------------------------

// Reads records of a results CSV with a given header into typed rows, checked as load_results says.
// The sweep's resume uses it too: a row counts as done only when `occult report` would accept it.
class ResultRowReader {
 public:
  // InputError when a contract column is missing from `header`.
  ResultRowReader(const std::vector<std::string>& header, std::string file);
  ResultRow read(const CsvRecord& rec) const;  // InputError(file, line, column, ...) when malformed
  const std::vector<std::string>& axis_names() const { return axis_names_; }

 private:
  std::string file_;
  std::size_t columns_ = 0;
  std::vector<long> index_;  // per fixed column, its index in the header
  std::vector<long> axis_idx_;
  std::vector<std::string> axis_names_;
};

// Checks every contract column is present and every cell well formed: numbers finite and >= 0, whole
// numbers >= 1 where the column counts things, fractions in [0, 1], t_total_s > 0, a known strategy
// spelling, non-empty identity fields, at least one data row. Throws InputError(file, line, column, ...).
Results load_results(const CsvTable& table);

// The one way to read a results file: read_csv_file, then load_results.
Results read_results(const std::string& path);

}  // namespace occult
