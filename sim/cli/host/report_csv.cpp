#include "sim/cli/host/report_csv.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/core/error.hpp"

namespace occult::report {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool ends_field(char c) { return c == ',' || c == '\n' || c == '\r'; }

std::string trimmed(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && is_blank(s[b])) ++b;
  while (e > b && is_blank(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

// Splits the text into records; `line` counts physical lines, including those inside quoted fields.
class Scanner {
 public:
  Scanner(std::string_view text, const std::string& file) : text_(text), file_(file) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
  }

  // False at the end of the input. Blank lines between records are skipped.
  bool next(CsvRecord& rec, const std::vector<std::string>& header) {
    while (pos_ < text_.size() && (text_[pos_] == '\n' || text_[pos_] == '\r')) consume_line_end();
    if (pos_ >= text_.size()) return false;
    rec.line = line_;
    rec.fields.clear();
    for (;;) {
      rec.fields.push_back(field(rec.line, column_name(header, rec.fields.size())));
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size()) consume_line_end();
      return true;
    }
  }

 private:
  static std::string column_name(const std::vector<std::string>& header, std::size_t i) {
    if (i < header.size()) return header[i];
    return "column " + std::to_string(i + 1);
  }

  void consume_line_end() {
    if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
    ++line_;
  }

  std::string field(long rec_line, const std::string& column) {
    std::size_t start = pos_;
    while (pos_ < text_.size() && is_blank(text_[pos_])) ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '"') return quoted(rec_line, column);
    pos_ = start;
    while (pos_ < text_.size() && !ends_field(text_[pos_])) {
      if (text_[pos_] == '"')
        throw InputError(file_, line_, column, "quote inside an unquoted field (quote the whole field)");
      ++pos_;
    }
    return trimmed(text_.substr(start, pos_ - start));
  }

  std::string quoted(long rec_line, const std::string& column) {
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (pos_ >= text_.size())
        throw InputError(file_, rec_line, column, "unterminated quoted field (missing closing \")");
      char c = text_[pos_++];
      if (c == '"') {
        if (pos_ < text_.size() && text_[pos_] == '"') {
          out += '"';
          ++pos_;
          continue;
        }
        break;
      }
      if (c == '\n') ++line_;
      out += c;
    }
    while (pos_ < text_.size() && is_blank(text_[pos_])) ++pos_;
    if (pos_ < text_.size() && !ends_field(text_[pos_]))
      throw InputError(file_, line_, column, "text after the closing quote of a quoted field");
    return out;
  }

  std::string_view text_;
  const std::string& file_;
  std::size_t pos_ = 0;
  long line_ = 1;
};

}  // namespace

long CsvTable::column(std::string_view name) const {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<long>(i);
  return -1;
}

CsvTable parse_csv(std::string_view text, const std::string& file) {
  CsvTable table;
  table.file = file;
  Scanner scan(text, file);
  CsvRecord rec;
  if (!scan.next(rec, table.header)) throw InputError(file, 0, "", "empty file: expected a header line");
  for (std::size_t i = 0; i < rec.fields.size(); ++i) {
    const std::string& name = rec.fields[i];
    if (name.empty())
      throw InputError(file, rec.line, "column " + std::to_string(i + 1), "empty column name in header");
    for (std::size_t j = 0; j < i; ++j)
      if (rec.fields[j] == name) throw InputError(file, rec.line, name, "column appears twice in header");
  }
  table.header = rec.fields;
  while (scan.next(rec, table.header)) {
    if (rec.fields.size() != table.header.size())
      throw InputError(file, rec.line, "",
                       "record has " + std::to_string(rec.fields.size()) + " fields, the header has " +
                           std::to_string(table.header.size()));
    table.records.push_back(rec);
  }
  return table;
}

CsvTable read_csv_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(path, 0, "", "is a directory, not a CSV file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "", std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw InputError(path, 0, "", "read error");
  return parse_csv(buf.str(), path);
}

}  // namespace occult::report
