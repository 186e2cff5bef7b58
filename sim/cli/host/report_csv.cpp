#include "sim/cli/host/report_csv.hpp"

#include "sim/core/error.hpp"
#include "sim/core/input_file.hpp"

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
    begin_ = pos_;
    for (;;) {
      rec.fields.push_back(field(rec.line, column_name(header, rec.fields.size())));
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      content_end_ = pos_;
      ended_ = pos_ < text_.size();
      if (ended_) consume_line_end();
      return true;
    }
  }

  // After a malformed record (next() threw): continue after the first line break of that record, so
  // that a stray quote cannot swallow the lines after it. Returns where that line's content ends.
  std::size_t skip_line(long rec_line) {
    const std::size_t nl = text_.find('\n', begin_);
    ended_ = nl != std::string_view::npos;
    pos_ = ended_ ? nl + 1 : text_.size();
    line_ = rec_line + (ended_ ? 1 : 0);
    content_end_ = ended_ ? (nl > begin_ && text_[nl - 1] == '\r' ? nl - 1 : nl) : text_.size();
    return content_end_;
  }

  std::size_t record_begin() const { return begin_; }
  std::size_t record_content_end() const { return content_end_; }  // before the line break
  std::size_t position() const { return pos_; }
  bool record_ended() const { return ended_; }  // the record was followed by a line break

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
  std::size_t begin_ = 0, content_end_ = 0;
  bool ended_ = false;
};

}  // namespace

long CsvTable::column(std::string_view name) const {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<long>(i);
  return -1;
}

void scan_csv_records(std::string_view text, const std::string& file,
                      const std::function<bool(const CsvSpan&)>& visit) {
  Scanner scan(text, file);
  CsvSpan span;
  const std::vector<std::string> no_header;
  for (;;) {
    span.error.clear();
    try {
      if (!scan.next(span.record, no_header)) return;
    } catch (const InputError& e) {
      span.record.fields.clear();  // next() set span.record.line before it threw
      span.error = e.message();
      scan.skip_line(span.record.line);
    }
    span.begin = scan.record_begin();
    span.content_end = scan.record_content_end();
    span.end = scan.position();
    span.complete = scan.record_ended();
    if (!visit(span)) return;
  }
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
    if (rec.fields.size() < table.header.size() && !scan.record_ended())
      throw InputError(file, rec.line, "",
                       "incomplete last row: the file ends inside it (a sweep was interrupted or is still "
                       "writing; `occult sweep` removes it when it resumes)");
    if (rec.fields.size() != table.header.size())
      throw InputError(file, rec.line, "",
                       "record has " + std::to_string(rec.fields.size()) + " fields, the header has " +
                           std::to_string(table.header.size()));
    table.records.push_back(rec);
  }
  return table;
}

CsvTable read_csv_file(const std::string& path) {
  InputFile in(path);
  // The table holds every field as a string: tens of bytes per byte of a dense CSV.
  return parse_csv(in.read_all("results file", 24), in.name());
}

}  // namespace occult::report
