#pragma once
// CSV reader for sweep results (RFC 4180): quoted fields with "" escapes, commas and line breaks inside
// quotes, LF or CRLF line ends, an optional UTF-8 byte-order mark, blank lines skipped. Spaces around an
// unquoted field are dropped (hand-edited files often have "a, b"). Every record keeps the line on which
// it starts so that later checks can point at the input.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace occult::report {

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

}  // namespace occult::report
