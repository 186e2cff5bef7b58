#pragma once
// CSV reader for sweep results (RFC 4180): quoted fields with "" escapes, commas and line breaks inside
// quotes, LF or CRLF line ends, an optional UTF-8 byte-order mark, blank lines skipped. Spaces around an
// unquoted field are dropped (hand-edited files often have "a, b"). Every record keeps the line on which
// it starts so that later checks can point at the input.
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

// Throws InputError(file, line, column, message) for: no header, an empty or repeated column name, an
// unterminated quote, a quote inside an unquoted field, text after a closing quote, or a record whose
// field count differs from the header's.
CsvTable parse_csv(std::string_view text, const std::string& file);

// Reads a whole file (InputError when it cannot be read) and parses it.
CsvTable read_csv_file(const std::string& path);

}  // namespace occult::report
